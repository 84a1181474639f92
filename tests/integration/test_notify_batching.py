"""A burst of alerts for one robot keeps to its platform's rate limit (飞书: 5 messages a
second): what the limit holds back goes out together as soon as it allows, each notice
once, none lost. The real dispatcher, Redis, SQL and a loopback receiver."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

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
