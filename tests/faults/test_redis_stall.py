"""Redis stalls (SIGSTOP) and crashes (kill -9, restarted from its AOF) under a running
controlroom: what a sender sees is a prompt 503 with Retry-After, never a hang, and once
Redis is back every event the sender got a 200 for is counted exactly once."""

from __future__ import annotations

import asyncio
import time

import httpx
import orjson

from controlroom.bus import keys
from controlroom.bus.client import connect
from controlroom.bus.pubsub import listen_forever
from tests.support import BASE_TS, LiveServer, Process, comment, create_room, server_env

SOCKET_TIMEOUT_S = 2.0
CONNECT_TIMEOUT_S = 1.0
# The ingest must answer within the socket timeout and this much more (the request's own
# work, the connection set-up, a loaded CI machine).
SLACK_S = 2.0


class Sender:
    """A feed as the contract asks it to behave: every event has an id of its own, and a
    batch that was not answered 200 is sent again, unchanged, until it is."""

    def __init__(self, live: LiveServer, room: str) -> None:
        self.live, self.room = live, room
        self.next_id = 0
        self.confirmed: set[str] = set()

    def batch(self, size: int) -> list[dict]:
        events = [comment(f"c{self.next_id + i}", f"第{self.next_id + i}条", ts=BASE_TS + self.next_id + i)
                  for i in range(size)]
        self.next_id += size
        return events

    def post(self, events: list[dict]) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        response = self.live.post_events(self.room, events)
        elapsed = time.monotonic() - started
        if response.status_code == 200:
            self.confirmed.update(event["id"] for event in events)
        return response, elapsed

    def post_until_stored(self, events: list[dict], timeout_s: float = 20) -> tuple[httpx.Response, float]:
        """Returns the 200 and how long it took to get it."""
        started = time.monotonic()
        while True:
            response, _ = self.post(events)
            if response.status_code == 200:
                return response, time.monotonic() - started
            assert response.status_code == 503, response.text
            assert time.monotonic() - started < timeout_s, f"still {response.status_code} after {timeout_s}s"
            time.sleep(0.1)


def _assert_prompt_503(response: httpx.Response, elapsed: float, what: str) -> None:
    print(f"{what}: {response.status_code} in {elapsed:.2f} s")
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["detail"]
    assert elapsed <= SOCKET_TIMEOUT_S + SLACK_S, f"{what}: answered after {elapsed:.2f}s"


def _checkpoint(client, room: str) -> dict:
    raw = client.hget(keys.checkpoint(room), "state")
    return orjson.loads(raw) if raw else {}


def test_ingest_answers_503_promptly_while_redis_is_stalled_or_down_and_totals_stay_exact(
    own_database_url, redis_server, tmp_path
):
    room = create_room(own_database_url, redis_server.url)
    env = server_env(
        redis_url=redis_server.url, database_url=own_database_url, data_dir=tmp_path,
        CONTROLROOM_REDIS_SOCKET_TIMEOUT_S=str(SOCKET_TIMEOUT_S),
        CONTROLROOM_REDIS_CONNECT_TIMEOUT_S=str(CONNECT_TIMEOUT_S),
    )
    # The worker runs apart, as it does past one machine: the web process's answer times
    # are then the ingest path's own.
    live = LiveServer(env, tmp_path / "serve.log", worker=False).start()
    worker = Process(["worker"], env, tmp_path / "worker.log").start()
    sender = Sender(live, room)
    client = redis_server.client()
    try:
        response, _ = sender.post(sender.batch(50))
        assert response.status_code == 200, response.text
        live.wait_for_state(room, lambda s: s["comments"] == 50)

        # Stalled: the server holds its connections open and answers nothing.
        redis_server.pause()
        stalled_batches = [sender.batch(20), sender.batch(20)]
        try:
            for n, events in enumerate(stalled_batches, 1):
                _assert_prompt_503(*sender.post(events), f"ingest while Redis is stopped (SIGSTOP), request {n}")
        finally:
            redis_server.resume()
        # A command that timed out may still run when Redis wakes up: the sender's
        # retry is what makes the outcome certain, and repeats are dropped by id.
        for events in stalled_batches:
            response, took = sender.post_until_stored(events)
            print(f"after SIGCONT: 200 in {took:.2f} s; of the stalled batch, {response.json()['duplicates']} "
                  f"of {len(events)} had been stored anyway")
        response, _ = sender.post(sender.batch(30))
        assert response.status_code == 200, response.text

        # Down: kill -9, then up again from the AOF on the same port.
        redis_server.crash()
        down_batch = sender.batch(20)
        _assert_prompt_503(*sender.post(down_batch), "ingest while Redis is down (kill -9)")
        redis_server.start()
        response, took = sender.post_until_stored(down_batch)
        print(f"after the restart from AOF: 200 in {took:.2f} s")
        response, _ = sender.post(sender.batch(30))
        assert response.status_code == 200, response.text

        expected = len(sender.confirmed)
        assert expected == sender.next_id  # every batch was eventually answered 200
        deadline = time.monotonic() + 20
        while _checkpoint(client, room).get("events_applied") != expected:
            assert time.monotonic() < deadline, f"applied {_checkpoint(client, room)} of {expected}"
            time.sleep(0.05)
        time.sleep(0.5)  # nothing more may be applied after catching up
        state = live.state(room)
        assert (state["events_applied"], state["comments"]) == (expected, expected)
        assert client.xpending(keys.stream(room), keys.CONSUMER_GROUP)["pending"] == 0
        assert int(client.get(keys.backlog(room)) or 0) == 0
    finally:
        worker.terminate()
        live.terminate()
        client.close()


async def test_an_idle_subscription_and_a_blocking_read_outlive_the_socket_timeout(redis_server):
    """Neither waiting for a pub/sub message nor a worker's XREAD BLOCK is a stalled
    server: both may wait longer than the socket timeout without an error."""
    client = connect(redis_server.url, socket_timeout_s=0.5, longest_block_ms=1000)
    received, lost = [], []
    listener = asyncio.create_task(listen_forever(
        client, channels=("idle-test",), name="idle_test", on_message=received.append, on_lost=lambda: lost.append(1),
    ))
    try:
        started = time.monotonic()
        assert await client.xread({"idle-stream": "$"}, block=1000) in (None, [], {})
        assert time.monotonic() - started >= 0.9
        await asyncio.sleep(1.0)  # the subscription has been idle for twice the socket timeout
        await client.publish("idle-test", b"still here")
        deadline = time.monotonic() + 2
        while not received and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert [m["data"] for m in received] == [b"still here"]
        assert lost == []
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await client.aclose()
