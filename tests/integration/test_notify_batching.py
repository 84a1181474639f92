"""A burst of alerts for one robot keeps to its platform's rate limit (飞书: 5 messages a
second): what the limit holds back goes out together as soon as it allows, each notice
once, none lost. The real dispatcher, Redis, SQL and a loopback receiver."""

from __future__ import annotations

import asyncio
import contextlib
import time

from sqlalchemy import select

from controlroom.bus import keys
from controlroom.bus.client import connect
from controlroom.bus.notices import post_notices
from controlroom.db.base import utcnow
from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.notify.dispatcher import Dispatcher
from controlroom.notify.models import NotifyDelivery
from controlroom.notify.secrets import Sealer
from controlroom.notify.service import create_channel
from tests.integration.test_notifications import Receiver
from tests.support import create_room

BURST = 20


async def test_a_burst_is_batched_within_the_robot_s_rate_limit_and_nothing_is_lost(database_url, own_redis_url):
    room = create_room(database_url, own_redis_url)
    receiver = Receiver("feishu")
    sealer = Sealer("batching-test-key")
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        channel_id = create_channel(session, sealer, room=room, kind="feishu", name="值班群", url=receiver.url,
                                    secret="s3cret", levels=["red"], events=["fired"], by="tests", now=utcnow()).id
    client = connect(own_redis_url)
    stop = asyncio.Event()
    dispatcher = Dispatcher(client, sessions, sealer=sealer, link=lambda notice: f"http://x/{notice['alert_id']}",
                            locale="zh_CN", consumer="batching-test")
    running = asyncio.create_task(dispatcher.run(stop))
    try:
        await asyncio.sleep(0.5)  # the group exists before the first notice
        for number in range(BURST):
            await post_notices(client, [{"room": room, "alert_id": number + 1, "event": "fired", "level": "red",
                                         "rule": "r", "name": f"预警{number:02d}", "value": None, "playbook": None,
                                         "at": int(time.time() * 1000)}])
            await asyncio.sleep(0.05)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            lines = [line for text in receiver.texts() for line in text.splitlines() if line.startswith("🔴")]
            if len(lines) >= BURST:
                break
            await asyncio.sleep(0.1)
        names = sorted(line.split(" · ")[2] for line in lines)  # mark [level] · room · alert · event · …
        assert names == [f"预警{n:02d}" for n in range(BURST)]  # each once
        arrivals = [request["at"] for request in receiver.requests]
        assert len(arrivals) < BURST  # batched
        for first in range(len(arrivals)):
            within = [at for at in arrivals[first:] if at - arrivals[first] < 0.95]
            assert len(within) <= 5, arrivals  # 飞书: at most 5 a second
        with transaction(sessions) as session:
            logged = session.scalars(select(NotifyDelivery).where(NotifyDelivery.channel_id == channel_id)).all()
            assert sum(d.notices for d in logged if d.status == "sent") == BURST
    finally:
        stop.set()
        running.cancel()
        await client.aclose()
        receiver.close()
        engine.dispose()


async def test_notices_a_dead_dispatcher_held_are_sent_by_another(database_url, own_redis_url, monkeypatch):
    """A dispatcher takes a notice but its robot answers 503 and the process dies while it
    waits to retry: the notice stays pending in the group, and another dispatcher claims
    it once it has been abandoned long enough, and sends it."""
    from controlroom.notify import dispatcher as dispatching

    monkeypatch.setattr(dispatching, "ABANDONED_MS", 1_500)
    monkeypatch.setattr(dispatching, "CLAIM_S", 0.5)
    room = create_room(database_url, own_redis_url)
    receiver = Receiver("feishu", statuses=(503,))
    sealer = Sealer("claim-test-key")
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        create_channel(session, sealer, room=room, kind="feishu", name="值班群", url=receiver.url, secret="s3cret",
                       levels=["red"], events=["fired"], by="tests", now=utcnow())
    client = connect(own_redis_url)

    def dispatcher(name: str) -> Dispatcher:
        return Dispatcher(client, sessions, sealer=sealer, link=lambda notice: f"http://x/{notice['alert_id']}",
                          locale="zh_CN", consumer=name)

    first = asyncio.create_task(dispatcher("doomed").run(asyncio.Event()))
    second = None
    try:
        await asyncio.sleep(0.5)
        await post_notices(client, [{"room": room, "alert_id": 7, "event": "fired", "level": "red", "rule": "r",
                                     "name": "断流预警", "value": None, "playbook": None, "at": int(time.time() * 1000)}])
        deadline = time.monotonic() + 10
        while not receiver.requests and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(receiver.requests) == 1  # tried once, refused with 503, a retry due in 1 s…
        first.cancel()  # …and the process is gone before it
        with contextlib.suppress(asyncio.CancelledError):
            await first
        pending = await client.xpending(keys.NOTICES, keys.NOTIFIERS)
        assert pending["pending"] == 1  # not acknowledged: nothing was sent

        second = asyncio.create_task(dispatcher("survivor").run(asyncio.Event()))
        deadline = time.monotonic() + 15
        while len(receiver.requests) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert len(receiver.requests) == 2 and "断流预警" in receiver.texts()[1]
        deadline = time.monotonic() + 5
        while (await client.xpending(keys.NOTICES, keys.NOTIFIERS))["pending"] and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert (await client.xpending(keys.NOTICES, keys.NOTIFIERS))["pending"] == 0  # sent, so acknowledged
    finally:
        for task in (first, second):
            if task is not None:
                task.cancel()
        await client.aclose()
        receiver.close()
        engine.dispose()
