"""Fan-out hub: room updates from Redis pub/sub to websocket clients.

Workers publish on a room's channel after each checkpoint; every web process listens
(so several processes show the same thing). Per room, one loop renders the panels at
most `max_hz` times a second, only when something changed (or once a second, for the
values that move with the clock), and offers each client a frame holding just the
panels whose HTML changed. Rendering is shared by all clients of a room and language.

Each client has a bounded queue. A client too slow to drain it loses the queued frames
and receives a full snapshot instead: memory stays bounded and the screen ends up
right.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import redis.asyncio as aioredis
import structlog

from controlroom.bus import keys
from controlroom.bus.pubsub import listen_to_rooms
from controlroom.live.view import RoomView
from controlroom.observability import FANOUT_DROPS, WEBSOCKET_CLIENTS

log = structlog.get_logger(__name__)

# load(room) -> the room's current view.
# render(view, locale, since) -> {panel id: html}. `since` is the view of the previous
# push (None for a snapshot: continue from nothing), so that append-only panels (the
# comment feed) render just what is new. An empty string means "nothing to send".
LoadView = Callable[[str], Awaitable[RoomView]]
RenderPanels = Callable[[RoomView, str, "RoomView | None"], dict[str, str]]

RESYNC = object()


@dataclass(eq=False)
class Client:
    room: str
    locale: str
    queue: asyncio.Queue[Any]
    # The panels this screen shows (None: all); the others are never sent to it.
    panels: frozenset[str] | None = None
    dropped: int = 0

    def wants(self, panel: str) -> bool:
        return self.panels is None or panel in self.panels

    def offer(self, frame: str) -> None:
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.dropped += 1
            FANOUT_DROPS.labels(room=self.room).inc()
            self.queue.put_nowait(RESYNC)

    async def next_frame(self) -> Any:
        return await self.queue.get()


@dataclass(eq=False)
class RoomChannel:
    room: str
    clients: set[Client] = field(default_factory=set)
    dirty: asyncio.Event = field(default_factory=asyncio.Event)
    # locale -> panel -> last html offered to clients
    sent: dict[str, dict[str, str]] = field(default_factory=dict)
    # The view behind the last push (what append-only panels continue from).
    last_view: RoomView | None = None
    task: asyncio.Task[None] | None = None


class Hub:
    def __init__(
        self,
        client: aioredis.Redis,
        *,
        load_view: LoadView,
        render_panels: RenderPanels,
        max_hz: float = 10.0,
        queue_frames: int = 64,
        idle_refresh_s: float = 1.0,
    ) -> None:
        self.redis = client
        self.load_view = load_view
        self.render_panels = render_panels
        self.min_interval = 1.0 / max_hz
        self.queue_frames = queue_frames
        # Without updates, panels are still re-rendered this often: some values move
        # with the clock alone (rates per minute, "feed silent").
        self.idle_refresh_s = idle_refresh_s
        self.channels: dict[str, RoomChannel] = {}
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="hub-listener")

    async def stop(self) -> None:
        tasks = [c.task for c in self.channels.values() if c.task] + ([self._listener] if self._listener else [])
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.channels.clear()

    # --- clients ---------------------------------------------------------------------

    def connect(self, room: str, locale: str, panels: frozenset[str] | None = None) -> Client:
        client = Client(room=room, locale=locale, queue=asyncio.Queue(maxsize=self.queue_frames), panels=panels)
        channel = self.channels.get(room)
        if channel is None:
            channel = self.channels[room] = RoomChannel(room)
        channel.clients.add(client)
        if channel.task is None or channel.task.done():
            channel.task = asyncio.create_task(self._room_loop(channel), name=f"hub-room-{room}")
        WEBSOCKET_CLIENTS.labels(room=room).inc()
        return client

    def disconnect(self, client: Client) -> None:
        channel = self.channels.get(client.room)
        if channel is None or client not in channel.clients:
            return
        channel.clients.discard(client)
        WEBSOCKET_CLIENTS.labels(room=client.room).dec()
        if not channel.clients:
            if channel.task:
                channel.task.cancel()
            del self.channels[client.room]

    async def snapshot(self, client: Client) -> str:
        """Every panel the client shows, for a client that (re)connects or fell behind.
        Append-only panels continue from nothing: the page keeps what it has (a feed of
        hundreds, a paused inbox) and drops what it already shows."""
        view = await self.load_view(client.room)
        panels = self.render_panels(view, client.locale, None)
        return "".join(html for panel, html in panels.items() if client.wants(panel))

    # --- the loops -------------------------------------------------------------------

    async def _room_loop(self, channel: RoomChannel) -> None:
        loop = asyncio.get_running_loop()
        last_render = 0.0
        while channel.clients:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(channel.dirty.wait(), timeout=self.idle_refresh_s)
            wait = last_render + self.min_interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)  # coalesce: updates arriving now join this frame
            channel.dirty.clear()
            last_render = loop.time()
            try:
                self._push_changes(channel, await self.load_view(channel.room))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - one bad render must not freeze the room's screens
                log.exception("hub.render_failed", room=channel.room, error=str(exc))

    def _push_changes(self, channel: RoomChannel, view: RoomView) -> None:
        # The first push of a room continues from nothing: clients drop what they have.
        since, channel.last_view = channel.last_view, view
        for locale in {c.locale for c in channel.clients}:
            panels = self.render_panels(view, locale, since)
            previous = channel.sent.setdefault(locale, {})
            changed = {panel: html for panel, html in panels.items() if html and previous.get(panel) != html}
            if not changed:
                continue
            previous.update(panels)
            # One frame per set of panels (the control room's, the host's, ...), joined
            # once and shared by every screen of that kind.
            frames: dict[frozenset[str] | None, str] = {}
            for client in list(channel.clients):
                if client.locale != locale:
                    continue
                frame = frames.get(client.panels)
                if frame is None:
                    frame = frames[client.panels] = "".join(
                        html for panel, html in changed.items() if client.wants(panel))
                if frame:
                    client.offer(frame)

    async def _listen(self) -> None:
        await listen_to_rooms(self.redis, rooms=lambda: self.channels, on_message=self._updated,
                              on_lost=self._everything_dirty, name="hub")

    def _updated(self, message: dict) -> None:
        channel = self.channels.get(keys.room_from_channel(message["channel"].decode()))
        if channel is not None:
            channel.dirty.set()

    def _everything_dirty(self) -> None:
        # Whatever was published while the subscription was down is lost: re-render all.
        for channel in self.channels.values():
            channel.dirty.set()
