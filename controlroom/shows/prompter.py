"""The host screen's prompter: how fast the talk points scroll and whether they are
paused, set by the controller from the control room's mirror of the host screen.

Ephemeral screen state, so it lives in Redis only (never SQL): the controller's setting
is kept in `setting_key(room)`, and the `prompter` projection carries it to the screens
with the room's other pushes. The projection's build (what the periodic republish
writes) is the default; its `extra` then copies the controller's setting over it in the
same MULTI, so a republish never resets what the controller chose, and a Redis that
restarted empty simply starts from the default again.

The scroll itself is the browser's (web/static/js/host.js): it reads the speed, the
pause and the "from the top" epoch from data attributes of the pushed prompter.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from redis.asyncio.client import Pipeline

from controlroom.auth.deps import Driver, Svc
from controlroom.bus import keys
from controlroom.live.projections import declare

router = APIRouter()

PROMPTER_NAME = "prompter"
MIN_SPEED, MAX_SPEED = 1, 10
# Paused at first: the controller starts the scroll when the host starts talking.
DEFAULT: dict[str, Any] = {"speed": 4, "paused": True, "epoch": 0}
ACTIONS = ("play", "pause", "faster", "slower", "top")


def setting_key(room: str) -> str:
    return f"cr:{{{room}}}:prompter-setting"


def _keep_setting(pipe: Pipeline, room: str | None, data: Any) -> None:
    # Same hash tag, same shard: COPY works under Redis Cluster too. No setting: the
    # default just written stands.
    if room is not None:
        pipe.copy(setting_key(room), keys.projection(room, PROMPTER_NAME), replace=True)


PROMPTER = declare(PROMPTER_NAME, default=DEFAULT, build=lambda session, room, now: dict(DEFAULT), extra=_keep_setting)


def changed(current: dict[str, Any], action: str, speed: str = "") -> dict[str, Any]:
    """The setting after one of the controller's buttons. Pure."""
    value = {**DEFAULT, **current}
    if speed.strip():
        value["speed"] = int(speed)
    if action == "play":
        value["paused"] = False
    elif action == "pause":
        value["paused"] = True
    elif action == "faster":
        value["speed"] += 1
    elif action == "slower":
        value["speed"] -= 1
    elif action == "top":
        value["epoch"] = int(value["epoch"]) + 1
    elif action:
        raise ValueError(f"action: one of {', '.join(ACTIONS)}, not {action[:40]!r}")
    value["speed"] = max(MIN_SPEED, min(MAX_SPEED, int(value["speed"])))
    return value


@router.post("/rooms/{room}/prompter", include_in_schema=False)
async def set_prompter(
    room: str, request: Request, services: Svc, principal: Driver,
    action: Annotated[str, Form()] = "", speed: Annotated[str, Form()] = "",
) -> Response:
    """play, pause, faster, slower, top (back to the start of the talk points), or a
    speed of 1-10: pushed to the host screen and the control room's mirror."""
    if await services.bus.room_name(room) is None:
        return JSONResponse({"detail": f"room {room!r} not found"}, status_code=404)
    raw = await services.redis.get(setting_key(room))
    try:
        value = changed(orjson.loads(raw) if raw else {}, action, speed)
    except ValueError as error:
        return JSONResponse({"detail": str(error)}, status_code=422)
    await services.redis.set(setting_key(room), orjson.dumps(value))
    await services.projections.store(room, {PROMPTER_NAME: value})
    if request.headers.get("hx-request"):
        return Response(status_code=204)
    return RedirectResponse(f"/rooms/{room}", status_code=303)
