"""What an in-process bench runs against: a real Redis (CONTROLROOM_BENCH_REDIS_URL, or an
embedded redis-server started here) and a migrated SQLite file in a fresh directory."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from controlroom.bus.embedded import EmbeddedRedis
from controlroom.db.session import upgrade


@contextlib.contextmanager
def redis_and_sqlite(name: str) -> Iterator[tuple[str, str]]:
    """(redis url, database url) for the bench called `name`; the embedded Redis stops after."""
    work = Path(tempfile.mkdtemp(prefix=f"controlroom-bench-{name}-"))
    redis_url = os.environ.get("CONTROLROOM_BENCH_REDIS_URL")
    embedded = None
    if not redis_url:
        embedded = EmbeddedRedis(work)
        redis_url = embedded.start()
    database_url = f"sqlite:///{work / 'bench.sqlite3'}"
    upgrade(database_url)
    try:
        yield redis_url, database_url
    finally:
        if embedded is not None:
            embedded.stop()


def work_dir(database_url: str) -> Path:
    """The bench's fresh directory (where its SQLite file is): a server's data dir."""
    return Path(database_url.removeprefix("sqlite:///")).parent


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0 elsewhere)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_healthy(url: str, timeout_s: float = 30) -> None:
    """Until `url`/healthz answers 200 (a server or serve's ingest process coming up)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} never answered /healthz")
        time.sleep(0.1)
