"""A TCP proxy the fault tests put between controlroom and PostgreSQL, to take the
database away the two ways networks do: refusing connections, and holding them open
while nothing gets through ("blackhole")."""

from __future__ import annotations

import asyncio
import contextlib
import threading

FORWARD, REFUSE, BLACKHOLE = "forward", "refuse", "blackhole"


class TcpProxy:
    def __init__(self, *, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.mode = FORWARD
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter | None]] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)

    # --- control (from the test's thread) ------------------------------------------------

    def start(self) -> "TcpProxy":
        self._thread.start()
        self._call(self._listen())
        return self

    def refuse(self) -> None:
        """Nothing listens any more, and every open connection is reset."""
        self._call(self._refuse())

    def blackhole(self) -> None:
        """Connections are accepted and kept, bytes are taken and never passed on."""
        self._call(self._set_mode(BLACKHOLE))

    def restore(self) -> None:
        self._call(self._restore())

    def stop(self) -> None:
        self._call(self._refuse())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _call(self, coroutine) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    # --- the proxy (on its own loop) -------------------------------------------------------

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accepted, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _set_mode(self, mode: str) -> None:
        self.mode = mode

    async def _refuse(self) -> None:
        self.mode = REFUSE
        if self._server is not None:
            self._server.close()
            self._server = None
        for client, upstream in list(self._pairs):
            for writer in (client, upstream):
                if writer is not None:
                    writer.transport.abort()
        self._pairs.clear()

    async def _restore(self) -> None:
        self.mode = FORWARD
        # Connections accepted during a blackhole never reached the server: end them,
        # as a network that comes back after a long silence would.
        for client, upstream in list(self._pairs):
            if upstream is None:
                client.transport.abort()
                self._pairs.discard((client, upstream))
        if self._server is None:
            await self._listen()

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == BLACKHOLE:
            pair = (writer, None)
            self._pairs.add(pair)
            with contextlib.suppress(Exception):
                while await reader.read(65536):
                    pass
            self._pairs.discard(pair)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        pair = (writer, up_writer)
        self._pairs.add(pair)
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True)
        self._pairs.discard(pair)
        for w in pair:
            w.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            if self.mode == BLACKHOLE:
                continue  # taken, acknowledged by TCP, never passed on
            writer.write(data)
            await writer.drain()
