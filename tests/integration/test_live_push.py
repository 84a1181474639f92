"""Events in, server-rendered partials out over the room's websocket."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pytest
import websockets

from tests.support import BASE_TS, LiveServer, comment, cookie_header, create_room, frames_until, server_env


def _tile(frame: str, kpi: str) -> str:
    match = re.search(rf'data-kpi="{kpi}">\s*<div class="tile-label">[^<]*</div>\s*<div class="tile-value">([^<]*)<', frame)
    assert match, f"no {kpi} tile in frame"
    return match.group(1)


async def test_a_posted_event_shows_up_in_a_websocket_push(server, room):
    async with websockets.connect(f"{server.ws_url}/ws/rooms/{room}?lang=en", additional_headers=cookie_header(server.admin)) as ws:
        snapshot = await ws.recv()
        assert 'id="kpis"' in snapshot and 'hx-swap-oob="morph"' in snapshot
        assert _tile(snapshot, "online") == "0"
        await asyncio.to_thread(
            server.post_events, room,
            [{"id": "v1", "type": "viewers", "ts": BASE_TS, "online": 4321}, comment("c1", "<b>主播好美</b>")],
        )
        frame = await frames_until(ws, lambda f: 'id="kpis"' in f and "4,321" in f)
        assert _tile(frame, "online") == "4,321"
        new_comment = "afterbegin:#comment-inbox"
        comments = frame if new_comment in frame else await frames_until(ws, lambda f: new_comment in f, timeout=2)
        assert "&lt;b&gt;主播好美&lt;/b&gt;" in comments
        assert "<b>主播好美" not in comments


async def test_a_reconnecting_screen_keeps_its_feed(server, room):
    """The snapshot on (re)connect adds comments to the page's feed instead of replacing
    it: a feed of hundreds, or a paused inbox, survives a dropped connection."""
    await asyncio.to_thread(server.post_events, room, [comment("r1", "断线前")])
    await asyncio.to_thread(server.wait_for_state, room, lambda s: s["comments"] == 1)
    async with websockets.connect(f"{server.ws_url}/ws/rooms/{room}?lang=en",
                                  additional_headers=cookie_header(server.admin)) as ws:
        snapshot = await ws.recv()
    assert 'hx-swap-oob="afterbegin:#comment-inbox"' in snapshot and "断线前" in snapshot
    assert 'id="comments"' not in snapshot


async def test_the_push_speaks_the_language_of_the_client(server, room):
    async with websockets.connect(f"{server.ws_url}/ws/rooms/{room}?lang=zh-CN", additional_headers=cookie_header(server.admin)) as ws:
        assert "实时在线" in await ws.recv()
    async with websockets.connect(f"{server.ws_url}/ws/rooms/{room}?lang=en", additional_headers=cookie_header(server.admin)) as ws:
        assert "Online now" in await ws.recv()


async def test_a_websocket_for_an_unknown_room_is_refused(server):
    try:
        async with websockets.connect(
            f"{server.ws_url}/ws/rooms/no-such-room", additional_headers=cookie_header(server.admin)
        ) as ws:
            await ws.recv()
    except (websockets.InvalidStatus, websockets.ConnectionClosed):
        return
    raise AssertionError("the websocket of an unknown room was accepted")


async def test_two_web_processes_both_receive_the_update(own_redis_url, database_url, tmp_path):
    """The worker runs in one process; the other learns of updates through Redis pub/sub
    (the idle refresh is set to a minute, so only a published update can bring the
    frame in time)."""
    room = create_room(database_url, own_redis_url)
    env = server_env(
        redis_url=own_redis_url, database_url=database_url, data_dir=tmp_path,
        CONTROLROOM_AUTO_MIGRATE="false", CONTROLROOM_PANEL_IDLE_REFRESH_S="60",
    )
    with_worker = await asyncio.to_thread(LiveServer(env, tmp_path / "a.log", worker=True).start)
    web_only = await asyncio.to_thread(LiveServer(env, tmp_path / "b.log", worker=False).start)
    try:
        admin_a = await asyncio.to_thread(lambda: with_worker.admin)
        admin_b = await asyncio.to_thread(lambda: web_only.admin)
        async with websockets.connect(f"{with_worker.ws_url}/ws/rooms/{room}?lang=en",
                                      additional_headers=cookie_header(admin_a)) as ws_a, \
                   websockets.connect(f"{web_only.ws_url}/ws/rooms/{room}?lang=en",
                                      additional_headers=cookie_header(admin_b)) as ws_b:
            await ws_a.recv()
            await ws_b.recv()
            response = await asyncio.to_thread(
                web_only.post_events, room, [{"id": "v9", "type": "viewers", "ts": BASE_TS, "online": 98765}]
            )
            assert response.json()["accepted"] == 1
            for ws in (ws_a, ws_b):
                frame = await frames_until(ws, lambda f: "98,765" in f, timeout=5)
                assert _tile(frame, "online") == "98,765"
    finally:
        await asyncio.to_thread(web_only.terminate)
        await asyncio.to_thread(with_worker.terminate)


async def test_updates_are_coalesced_to_at_most_ten_frames_a_second(server, room):
    async with websockets.connect(f"{server.ws_url}/ws/rooms/{room}?lang=en", additional_headers=cookie_header(server.admin)) as ws:
        await ws.recv()
        frames = 0

        async def count_frames() -> None:
            nonlocal frames
            while True:
                await ws.recv()
                frames += 1

        counter = asyncio.create_task(count_frames())
        started = time.monotonic()
        async with httpx.AsyncClient() as http:
            for i in range(40):  # 40 separate batches, each applied and published
                await http.post(
                    f"{server.url}/api/rooms/{room}/events",
                    json=[{"id": f"v{i}", "type": "viewers", "ts": BASE_TS + i, "online": 1000 + i}],
                    headers={"x-api-key": room.api_key},
                )
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)
        elapsed = time.monotonic() - started
        counter.cancel()
        # Every batch changed the online tile, yet frames stay within the 10 Hz budget
        # (+2 for the clock-driven refresh and rounding).
        assert 1 <= frames <= elapsed * 10 + 2, (frames, elapsed)


def test_rates_are_compared_window_to_window_through_the_pipeline(server, room):
    import time as clock

    now = int(clock.time() * 1000)
    events = []
    for label, ago_min, payers in (("early", 15, 1), ("late", 5, 2)):
        ts = now - now % 60_000 - ago_min * 60_000 + 1000
        for i in range(4):
            events.append({"id": f"{label}-e{i}", "type": "enter", "ts": ts + i, "user": {"id": f"{label}{i}"}})
        for i in range(payers):
            events.append({"id": f"{label}-o{i}", "type": "order", "ts": ts + 10 + i, "user": {"id": f"{label}{i}"},
                           "order_id": f"{label}{i}", "status": "paid", "amount_cents": 1000})
    assert server.post_events(room, events).json()["accepted"] == len(events)
    state = server.wait_for_state(room, lambda s: s["orders_paid"] == 3)
    # 2 of 4 people paid in the last ten minutes, 1 of 4 in the ten before.
    assert state["changes"]["conversion_rate"] == pytest.approx(1.0)
    assert state["changes"]["viewers"] == 0
