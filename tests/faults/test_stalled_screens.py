"""A screen that stops reading is disconnected. Once the connection's buffers are full,
the server waits at most CONTROLROOM_CLIENT_SEND_TIMEOUT_S for it to take a frame, then
resets the TCP connection: a polite close would wait behind the same full buffers for
ever, and the socket with them. The room's other screens keep getting frames."""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import re
import select
import socket
import threading
import time

import httpx
import pytest
import websockets

from tests.support import BASE_TS, LiveServer, comment, cookie_header, create_room, server_env

SEND_TIMEOUT_S = 2.0
# The stalled client's receive buffer: small, so the server's side fills soon.
CLIENT_RCVBUF = 4096
# From the moment the client stops reading: the buffers fill (the server keeps them small;
# this room sends a control room well over 100 kB a second: about a second here), then
# the send timeout runs, then the reset. The rest is margin for a loaded machine.
CLOSED_WITHIN_S = SEND_TIMEOUT_S + 8.0
_ids = itertools.count()


@pytest.fixture
def busy_server(tmp_path, own_redis_url, database_url):
    # Everything on the main port: the screens are what this is about.
    env = server_env(redis_url=own_redis_url, database_url=database_url, data_dir=tmp_path,
                     CONTROLROOM_CLIENT_SEND_TIMEOUT_S=str(SEND_TIMEOUT_S), CONTROLROOM_INGEST_PORT="0")
    live = LiveServer(env, tmp_path / "server.log").start()
    room = create_room(database_url, own_redis_url)
    yield live, room
    live.terminate()


class Feed:
    """A busy room: batches of long comments, so every push to a control room carries
    several kB of new comment feed."""

    def __init__(self, live: LiveServer, room: str) -> None:
        self.live, self.room = live, room
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self.stop.is_set():
                batch = [comment(f"busy{n}", f"第{n}条：" + "这件外套有没有大一号的？" * 12, ts=BASE_TS + n,
                                 user=f"u{n % 500}", name=f"观众{n % 500}")
                         for n in (next(_ids) for _ in range(30))]
                client.post(f"{self.live.url}/api/rooms/{self.room}/events", json=batch,
                            headers={"x-api-key": self.room.api_key})
                self.stop.wait(0.1)

    def __enter__(self) -> "Feed":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=15)


def open_stalled_screen(live: LiveServer, room: str) -> socket.socket:
    """A control-room websocket by hand: the handshake is read, then nothing ever again."""
    sock = socket.socket()
    # Before connecting, so the advertised window stays small.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CLIENT_RCVBUF)
    sock.connect(("127.0.0.1", live.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /ws/rooms/{room}?lang=en HTTP/1.1\r\nHost: 127.0.0.1:{live.port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Cookie: {cookie_header(live.admin)['Cookie']}\r\n\r\n".encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(1)
        assert chunk, f"connection closed during the handshake: {answer!r}"
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """Without reading: a reset (or a FIN) from the server shows as HUP/ERR/RDHUP."""
    poller = select.poll()
    poller.register(sock, select.POLLERR | select.POLLHUP | select.POLLRDHUP)
    return bool(poller.poll(0))


def websocket_clients(live: LiveServer, room: str) -> int:
    metrics = httpx.get(f"{live.url}/metrics", timeout=10).text
    match = re.search(rf'controlroom_websocket_clients\{{room="{re.escape(room)}"\}} (\S+)', metrics)
    return int(float(match.group(1))) if match else 0


async def test_a_screen_that_stops_reading_is_cut_off_and_the_others_keep_their_frames(busy_server):
    live, room = busy_server
    async with websockets.connect(f"{live.ws_url}/ws/rooms/{room}?lang=en",
                                  additional_headers=cookie_header(live.admin), max_size=None) as reader:
        await reader.recv()  # the snapshot
        frames_at: list[float] = []

        async def read_along() -> None:
            while True:
                await reader.recv()
                frames_at.append(time.monotonic())

        reading = asyncio.create_task(read_along())
        with Feed(live, room):
            stalled = await asyncio.to_thread(open_stalled_screen, live, room)
            stalled_since = time.monotonic()
            try:
                while not closed_by_server(stalled):
                    assert time.monotonic() - stalled_since < CLOSED_WITHIN_S, (
                        f"the stalled screen is still connected after {CLOSED_WITHIN_S} s"
                    )
                    await asyncio.sleep(0.05)
                cut_off_after = time.monotonic() - stalled_since
                with pytest.raises(OSError):  # a reset, not a close handshake nobody could read
                    while stalled.recv(65536):
                        pass
            finally:
                stalled.close()
            await asyncio.sleep(1.0)
            reading.cancel()
            # The server let go of it: only the reading screen is left in the room.
            assert await asyncio.to_thread(websocket_clients, live, room) == 1
        assert "screen.stalled" in live.log_text()

    print(f"stalled screen cut off after {cut_off_after:.1f} s")
    during = [t for t in frames_at if stalled_since <= t <= stalled_since + cut_off_after]
    after = [t for t in frames_at if t > stalled_since + cut_off_after]
    # The reading screen got its pushes (≤ 10 a second) all along, and still does.
    assert len(during) >= cut_off_after * 3, (len(during), cut_off_after)
    assert after, "the reading screen got no frame after the stalled one was cut off"
    largest_gap = max(b - a for a, b in itertools.pairwise(frames_at))
    assert largest_gap < SEND_TIMEOUT_S, f"the reading screen waited {largest_gap:.1f} s for a frame"
