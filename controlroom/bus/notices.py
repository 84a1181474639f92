"""Handing notices for the team's chats to the dispatcher (controlroom/notify/): a Redis
stream, so whoever makes a notice (an alert round, a playbook start) never waits for a
chat platform."""

from __future__ import annotations

from typing import Any, Iterable

import orjson
import redis.asyncio as aioredis

from controlroom.bus import keys


async def post_notices(client: aioredis.Redis, notices: Iterable[dict[str, Any]]) -> None:
    pipe = client.pipeline(transaction=False)
    for notice in notices:
        pipe.xadd(keys.NOTICES, {"n": orjson.dumps(notice)}, maxlen=keys.NOTICES_MAXLEN, approximate=True)
    await pipe.execute()
