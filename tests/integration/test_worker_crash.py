"""kill -9 of the worker at any moment, then a restart, leaves every total exact."""

from __future__ import annotations

import math
import random
import time

import orjson
import redis

from controlroom.bus import keys
from tests.support import BASE_TS, LiveServer, Process, create_room, server_env


def _show_events(count: int, rng: random.Random) -> tuple[list[dict], dict]:
    """A mixed sequence with duplicates, and the totals it must produce."""
    events: list[dict] = []
    totals = {"comments": 0, "likes": 0, "gift_value_cents": 0, "orders_paid": 0, "gmv_cents": 0, "refunds": 0}
    for i in range(count):
        ts = BASE_TS + i * 10
        kind = i % 5
        if kind == 0:
            events.append({"id": f"c{i}", "type": "comment", "ts": ts, "user": {"id": f"u{i % 97}"}, "text": f"第{i}条"})
            totals["comments"] += 1
        elif kind == 1:
            n = rng.randint(1, 40)
            events.append({"id": f"l{i}", "type": "like", "ts": ts, "user": {"id": "u1"}, "count": n})
            totals["likes"] += n
        elif kind == 2:
            value = rng.randint(1, 5000)
            events.append({"id": f"g{i}", "type": "gift", "ts": ts, "user": {"id": "u2"}, "gift": "玫瑰", "value_cents": value})
            totals["gift_value_cents"] += value
        elif kind == 3:
            amount = rng.choice([990, 1990, 5990])
            order = {"type": "order", "ts": ts, "user": {"id": "u3"}, "order_id": f"o{i}", "amount_cents": amount}
            events.append({**order, "id": f"oc{i}", "status": "created"})
            events.append({**order, "id": f"op{i}", "status": "paid", "ts": ts + 1})
            # The same status again under a new message id: counted once per order and status.
            events.append({**order, "id": f"op{i}-again", "status": "paid", "ts": ts + 2})
            totals["orders_paid"] += 1
            totals["gmv_cents"] += amount
            if i % 15 == 3:
                events.append({**order, "id": f"or{i}", "status": "refunded", "ts": ts + 3})
                totals["refunds"] += 1
        else:
            events.append({"id": f"v{i}", "type": "viewers", "ts": ts, "online": 1000 + i})
    return events, totals


def _wait_until_mid_batch(client: redis.Redis, room: str, worker: Process, timeout: float = 30) -> None:
    """Until this worker process holds the room's lease and has read entries it has not
    yet acknowledged: a kill now lands in the middle of a batch."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        holder = (client.get(keys.lease(room)) or b"").decode()
        if f"-{worker.proc.pid}-" in holder:
            summary = client.xpending(keys.stream(room), keys.CONSUMER_GROUP)
            mine = [c for c in summary["consumers"] if c["name"].decode() == holder]
            if mine and mine[0]["pending"] > 0:
                return
        time.sleep(0.001)
    raise AssertionError(f"worker {worker.proc.pid} never got mid-batch:\n{worker.log_text()[-2000:]}")


def test_totals_are_exact_after_repeated_kill_9_of_the_worker(database_url, own_redis_url, tmp_path):
    redis_url = own_redis_url
    rng = random.Random(7)
    room = create_room(database_url, redis_url)
    env = server_env(
        redis_url=redis_url, database_url=database_url, data_dir=tmp_path,
        CONTROLROOM_WORKER_BATCH="10", CONTROLROOM_LEASE_TTL_MS="1500", CONTROLROOM_WORKER_BLOCK_MS="50",
    )
    web = LiveServer(env, tmp_path / "web.log", worker=False).start()
    events, totals = _show_events(6000, rng)
    client = redis.Redis.from_url(redis_url)
    worker = Process(["worker"], env, tmp_path / "worker.log").start()
    kills = 0
    try:
        accepted = 0
        for start in range(0, len(events), 1500):
            chunk = events[start : start + 1500]
            # Every chunk carries some repeats of ids already sent.
            chunk = chunk + rng.sample(events[: start + 1], k=min(20, start + 1))
            response = web.post_events(room, chunk)
            assert response.status_code == 200, response.text
            accepted += response.json()["accepted"]
            _wait_until_mid_batch(client, room, worker)
            worker.kill()
            kills += 1
            worker = Process(["worker"], env, tmp_path / "worker.log").start()

        state = web.wait_for_state(room, lambda s: s["events_applied"] == accepted, timeout=60)
        time.sleep(1.0)  # nothing more may be applied after catching up
        state = web.state(room)
        assert state["events_applied"] == accepted
        for name, expected in totals.items():
            assert state[name] == expected, (name, state[name], expected)
        assert kills == math.ceil(len(events) / 1500) >= 4
        taken = [line for line in worker.log_text().splitlines() if "worker.room_taken" in line and f"room={room}" in line]
        assert len(taken) == kills + 1  # each new worker recovered the room
        assert client.xpending(keys.stream(room), keys.CONSUMER_GROUP)["pending"] == 0
    finally:
        worker.terminate()
        web.terminate()
        client.close()


def test_sigterm_stops_serve_cleanly_with_everything_checkpointed(database_url, own_redis_url, tmp_path):
    redis_url = own_redis_url
    room = create_room(database_url, redis_url)
    live = LiveServer(server_env(redis_url=redis_url, database_url=database_url, data_dir=tmp_path), tmp_path / "log")
    live.start()
    client = redis.Redis.from_url(redis_url)
    try:
        events = [{"id": f"l{i}", "type": "like", "ts": BASE_TS + i, "user": {"id": "u"}, "count": 2} for i in range(3000)]
        assert live.post_events(room, events).json()["accepted"] == 3000
        live.terminate(timeout=15)
        # uvicorn re-raises SIGTERM after its graceful shutdown, so the exit status is
        # -15 either way; the log says whether the shutdown ran to its end.
        log = live.log_text()
        assert "worker.stopped" in log and "controlroom.stopped" in log
        # The lease is handed back at once, not left to expire.
        assert client.get(keys.lease(room)) is None
        # Whatever was read was checkpointed and acknowledged before the exit, and the
        # checkpoint holds exactly the entries up to its last id.
        assert client.xpending(keys.stream(room), keys.CONSUMER_GROUP)["pending"] == 0
        checkpoint = client.hgetall(keys.checkpoint(room))
        applied = len(client.xrange(keys.stream(room), max=checkpoint[b"last_id"]))
        assert applied > 0
        assert orjson.loads(checkpoint[b"state"])["likes"] == 2 * applied
        assert int(client.get(keys.backlog(room)) or 0) == 3000 - applied
    finally:
        live.terminate()
        client.close()
