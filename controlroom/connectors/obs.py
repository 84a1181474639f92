"""The OBS encoder as a source (obs-websocket protocol v5) and as the hands of a playbook.

`run` holds one websocket to OBS Studio for a room's "obs" binding (external id
"host:port", secret the obs-websocket password, empty when OBS asks for none). Every
POLL_S it asks GetStreamStatus, and it listens for StreamStateChanged, turning both into
canonical `stream` events: the status plus what the tech desk watches while live —
`bitrate_kbps` (from the byte counter over OBS's own output clock), `dropped_share`
(skipped / total frames over the interval) and `congestion`.

How a status is told (the pure `StreamWatch`):
- "live": OBS outputs and is not reconnecting.
- "interrupted": OBS is reconnecting, or the stream stopped after having been on
  without OBS first announcing a deliberate stop. A stop from OBS's button, a hotkey
  or StopStream goes through OBS_WEBSOCKET_OUTPUT_STOPPING; a dropped connection that
  runs out of retries goes straight to OBS_WEBSOCKET_OUTPUT_STOPPED (checked against
  OBS 29 / obs-websocket 5.1). When we cannot tell — the connector was not listening
  when it stopped — it is "interrupted": an unexpected stop mid-show is the case that
  must not go unnoticed.
- "ended": stopped after an announced stop.
- Nothing at all while OBS has not streamed since we first heard of it (before the
  show): an idle encoder is neither live nor interrupted, and a guess would overwrite
  what the room knows from elsewhere.

While live every reading is emitted (the room sees the bitrate each second); otherwise
a status is emitted when it changes, right after a StreamStateChanged, and refreshed
every IDLE_REFRESH_S.

What a connector run learned survives the runner's restart of it (`_MEMORY`, per room
and binding, in this process): after a websocket blip, a stream that stopped meanwhile
still reads as "interrupted" rather than unknown, and OBS that vanished while live (a
crash takes its websocket with it) is reported "interrupted" once it has stayed
unreachable for LOST_GRACE_S — a short blip of the control link alone does not raise
the red alert.

`perform` carries out a playbook step on the encoder (switch to the backup scene, start
or stop the stream or a backup output) over a connection of its own, reads the result
back, and says in plain words what was done — or raises `EncoderActionFailed` with
OBS's reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import simpleobsws
import websockets

from controlroom.connectors.base import ConnectorContext
from controlroom.i18n import N_
from controlroom.ingest.adapters.base import validated

KIND = "obs"

DEFAULT_PORT = 4455
POLL_S = 1.0
IDLE_REFRESH_S = 5.0
LOST_GRACE_S = 10.0
CONNECT_TIMEOUT_S = 5.0
CALL_TIMEOUT_S = 5.0
START_WAIT_S = 10.0
STOP_WAIT_S = 10.0
SCENE_WAIT_S = 2.0
MAX_BITRATE_KBPS = 10_000_000

# obs-websocket's EventSubscription bit for output events (StreamStateChanged, …):
# the only ones we need, so OBS does not send us every scene and input change.
SUBSCRIBE_OUTPUTS = 1 << 6
# WebSocketCloseCode::AuthenticationFailed.
CLOSE_AUTH_FAILED = 4009

STARTING = "OBS_WEBSOCKET_OUTPUT_STARTING"
STARTED = "OBS_WEBSOCKET_OUTPUT_STARTED"
STOPPING = "OBS_WEBSOCKET_OUTPUT_STOPPING"
STOPPED = "OBS_WEBSOCKET_OUTPUT_STOPPED"
RECONNECTING = "OBS_WEBSOCKET_OUTPUT_RECONNECTING"
RECONNECTED = "OBS_WEBSOCKET_OUTPUT_RECONNECTED"

LIVE, INTERRUPTED, ENDED = "live", "interrupted", "ended"

# Health lines for the tech screen (translated where shown).
MSG_CONNECTING = N_("Connecting to OBS at %(address)s")
MSG_STREAMING = N_("OBS %(version)s, streaming %(kbps)s kbit/s")
MSG_INTERRUPTED = N_("OBS %(version)s, stream interrupted (reconnecting or stopped unexpectedly)")
MSG_IDLE = N_("OBS %(version)s, not streaming")


class EncoderUnavailable(Exception):
    """OBS cannot be reached, dropped the websocket, or stopped answering."""


class PasswordRefused(EncoderUnavailable):
    """OBS refused the obs-websocket password (or asked for one the binding lacks)."""


class EncoderActionFailed(Exception):
    """A playbook step on the encoder did not happen; the message says why, in OBS's
    words where it gave any."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- the binding --------------------------------------------------------------------

@dataclass(frozen=True)
class Address:
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}"

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_address(external_id: str) -> Address:
    """The binding's "host:port" ("[::1]:4455" for IPv6; port 4455, OBS's default,
    when left out), or ValueError saying what is wrong."""
    text = (external_id or "").strip()
    if text.startswith("ws://"):
        text = text[len("ws://"):].rstrip("/")
    if not text:
        raise ValueError("external_id: expected OBS's host:port, e.g. 127.0.0.1:4455")
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"external_id: {external_id!r} is not host:port")
    elif text.count(":") > 1:
        raise ValueError(f"external_id: {external_id!r} is not host:port (write an IPv6 host as [::1]:4455)")
    else:
        host, _, port_text = text.partition(":")
    if not host:
        raise ValueError(f"external_id: {external_id!r} has no host")
    if not port_text:
        return Address(host, DEFAULT_PORT)
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"external_id: port {port_text!r} is not a TCP port (1–65535)")
    return Address(host, int(port_text))


# --- pure mapping: GetStreamStatus readings → canonical stream events ------------------

@dataclass(frozen=True)
class Reading:
    """One GetStreamStatus answer, with when we got it (our clock, Unix ms)."""

    at_ms: int
    active: bool
    reconnecting: bool
    skipped_frames: int
    total_frames: int
    congestion: float
    bytes: int
    duration_ms: int


def reading_from_status(data: Mapping[str, Any] | None, at_ms: int) -> Reading:
    """GetStreamStatus's responseData as a Reading; a missing counter reads as 0 (older
    obs-websocket builds leave some out), a missing outputActive is not a status."""
    data = data or {}
    if not isinstance(data.get("outputActive"), bool):
        raise EncoderUnavailable(f"GetStreamStatus answered without outputActive: {dict(data)!r}")

    def count(name: str) -> int:
        value = data.get(name)
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0

    congestion = data.get("outputCongestion")
    return Reading(
        at_ms=at_ms,
        active=data["outputActive"],
        reconnecting=data.get("outputReconnecting") is True,
        skipped_frames=count("outputSkippedFrames"),
        total_frames=count("outputTotalFrames"),
        congestion=float(congestion) if isinstance(congestion, (int, float)) and not isinstance(congestion, bool) else 0.0,
        bytes=count("outputBytes"),
        duration_ms=count("outputDuration"),
    )


def bitrate_kbps(before: Reading | None, after: Reading) -> int | None:
    """kbit/s sent between two readings: the byte delta over OBS's own output clock
    (steadier than our poll times), over our clock when OBS's stood still (reconnecting:
    nothing goes out, 0 kbit/s). None when there is no earlier reading of the same
    output session: none at all, the output was off (the first reading of a stream has
    no rate yet, rather than a false 0), or the counter went back (a reconnect attempt
    starts it afresh)."""
    if before is None or not before.active or not after.active:
        return None
    sent = after.bytes - before.bytes
    if sent < 0:
        return None
    elapsed_ms = after.duration_ms - before.duration_ms
    if elapsed_ms <= 0:
        elapsed_ms = after.at_ms - before.at_ms
    if elapsed_ms <= 0:
        return None
    # bytes·8 / ms = kbit/s.
    return min(MAX_BITRATE_KBPS, round(sent * 8 / elapsed_ms))


def dropped_share(before: Reading | None, after: Reading) -> float | None:
    """Share (0..1) of the frames of the interval that OBS skipped; None when no frame
    went through the output in between or the counters were reset."""
    if before is None or not before.active or not after.active:
        return None
    total = after.total_frames - before.total_frames
    skipped = after.skipped_frames - before.skipped_frames
    if total <= 0 or skipped < 0:
        return None
    return round(min(1.0, skipped / total), 4)


def congestion(after: Reading) -> float | None:
    if not after.active:
        return None
    return round(min(1.0, max(0.0, after.congestion)), 4)


def stream_status(reading: Reading, *, known: str | None, stop_announced: bool) -> str | None:
    """The canonical status a reading shows, given the status we last knew and whether
    OBS announced a deliberate stop (STOPPING) since the stream last started."""
    if reading.reconnecting:
        return INTERRUPTED
    if reading.active:
        return LIVE
    if known in (LIVE, INTERRUPTED):
        return ENDED if stop_announced else INTERRUPTED
    return known


def stream_event(*, room: str, event_id_ms: int, ts: int, status: str,
                 figures: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The canonical `stream` event (validated, None figures left out)."""
    event: dict[str, Any] = {
        "id": f"obs-{room}-{event_id_ms}", "type": "stream", "ts": ts, "source": KIND, "status": status,
    }
    event.update({name: value for name, value in (figures or {}).items() if value is not None})
    return validated(event)


@dataclass
class StreamWatch:
    """What the connector knows about the stream between readings (no I/O): the last
    status it emitted, whether a deliberate stop was announced, the previous reading
    (for deltas) and when it last emitted (for the idle refresh)."""

    status: str | None = None
    stop_announced: bool = False
    previous: Reading | None = None
    last_emit_ms: int | None = None
    refresh_ms: int = int(IDLE_REFRESH_S * 1000)
    figures: dict[str, Any] = field(default_factory=dict)

    def on_state_change(self, output_state: str) -> None:
        """A StreamStateChanged: only the stop's intent is kept from it; the status itself
        comes from the reading taken right after."""
        if output_state in (STARTING, STARTED):
            self.stop_announced = False
        elif output_state == STOPPING:
            self.stop_announced = True

    def on_reading(self, reading: Reading, *, urgent: bool = False) -> tuple[str, dict[str, Any]] | None:
        """(status, figures) to emit for this reading, or None. `urgent`: a state change
        just happened, emit whatever the status."""
        status = stream_status(reading, known=self.status, stop_announced=self.stop_announced)
        self.figures = {
            "bitrate_kbps": bitrate_kbps(self.previous, reading),
            "dropped_share": dropped_share(self.previous, reading),
            "congestion": congestion(reading),
        }
        self.previous = reading
        if status is None:
            return None
        due = (
            status == LIVE or urgent or status != self.status or self.last_emit_ms is None
            or reading.at_ms - self.last_emit_ms >= self.refresh_ms
        )
        self.status = status
        if not due:
            return None
        self.last_emit_ms = reading.at_ms
        return status, {name: value for name, value in self.figures.items() if value is not None}


def health(status: str | None, figures: Mapping[str, Any], version: str) -> tuple[str, dict[str, Any]]:
    """The tech screen's line for a status: (message, its parameters)."""
    if status == LIVE:
        kbps = figures.get("bitrate_kbps")
        return MSG_STREAMING, {"version": version, "kbps": "?" if kbps is None else kbps}
    if status == INTERRUPTED:
        return MSG_INTERRUPTED, {"version": version}
    return MSG_IDLE, {"version": version}


def lost_encoder_due(*, known: str | None, lost_since_ms: int | None, now_ms: int,
                     grace_ms: int = int(LOST_GRACE_S * 1000)) -> bool:
    """Whether OBS, unreachable since `lost_since_ms` while the stream was live, has been
    gone long enough to call the stream interrupted."""
    return known == LIVE and lost_since_ms is not None and now_ms - lost_since_ms >= grace_ms


# --- what a run remembers across the runner's restarts ------------------------------

@dataclass
class _Memory:
    status: str | None = None
    stop_announced: bool = False
    lost_since_ms: int | None = None
    last_id_ms: int = 0

    def next_id_ms(self, now_ms: int) -> int:
        """Unique per reading even when two fall in one millisecond."""
        self.last_id_ms = max(now_ms, self.last_id_ms + 1)
        return self.last_id_ms


_MEMORY: dict[tuple[str, str], _Memory] = {}


# --- I/O -------------------------------------------------------------------------------

async def _connect(address: Address, secret: str) -> simpleobsws.WebSocketClient:
    """An identified obs-websocket session, or EncoderUnavailable / PasswordRefused."""
    client = simpleobsws.WebSocketClient(
        url=address.url, password=secret or "",
        identification_parameters=simpleobsws.IdentificationParameters(eventSubscriptions=SUBSCRIBE_OUTPUTS),
    )
    try:
        await asyncio.wait_for(client.connect(), CONNECT_TIMEOUT_S)
    except asyncio.TimeoutError:
        raise EncoderUnavailable(f"OBS at {address} did not accept a websocket within {CONNECT_TIMEOUT_S:g} s") from None
    except (OSError, websockets.exceptions.WebSocketException) as exc:
        raise EncoderUnavailable(f"OBS at {address} is not reachable: {exc}") from None
    # simpleobsws answers the Hello with Identify itself; OBS either confirms
    # (Identified) or closes the socket with the reason as its close code.
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while not client.identified and client.ws_open and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    if client.identified:
        return client
    code = getattr(client.ws, "close_code", None)
    reason = getattr(client.ws, "close_reason", None) or ""
    await _close(client)
    if code == CLOSE_AUTH_FAILED:
        if not secret:
            raise PasswordRefused(f"OBS at {address} refused the password: it requires one and the binding has none")
        raise PasswordRefused(f"OBS at {address} refused the password (obs-websocket authentication failed)")
    if code is None:
        raise EncoderUnavailable(f"OBS at {address} did not complete the obs-websocket handshake "
                                 f"within {CONNECT_TIMEOUT_S:g} s")
    raise EncoderUnavailable(f"OBS at {address} closed the connection during the handshake "
                             f"(code {code}{': ' + reason if reason else ''})")


async def _close(client: simpleobsws.WebSocketClient) -> None:
    with contextlib.suppress(Exception):
        await client.disconnect()


async def _request(client: simpleobsws.WebSocketClient, address: Address, request_type: str,
                   data: dict[str, Any] | None = None) -> simpleobsws.RequestResponse:
    """OBS's answer to one request (refusals included); EncoderUnavailable when the
    websocket is gone or OBS does not answer within CALL_TIMEOUT_S."""
    if not client.ws_open:
        raise _lost(client, address)
    try:
        return await client.call(simpleobsws.Request(request_type, data), timeout=CALL_TIMEOUT_S)
    except simpleobsws.MessageTimeout:
        if not client.ws_open:
            raise _lost(client, address) from None
        raise EncoderUnavailable(f"OBS at {address} did not answer {request_type} "
                                 f"within {CALL_TIMEOUT_S:g} s") from None
    except (simpleobsws.NotIdentifiedError, websockets.exceptions.ConnectionClosed):
        raise _lost(client, address) from None


def _lost(client: simpleobsws.WebSocketClient, address: Address) -> EncoderUnavailable:
    code = getattr(client.ws, "close_code", None)
    return EncoderUnavailable(f"OBS at {address} closed the websocket"
                              + (f" (code {code})" if code is not None else ""))


def _refusal(response: simpleobsws.RequestResponse) -> str:
    status = response.requestStatus
    return status.comment or _STATUS_WORDS.get(status.code, f"obs-websocket status {status.code}")


# obs-websocket RequestStatus codes OBS sends without a comment.
_STATUS_WORDS = {
    207: "OBS is not ready yet",
    500: "the output is already running",
    501: "the output is not running",
    505: "the output is paused",
    600: "not found",
    702: "the request failed in OBS",
}


async def run(ctx: ConnectorContext, stop: asyncio.Event) -> None:
    """Watch one OBS until `stop`; raises EncoderUnavailable / PasswordRefused when the
    websocket cannot be had or is lost (the runner retries with backoff)."""
    address = parse_address(ctx.external_id)
    memory = _MEMORY.setdefault((ctx.room, ctx.external_id), _Memory())
    ctx.report("connecting", MSG_CONNECTING, address=str(address))
    try:
        client = await _connect(address, ctx.secret)
    except PasswordRefused:
        raise
    except EncoderUnavailable:
        await _unreachable(ctx, memory)
        raise
    memory.lost_since_ms = None
    changes: asyncio.Queue[str] = asyncio.Queue()

    async def on_stream_state(data: dict[str, Any] | None) -> None:
        changes.put_nowait(str((data or {}).get("outputState", "")))

    client.register_event_callback(on_stream_state, "StreamStateChanged")
    watch = StreamWatch(status=memory.status, stop_announced=memory.stop_announced)
    try:
        version_data = (await _request(client, address, "GetVersion")).responseData or {}
        version = str(version_data.get("obsVersion", "?"))
        urgent = True  # the first reading of a run restates what we know
        while not stop.is_set():
            polled_at = time.monotonic()
            response = await _request(client, address, "GetStreamStatus")
            if not response.ok():
                raise EncoderUnavailable(f"OBS at {address} refused GetStreamStatus: {_refusal(response)}")
            now_ms = ctx.clock.now_ms()
            reading = reading_from_status(response.responseData, now_ms)
            emitted = watch.on_reading(reading, urgent=urgent)
            memory.status, memory.stop_announced = watch.status, watch.stop_announced
            if emitted is not None:
                status, figures = emitted
                await ctx.emit([stream_event(room=ctx.room, event_id_ms=memory.next_id_ms(now_ms), ts=now_ms,
                                             status=status, figures=figures)])
            message, params = health(watch.status, watch.figures, version)
            ctx.report("ok", message, **params)
            states = await _next_changes(changes, stop, POLL_S - (time.monotonic() - polled_at))
            for state in states:
                watch.on_state_change(state)
            memory.stop_announced = watch.stop_announced
            urgent = bool(states)
    except EncoderUnavailable:
        if memory.status == LIVE and memory.lost_since_ms is None:
            memory.lost_since_ms = ctx.clock.now_ms()
        raise
    finally:
        await _close(client)


async def _next_changes(changes: asyncio.Queue[str], stop: asyncio.Event, seconds: float) -> list[str]:
    """Wait up to `seconds` for StreamStateChanged (returned at once, with any that came
    together) or `stop`; [] when the time is up."""
    if changes.empty() and seconds > 0:
        getter = asyncio.ensure_future(changes.get())
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({getter, stopper}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (getter, stopper):
                task.cancel()
        if getter.done() and not getter.cancelled():
            changes.put_nowait(getter.result())
    states = []
    while not changes.empty():
        states.append(changes.get_nowait())
    return states


async def _unreachable(ctx: ConnectorContext, memory: _Memory) -> None:
    """OBS cannot be reached: if it vanished while live and stays gone past the grace
    period, the stream is down with it — say so once."""
    now_ms = ctx.clock.now_ms()
    if memory.status == LIVE and memory.lost_since_ms is None:
        memory.lost_since_ms = now_ms
    if lost_encoder_due(known=memory.status, lost_since_ms=memory.lost_since_ms, now_ms=now_ms,
                        grace_ms=int(LOST_GRACE_S * 1000)):
        memory.status = INTERRUPTED
        await ctx.emit([stream_event(room=ctx.room, event_id_ms=memory.next_id_ms(now_ms), ts=now_ms,
                                     status=INTERRUPTED)])


# --- playbook actions on the encoder ---------------------------------------------------

OPS = ("switch_scene", "start_stream", "stop_stream", "start_output", "stop_output")
_ARGUMENT = {"switch_scene": "scene", "start_output": "output", "stop_output": "output"}
MAX_NAME = 256


def parse_action(data: Any) -> dict[str, str]:
    """A playbook step's encoder action, checked: {"op": …} plus "scene" for
    switch_scene and "output" for start_output / stop_output, nothing else. ValueError
    names the field that is wrong."""
    if not isinstance(data, Mapping):
        raise ValueError(f"action: expected an object with an op, got {type(data).__name__}")
    op = data.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise ValueError(f"op: expected one of {', '.join(OPS)}, got {op!r}")
    action = {"op": op}
    argument = _ARGUMENT.get(op)
    if argument is not None:
        value = data.get(argument)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{argument}: {op} needs the name of the {argument} as OBS shows it")
        if len(value) > MAX_NAME:
            raise ValueError(f"{argument}: longer than {MAX_NAME} characters")
        action[argument] = value
    unexpected = sorted(str(name) for name in data if name not in action)
    if unexpected:
        raise ValueError(f"{unexpected[0]}: not a field of {op}"
                         + (f" (it takes {argument})" if argument else " (it takes no other field)"))
    return action


def describe_action(action: Mapping[str, Any]) -> str:
    """What the step will do, in a few words (for the playbook and the audit log)."""
    op = action.get("op")
    if op == "switch_scene":
        return f"switch OBS to scene “{action.get('scene')}”"
    if op == "start_stream":
        return "start streaming in OBS"
    if op == "stop_stream":
        return "stop streaming in OBS"
    if op == "start_output":
        return f"start OBS output “{action.get('output')}”"
    if op == "stop_output":
        return f"stop OBS output “{action.get('output')}”"
    return f"unknown encoder action {op!r}"


async def perform(external_id: str, secret: str, action: Mapping[str, Any]) -> str:
    """Carry out one encoder action on the OBS of `external_id` and read the result back.
    Returns what was done, in a short English sentence; EncoderActionFailed when OBS
    refused, could not be reached or does not show the result; ValueError for an
    action that is not one."""
    checked = parse_action(action)
    address = parse_address(external_id)
    try:
        client = await _connect(address, secret)
    except EncoderUnavailable as exc:
        raise EncoderActionFailed(f"could not {describe_action(checked)}: {exc}") from exc
    try:
        return await _PERFORMERS[checked["op"]](client, address, checked)
    except EncoderUnavailable as exc:
        raise EncoderActionFailed(f"could not {describe_action(checked)}: {exc}") from exc
    finally:
        await _close(client)


async def _switch_scene(client: simpleobsws.WebSocketClient, address: Address, action: dict[str, str]) -> str:
    scene = action["scene"]
    response = await _request(client, address, "SetCurrentProgramScene", {"sceneName": scene})
    if not response.ok():
        known = await _scene_names(client, address)
        raise EncoderActionFailed(
            f"OBS refused to switch to scene “{scene}”: {_refusal(response)}"
            + (f" (its scenes: {', '.join(known)})" if known else "")
        )
    # The program scene is what goes out; a transition can take a moment to land.
    shown = None
    deadline = time.monotonic() + SCENE_WAIT_S
    while True:
        current = await _request(client, address, "GetCurrentProgramScene")
        shown = (current.responseData or {}).get("currentProgramSceneName")
        if shown == scene or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    if shown != scene:
        raise EncoderActionFailed(f"OBS accepted the switch to scene “{scene}” but its program still shows “{shown}”")
    return f"Switched OBS to scene “{scene}”"


async def _scene_names(client: simpleobsws.WebSocketClient, address: Address) -> list[str]:
    response = await _request(client, address, "GetSceneList")
    scenes = (response.responseData or {}).get("scenes") or []
    # GetSceneList lists the last scene first (OBS's own order is bottom-up).
    return [str(scene.get("sceneName")) for scene in reversed(scenes) if isinstance(scene, Mapping)]


async def _stream_status(client: simpleobsws.WebSocketClient, address: Address) -> Reading:
    response = await _request(client, address, "GetStreamStatus")
    if not response.ok():
        raise EncoderActionFailed(f"OBS refused GetStreamStatus: {_refusal(response)}")
    return reading_from_status(response.responseData, 0)


async def _start_stream(client: simpleobsws.WebSocketClient, address: Address, action: dict[str, str]) -> str:
    before = await _stream_status(client, address)
    if before.reconnecting:
        raise EncoderActionFailed("OBS is still reconnecting the stream: stop it first to start it afresh")
    if before.active:
        return "OBS was already streaming"
    states: list[str] = []

    async def on_stream_state(data: dict[str, Any] | None) -> None:
        states.append(str((data or {}).get("outputState", "")))

    client.register_event_callback(on_stream_state, "StreamStateChanged")
    response = await _request(client, address, "StartStream")
    if not response.ok():
        raise EncoderActionFailed(f"OBS refused to start streaming: {_refusal(response)}")
    deadline = time.monotonic() + START_WAIT_S
    while time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        now = await _stream_status(client, address)
        if now.active and not now.reconnecting:
            return "Started streaming: OBS reports the stream live"
        if STOPPED in states:
            raise EncoderActionFailed("OBS could not start the stream: it stopped at once "
                                      "(check the stream server and key in OBS's settings)")
    raise EncoderActionFailed(f"OBS accepted the start but did not report the stream live within {START_WAIT_S:g} s")


async def _stop_stream(client: simpleobsws.WebSocketClient, address: Address, action: dict[str, str]) -> str:
    before = await _stream_status(client, address)
    if not before.active and not before.reconnecting:
        return "OBS was not streaming"
    response = await _request(client, address, "StopStream")
    if not response.ok():
        raise EncoderActionFailed(f"OBS refused to stop streaming: {_refusal(response)}")
    deadline = time.monotonic() + STOP_WAIT_S
    while time.monotonic() < deadline:
        now = await _stream_status(client, address)
        if not now.active and not now.reconnecting:
            return "Stopped streaming"
        await asyncio.sleep(0.2)
    raise EncoderActionFailed(f"OBS accepted the stop but still reports the stream on after {STOP_WAIT_S:g} s")


async def _output_active(client: simpleobsws.WebSocketClient, address: Address, name: str) -> bool:
    """Whether the named output runs; EncoderActionFailed naming the outputs OBS has
    when there is no such output."""
    response = await _request(client, address, "GetOutputList")
    if not response.ok():
        raise EncoderActionFailed(f"OBS refused GetOutputList: {_refusal(response)}")
    outputs = [item for item in (response.responseData or {}).get("outputs") or [] if isinstance(item, Mapping)]
    for output in outputs:
        if output.get("outputName") == name:
            return output.get("outputActive") is True
    names = ", ".join(str(output.get("outputName")) for output in outputs) or "none"
    raise EncoderActionFailed(f"OBS has no output “{name}” (its outputs: {names})")


async def _toggle_output(client: simpleobsws.WebSocketClient, address: Address, name: str, *, start: bool) -> str:
    verb = "start" if start else "stop"
    if await _output_active(client, address, name) == start:
        return f"OBS output “{name}” was already {'running' if start else 'stopped'}"
    response = await _request(client, address, "StartOutput" if start else "StopOutput", {"outputName": name})
    if not response.ok():
        raise EncoderActionFailed(f"OBS refused to {verb} output “{name}”: {_refusal(response)}")
    wait_s = START_WAIT_S if start else STOP_WAIT_S
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        status = await _request(client, address, "GetOutputStatus", {"outputName": name})
        if status.ok() and (status.responseData or {}).get("outputActive") is start:
            return f"{'Started' if start else 'Stopped'} OBS output “{name}”"
        await asyncio.sleep(0.2)
    raise EncoderActionFailed(f"OBS accepted the {verb} of output “{name}” but does not report it "
                              f"{'running' if start else 'stopped'} after {wait_s:g} s")


async def _start_output(client: simpleobsws.WebSocketClient, address: Address, action: dict[str, str]) -> str:
    return await _toggle_output(client, address, action["output"], start=True)


async def _stop_output(client: simpleobsws.WebSocketClient, address: Address, action: dict[str, str]) -> str:
    return await _toggle_output(client, address, action["output"], start=False)


_PERFORMERS = {
    "switch_scene": _switch_scene,
    "start_stream": _start_stream,
    "stop_stream": _stop_stream,
    "start_output": _start_output,
    "stop_output": _stop_output,
}
