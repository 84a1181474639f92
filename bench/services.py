"""What an in-process bench runs against: a real Redis (CONTROLROOM_BENCH_REDIS_URL, or an
embedded redis-server started here) and a migrated SQLite file in a fresh directory."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

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
