"""The encoder as a room's source, end to end: a real OBS bound to a room on the feeds
page, connected by the worker that holds the room, streaming to a local RTMP receiver.
The tech screen shows the connection and the bitrate; killing the receiver raises the
interruption alert within 5 s; the interruption playbook puts OBS on the backup scene as
soon as its host step starts (read back from OBS) and the run's timeline says so."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime

import simpleobsws

from controlroom.connectors import obs
from tests.integration.test_obs_encoder import PASSWORD, Obs, obs_studio  # noqa: F401 - the OBS fixture
from tests.obs_support import BACKUP_SCENE, LIVE_SCENE, start_receiver, stop_group
from tests.support import LiveServer, create_room, csrf_of, server_env, wait_until


async def _program_scene(address: str) -> str:
    client = simpleobsws.WebSocketClient(url=f"ws://{address}", password=PASSWORD)
    await client.connect()
    try:
        await client.wait_until_identified()
        answer = await client.call(simpleobsws.Request("GetCurrentProgramScene"))
        return answer.responseData["currentProgramSceneName"]
    finally:
        await client.disconnect()


def test_obs_bound_to_a_room_feeds_its_stream_health_alerts_and_playbook(
    obs_studio: Obs, database_url, own_redis_url, tmp_path  # noqa: F811 - the imported fixture
):
    asyncio.run(obs.perform(obs_studio.address, PASSWORD, {"op": "switch_scene", "scene": LIVE_SCENE}))
    env = server_env(redis_url=own_redis_url, database_url=database_url, data_dir=tmp_path)
    live = LiveServer(env, tmp_path / "server.log").start()
    receiver = start_receiver(obs_studio.rtmp_port, tmp_path / "receiver.log")
    try:
        room = create_room(database_url, own_redis_url, name="编码器测试间")
        admin = live.admin
        bound = admin.post(f"/rooms/{room}/bindings", data={
            "platform": "obs", "external_id": obs_studio.address, "secret": PASSWORD, "csrftoken": csrf_of(admin)},
            follow_redirects=False)
        assert bound.status_code == 303, bound.text[:300]
        refused = admin.post(f"/rooms/{room}/bindings?lang=zh_CN", data={
            "platform": "obs", "external_id": "no-port", "secret": PASSWORD, "csrftoken": csrf_of(admin)})
        assert refused.status_code == 422 and "host:port" in refused.text

        asyncio.run(obs.perform(obs_studio.address, PASSWORD, {"op": "start_stream"}))
        tech = f"/rooms/{room}/tech?lang=zh_CN"
        # Connected by the worker holding the room, streaming, its bitrate on the tech screen.
        bitrate = re.compile(r'class="encoder-bitrate">[\d,]+ kbit/s')
        page = wait_until(lambda: (lambda text: text if 'data-state="ok"' in text and bitrate.search(text)
                                   and "直播中" in text else None)(admin.get(tech).text),
                          what="the tech screen showing OBS connected and streaming with a bitrate")
        assert "OBS 推流软件" in page

        stop_group(receiver)  # the stream's receiving end dies: a real interruption
        cut_ms = int(time.time() * 1000)

        def interrupted_alert():
            alerts = admin.get(f"/api/rooms/{room}/alerts").json()
            return next((a for a in alerts if a["rule"] == "stream-interrupted"), None)

        alert = wait_until(interrupted_alert, timeout=15, what="the stream-interrupted alert")
        fired = min(t["at"] for t in alert["transitions"])  # its first transition: when it was raised
        fired_ms = int(datetime.fromisoformat(fired).timestamp() * 1000)
        print(f"interruption alert {fired_ms - cut_ms} ms after the cut")  # shown with -s
        assert fired_ms - cut_ms <= 5_000, f"the interruption alert came {fired_ms - cut_ms} ms after the cut"

        # The playbook from the alert: ticking its first step starts the host step, whose
        # encoder action puts the backup scene on air.
        started = admin.post(f"/rooms/{room}/playbooks/stream-interruption/start",
                             data={"alert_id": str(alert["id"]), "csrftoken": csrf_of(admin)}, follow_redirects=False)
        assert started.status_code == 303
        runs = admin.get(f"/api/rooms/{room}/playbook-runs").json()
        run_id = runs[0]["id"]
        ticked = admin.post(f"/rooms/{room}/playbook-runs/{run_id}/steps/1/done",
                            data={"csrftoken": csrf_of(admin)}, headers={"hx-request": "true"})
        assert ticked.status_code == 204
        wait_until(lambda: asyncio.run(_program_scene(obs_studio.address)) == BACKUP_SCENE,
                   what="OBS on the backup scene")
        timeline = wait_until(lambda: next((e for e in admin.get(f"/api/rooms/{room}/playbook-runs").json()[0]["timeline"]
                                            if e["kind"] == "encoder"), None), what="the encoder step in the timeline")
        assert BACKUP_SCENE in timeline["text"] and timeline["step"] == 1
        assert "OBS 已执行" in admin.get(tech).text  # the tech screen shows what OBS did
    finally:
        stop_group(receiver)
        live.terminate()
        asyncio.run(_stop_quietly(obs_studio.address))


async def _stop_quietly(address: str) -> None:
    try:
        await obs.perform(address, PASSWORD, {"op": "stop_stream"})
    except obs.EncoderActionFailed:
        pass
