"""Two `controlroom worker` processes share two rooms, one each, while events flow in;
one of them dies (kill -9), stops cleanly (SIGTERM) or hangs (SIGSTOP); or a lone worker
is killed and restarted. What the team sees: the room's numbers move again within 3 s
(within about 1 s after a SIGTERM or a restart), and every total is exact afterwards."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import orjson
import pytest
import redis

from controlroom.bus import keys
from tests.support import BASE_TS, LiveServer, Process, create_room, server_env

TAKEOVER_BOUND_S = 3.0
HANDOVER_BOUND_S = 1.5


class Feeder(threading.Thread):
    """Posts a small batch of likes to each room every few tens of milliseconds, as
    platform pushes would, and keeps what each room must end with."""

    def __init__(self, web: LiveServer, rooms: list, every_s: float = 0.03) -> None:
        super().__init__(daemon=True)
        self.web, self.rooms, self.every_s = web, rooms, every_s
        self.stopped = threading.Event()
        self.accepted = dict.fromkeys(rooms, 0)
        self.likes = dict.fromkeys(rooms, 0)
        self.failures: list[str] = []

    def run(self) -> None:
        n = 0
        with httpx.Client(timeout=10) as http:
            while not self.stopped.is_set():
                for room in self.rooms:
                    events = [{"id": f"l{n + i}", "type": "like", "ts": BASE_TS + n + i, "user": {"id": f"u{i}"},
                               "count": 1 + (n + i) % 7} for i in range(5)]
                    n += len(events)
                    response = http.post(f"{self.web.url}/api/rooms/{room}/events", content=orjson.dumps(events),
                                         headers={"content-type": "application/json", "x-api-key": room.api_key})
                    if response.status_code == 200:
                        self.accepted[room] += response.json()["accepted"]
                        self.likes[room] += sum(event["count"] for event in events)
                    else:
                        self.failures.append(f"{response.status_code} {response.text[:200]}")
                time.sleep(self.every_s)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=15)


def _checkpoint(client: redis.Redis, room: str) -> tuple[bytes | None, dict]:
    last_id, state = client.hmget(keys.checkpoint(room), ["last_id", "state"])
    return last_id, (orjson.loads(state) if state else {})


def _holds(worker: Process, holder: bytes | None) -> bool:
    return holder is not None and f"-{worker.proc.pid}-" in holder.decode()


def _settled(client: redis.Redis, rooms: list, workers: list[Process], timeout: float = 20) -> list[Process]:
    """Once each worker holds one room (its fair share) and has applied events there:
    the holder of each room, in order."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        holders = [client.get(keys.lease(room)) for room in rooms]
        owners = [next((w for w in workers if _holds(w, holder)), None) for holder in holders]
        applied = all(_checkpoint(client, room)[1].get("events_applied", 0) > 0 for room in rooms)
        if None not in owners and len(set(owners)) == len(rooms) and applied:
            return owners
        time.sleep(0.05)
    raise AssertionError("the workers never settled on a room each:\n"
                         + "\n".join(w.log_text()[-1500:] for w in workers))


def _seconds_until_taken_over(client: redis.Redis, room: str, survivor: Process, since: float,
                              timeout: float = 10) -> float:
    """From `since` until the survivor holds the room's lease and has moved its checkpoint
    (a checkpoint the old holder sent just before it went may still land meanwhile)."""
    last_before = _checkpoint(client, room)[0]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        holder, (last_id, _) = client.get(keys.lease(room)), _checkpoint(client, room)
        if not _holds(survivor, holder):
            last_before = last_id
        elif last_id != last_before:
            return time.monotonic() - since
        time.sleep(0.005)
    raise AssertionError(f"room {room} was not taken over within {timeout}s:\n{survivor.log_text()[-2000:]}")


def _assert_exact_totals(client: redis.Redis, feeder: Feeder) -> None:
    feeder.stop()
    assert feeder.failures == []
    for room in feeder.rooms:
        deadline = time.monotonic() + 15
        while (state := _checkpoint(client, room)[1]).get("events_applied") != feeder.accepted[room]:
            assert time.monotonic() < deadline, f"applied {state.get('events_applied')} of {feeder.accepted[room]}"
            time.sleep(0.05)
    time.sleep(0.5)  # nothing more may be applied after catching up
    for room in feeder.rooms:
        state = _checkpoint(client, room)[1]
        assert (state["events_applied"], state["likes"]) == (feeder.accepted[room], feeder.likes[room])
        assert client.xpending(keys.stream(room), keys.CONSUMER_GROUP)["pending"] == 0
        assert int(client.get(keys.backlog(room)) or 0) == 0


@dataclass
class Show:
    rooms: list
    web: LiveServer
    workers: list[Process]
    client: redis.Redis
    feeder: Feeder
    env: dict
    tmp_path: Path


@pytest.fixture
def show(own_database_url, redis_server, tmp_path):
    """A web process and a feed running into two rooms; workers are started by the test."""
    rooms = [create_room(own_database_url, redis_server.url) for _ in range(2)]
    env = server_env(redis_url=redis_server.url, database_url=own_database_url, data_dir=tmp_path)
    web = LiveServer(env, tmp_path / "web.log", worker=False).start()
    show = Show(rooms, web, [], redis_server.client(), Feeder(web, rooms), env, tmp_path)
    show.feeder.start()
    try:
        yield show
    finally:
        show.feeder.stop()
        for worker in show.workers:
            if worker.proc.poll() is None:
                os.kill(worker.proc.pid, signal.SIGCONT)
            worker.terminate()
        web.terminate()
        show.client.close()


def _start_worker(show: Show) -> Process:
    worker = Process(["worker"], show.env, show.tmp_path / f"worker{len(show.workers) + 1}.log").start()
    show.workers.append(worker)
    return worker


def _two_workers_settled(show: Show) -> tuple[str, Process, Process]:
    """Two workers, one room each: the room of the worker the test will fault, that
    worker, and the survivor (already at its fair share while the other one counts)."""
    _start_worker(show), _start_worker(show)
    owners = _settled(show.client, show.rooms, show.workers)
    return show.rooms[0], owners[0], owners[1]


def test_after_a_kill_9_of_a_worker_the_other_one_moves_its_rooms_numbers_within_3_s(show):
    room, victim, survivor = _two_workers_settled(show)
    killed_at = time.monotonic()
    victim.kill()
    took = _seconds_until_taken_over(show.client, room, survivor, since=killed_at)
    print(f"kill -9 of a worker: its room's numbers move again after {took:.2f} s")
    assert took <= TAKEOVER_BOUND_S
    # Same machine: the survivor saw the process was gone and did not wait for the lease.
    assert "worker.lease_taken_from_dead_worker" in survivor.log_text()
    time.sleep(1.0)
    _assert_exact_totals(show.client, show.feeder)


def test_after_a_sigterm_of_a_worker_the_other_one_takes_its_room_at_once(show):
    room, victim, survivor = _two_workers_settled(show)
    stopped_at = time.monotonic()
    victim.proc.send_signal(signal.SIGTERM)
    took = _seconds_until_taken_over(show.client, room, survivor, since=stopped_at)
    print(f"SIGTERM of a worker: its room's numbers move again after {took:.2f} s")
    assert victim.proc.wait(timeout=10) == 0
    assert "worker.stopped" in victim.log_text()
    assert took <= HANDOVER_BOUND_S
    # Handed over: not taken from a dead worker, nor left to run out.
    assert "lease_taken_from_dead_worker" not in survivor.log_text()
    time.sleep(1.0)
    _assert_exact_totals(show.client, show.feeder)


def test_a_hung_worker_loses_its_room_when_its_lease_runs_out_and_cannot_write_when_it_wakes(show):
    """SIGSTOP: the process is there but does nothing, like a hung worker or one on another
    machine that died or lost its network. Nobody can tell it is gone: its lease and its
    heartbeat must run out, and the survivor must not wait longer than that because the
    hung worker still counted when the rooms were shared out."""
    room, victim, survivor = _two_workers_settled(show)
    stopped_at = time.monotonic()
    os.kill(victim.proc.pid, signal.SIGSTOP)
    took = _seconds_until_taken_over(show.client, room, survivor, since=stopped_at)
    print(f"SIGSTOP of a worker: its room's numbers move again after {took:.2f} s")
    assert took <= TAKEOVER_BOUND_S
    # It wakes up in the middle of whatever it was doing: its reads and checkpoints are
    # refused, and the rooms are shared out between the two again.
    os.kill(victim.proc.pid, signal.SIGCONT)
    _settled(show.client, show.rooms, show.workers)
    _assert_exact_totals(show.client, show.feeder)
    assert "worker.lease_not_renewed" in victim.log_text()


def test_a_lone_worker_restarted_after_a_kill_9_resumes_at_once(show):
    # A lease far longer than a restart takes, so that waiting for it would show.
    lease_s = 10
    show.env = {**show.env, "CONTROLROOM_LEASE_TTL_MS": str(lease_s * 1000)}
    first = _start_worker(show)
    _settled(show.client, show.rooms[:1], show.workers)
    killed_at = time.monotonic()
    first.kill()
    restarted = _start_worker(show)
    for room in show.rooms:
        took = _seconds_until_taken_over(show.client, room, restarted, since=killed_at)
        assert took < lease_s / 2
    log_lines = restarted.log_text().splitlines()
    started = _log_time(next(line for line in log_lines if "worker.started" in line))
    taken = max(_log_time(line) for line in log_lines if "worker.room_taken" in line)
    print(f"a lone worker restarted after kill -9: its rooms taken {taken - started:.2f} s after it started")
    assert taken - started < 1.0
    assert "worker.lease_taken_from_dead_worker" in restarted.log_text()
    _assert_exact_totals(show.client, show.feeder)


def _log_time(line: str) -> float:
    return datetime.fromisoformat(line.split()[0].replace("Z", "+00:00")).timestamp()
