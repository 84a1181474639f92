"""Cutting PostgreSQL connections that wait for an answer that cannot come.

A server that stopped answering while the network still accepts our bytes (a
blackholed route, a hung proxy) defeats every timeout PostgreSQL and TCP offer: the
statement timeout needs the server, and the kernel's acknowledgements keep TCP happy.
So each statement, commit, rollback and ping registers the socket it waits on, and a
watchdog thread shuts down any socket that has waited past its limit; the waiting
call then fails at once (the route answers 503) instead of hanging until the server
comes back."""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

import structlog
from sqlalchemy import Engine, event

log = structlog.get_logger(__name__)

CHECK_EVERY_S = 0.25


class Watchdog:
    def __init__(self, limit_s: float) -> None:
        self.limit_s = limit_s
        self._waiting: dict[int, tuple[int, float]] = {}  # id(dbapi connection) -> (fd, deadline)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def waiting(self, dbapi_connection: Any) -> None:
        fd = _socket_of(dbapi_connection)
        if fd is None:
            return
        with self._lock:
            self._waiting[id(dbapi_connection)] = (fd, time.monotonic() + self.limit_s)
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="sql-watchdog", daemon=True)
                self._thread.start()

    def answered(self, dbapi_connection: Any) -> None:
        with self._lock:
            self._waiting.pop(id(dbapi_connection), None)

    def _watch(self) -> None:
        while True:
            time.sleep(CHECK_EVERY_S)
            now = time.monotonic()
            with self._lock:
                overdue = [(key, fd) for key, (fd, deadline) in self._waiting.items() if deadline <= now]
                for key, _ in overdue:
                    del self._waiting[key]
            for _, fd in overdue:
                _cut(fd)


def _socket_of(dbapi_connection: Any) -> int | None:
    pgconn = getattr(dbapi_connection, "pgconn", None)  # psycopg 3
    try:
        return pgconn.socket if pgconn is not None else None
    except Exception:  # noqa: BLE001 - a closed connection has no socket
        return None


def _cut(fd: int) -> None:
    try:
        # A duplicate of the descriptor: shutting it down ends the connection for the
        # thread waiting on the original, without closing a number another may reuse.
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
        log.warning("database.connection_cut", reason="no answer within the statement timeout")
    except OSError:
        pass


def guard(engine: Engine, limit_s: float) -> Watchdog:
    """Register the engine's waits with a watchdog (PostgreSQL only)."""
    dog = Watchdog(limit_s)

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        dog.waiting(conn.connection.dbapi_connection)

    def after(conn, *args) -> None:
        dog.answered(conn.connection.dbapi_connection)

    def failed(context) -> None:
        if context.connection is not None and not context.connection.closed:
            dog.answered(context.connection.connection.dbapi_connection)

    def ending(conn) -> None:
        dog.waiting(conn.connection.dbapi_connection)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    event.listen(engine, "handle_error", failed)
    event.listen(engine, "commit", ending)
    event.listen(engine, "rollback", ending)
    event.listen(engine.pool, "reset", lambda dbapi_connection, record, state: dog.waiting(dbapi_connection))
    event.listen(engine.pool, "checkin", lambda dbapi_connection, record: dog.answered(dbapi_connection))

    ping = engine.dialect.do_ping

    def guarded_ping(dbapi_connection) -> bool:
        dog.waiting(dbapi_connection)
        try:
            return ping(dbapi_connection)
        finally:
            dog.answered(dbapi_connection)

    # pool_pre_ping checks out through the dialect's ping, which no engine event sees.
    engine.dialect.do_ping = guarded_ping  # type: ignore[method-assign]
    return dog
