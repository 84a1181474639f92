"""A platform connection is held by the worker that holds its room, and only by it: two
worker processes, one Bilibili session at a time; kill -9 the holder and the other worker
takes the room and opens the connection again; the tech screen shows its health and the
events it brought. The loopback open platform of test_bilibili_connector stands in for
Bilibili."""

from __future__ import annotations

import asyncio
import inspect
import os
import time

import orjson

from controlroom.bus.client import connect
from controlroom.bus import keys
from tests.integration.test_bilibili_connector import APP_ID, CODE, KEY_ID, KEY_SECRET, dm, messages_frame, platform  # noqa: F401
from tests.support import LiveServer, Process, create_room, csrf_of, server_env


async def _until(predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def test_one_worker_holds_the_connection_and_another_takes_it_over(platform, database_url, own_redis_url,  # noqa: F811
                                                                         tmp_path):
    env = server_env(redis_url=own_redis_url, database_url=database_url, data_dir=tmp_path,
                     CONTROLROOM_BILIBILI_API=platform.base_url)
    web = await asyncio.to_thread(lambda: LiveServer(env, tmp_path / "web.log", worker=False).start())
    workers = [Process(["worker"], env, tmp_path / f"worker{n}.log").start() for n in range(2)]
    client = connect(own_redis_url)
    try:
        room = create_room(database_url, own_redis_url, name="B站测试间")
        admin = web.admin
        # One DM in each connection the platform accepts.
        platform.script = [[messages_frame(2, dm(f"m{n}", f"第{n}条弹幕"))] for n in range(1, 4)]
        bound = await asyncio.to_thread(lambda: admin.post(f"/rooms/{room}/bindings", data={
            "platform": "bilibili", "external_id": CODE, "secret": f"{APP_ID}:{KEY_ID}:{KEY_SECRET}",
            "csrftoken": csrf_of(admin)}, follow_redirects=False))
        assert bound.status_code == 303, bound.text[:300]

        await _until(lambda: platform.auths >= 1, "the first connection")
        most_open = 0
        for _ in range(30):  # both workers look at the room's bindings every 2 s
            most_open = max(most_open, len(platform.open))
            await asyncio.sleep(0.1)
        assert most_open == 1  # one holder only
        taken = sum(1 for w in workers for line in w.log_text().splitlines()
                    if "worker.room_taken" in line and f"room={room}" in line)
        assert platform.auths == 1 or taken > 1, "a second connection although the room never changed hands"

        holder = (await client.get(keys.lease(room))).decode()  # host-pid-random(@space)
        doomed = next(w for w in workers if f"-{w.proc.pid}-" in holder)

        async def health():
            raw = await client.hgetall(keys.connector_health(room))
            return [orjson.loads(v) for v in raw.values()]

        shown = await _until(lambda: _connected(health), "the connection's health")
        assert shown["kind"] == "bilibili" and shown["events"] >= 1
        tech = await asyncio.to_thread(lambda: admin.get(f"/rooms/{room}/tech?lang=zh_CN").text)
        assert "哔哩哔哩直播" in tech and 'data-state="ok"' in tech

        os.kill(doomed.proc.pid, 9)  # the holder dies without a word
        await _until(lambda: platform.auths >= 2, "the other worker's connection", timeout=20)
        await asyncio.sleep(1)
        assert len(platform.open) == 1
        state = await _until(lambda: _comments(client, room, 2), "both DMs applied")
        assert state >= 2
    finally:
        for worker in workers:
            worker.terminate()
        web.terminate()
        await client.aclose()


async def _connected(health):
    for entry in await health():
        if entry["state"] == "ok" and entry["events"] >= 1:
            return entry
    return None


async def _comments(client, room: str, at_least: int) -> int | None:
    raw = await client.hget(keys.checkpoint(room), "state")
    comments = orjson.loads(raw).get("comments", 0) if raw else 0
    return comments if comments >= at_least else None
