"""Ingest under pressure, Redis unreachable or the room's backlog full: it answers 503
with Retry-After, stores nothing, and carries on afterwards; nothing accepted is lost."""

from __future__ import annotations

import httpx

from controlroom.bus.embedded import EmbeddedRedis
from tests.support import LiveServer, Process, comment, create_room, server_env


def test_ingest_answers_503_while_redis_is_down_and_loses_nothing(database_url, tmp_path):
    redis_server = EmbeddedRedis(tmp_path / "own-redis")
    redis_url = redis_server.start()
    room = create_room(database_url, redis_url)
    live = LiveServer(
        server_env(redis_url=redis_url, database_url=database_url, data_dir=tmp_path), tmp_path / "log"
    ).start()
    try:
        assert live.post_events(room, [comment("before", "在吗")]).json()["accepted"] == 1
        live.wait_for_state(room, lambda s: s["comments"] == 1)  # (signs the admin in, too)

        redis_server.stop()
        response = live.post_events(room, [comment("during", "有人吗")])
        assert response.status_code == 503
        assert response.headers["retry-after"].isdigit()
        assert "Redis" in response.json()["detail"] and "重新发送" in response.json()["detail"]
        ready = httpx.get(f"{live.url}/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["redis"].startswith("unreachable")
        page = live.admin.get(f"/rooms/{room}")
        assert page.status_code == 503 and "Redis" in page.text

        redis_server.start()  # same data dir, AOF on: the stream and checkpoint come back
        retry = live.post_events(room, [comment("during", "有人吗")])
        assert retry.status_code == 200 and retry.json()["accepted"] == 1
        state = live.wait_for_state(room, lambda s: s["comments"] == 2)
        assert [c["text"] for c in state["recent_comments"]] == ["有人吗", "在吗"]
    finally:
        live.terminate()
        redis_server.stop()


def test_ingest_refuses_with_503_when_the_backlog_is_full_rather_than_trim_unapplied_events(
    database_url, own_redis_url, tmp_path
):
    room = create_room(database_url, own_redis_url)
    env = server_env(
        redis_url=own_redis_url, database_url=database_url, data_dir=tmp_path,
        CONTROLROOM_MAX_BACKLOG="100", CONTROLROOM_MAX_EVENTS_PER_REQUEST="50", CONTROLROOM_STREAM_MAXLEN="150",
    )
    web_only = LiveServer(env, tmp_path / "web.log", worker=False).start()
    try:
        for batch in range(2):
            events = [comment(f"b{batch}-{i}", "在吗", user=f"u{i}") for i in range(50)]
            assert web_only.post_events(room, events).json()["accepted"] == 50
        refused = web_only.post_events(room, [comment("one-too-many", "有人吗")])
        assert refused.status_code == 503
        assert refused.headers["retry-after"].isdigit()
        assert "100 events waiting to be applied" in refused.json()["detail"]
        # Nothing accepted was trimmed away; once a worker catches up, ingest resumes.
        worker = Process(["worker"], env, tmp_path / "worker.log").start()
        try:
            web_only.wait_for_state(room, lambda s: s["comments"] == 100, timeout=30)
            assert web_only.post_events(room, [comment("one-too-many", "有人吗")]).json()["accepted"] == 1
            web_only.wait_for_state(room, lambda s: s["comments"] == 101)
        finally:
            worker.terminate()
    finally:
        web_only.terminate()
