"""Ending access now, everywhere: when a login ends, a user changes (disabled, role,
rooms, password, sessions ended) or a room's host links are replaced or revoked, every
web process hears it through Redis pub/sub and closes the websockets it concerns within
a moment, instead of at their next periodic check."""

from __future__ import annotations

from typing import Iterable

import orjson
import redis.asyncio as aioredis

from controlroom.auth.service import Principal
from controlroom.bus import keys


def session_ended(session_id: int) -> str:
    return f"session:{session_id}"


def user_changed(user_id: int) -> str:
    return f"user:{user_id}"


def host_links_changed(room: str) -> str:
    return f"host-links:{room}"


async def announce(client: aioredis.Redis, *subjects: str) -> None:
    await client.publish(keys.REVOCATIONS, orjson.dumps(list(subjects)))


def concerns(principal: Principal, subjects: Iterable[str]) -> bool:
    """Is this principal's access among what was just ended or changed?"""
    mine = set()
    if principal.session_id is not None:
        mine.add(session_ended(principal.session_id))
    if principal.user_id is not None:
        mine.add(user_changed(principal.user_id))
    if principal.host_link_id is not None:
        mine.update(host_links_changed(room) for room in principal.room_slugs or ())
    return not mine.isdisjoint(subjects)
