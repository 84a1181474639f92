"""A show's recording is written while it runs: a show far longer than the stream bound
keeps every event in its recording and its review, the stream stays bounded, and ending
a show while the next one is planned records the show that ended."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import redis
from sqlalchemy import select

from controlroom.bus import keys
from controlroom.db.base import utcnow
from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.reports.recorder import parts_dir, read_parts
from controlroom.reports.recording import read_recording, recording_path
from controlroom.rooms.models import Room
from controlroom.shows.schedule import add_show
from tests.integration.test_run_of_show import drive, make_show
from tests.support import LiveServer, comment, create_room, server_env, wait_until

STREAM_MAXLEN = 300
BATCHES = 8
BATCH = 100


def test_a_show_longer_than_the_stream_bound_keeps_every_event_and_the_next_planned_show_keeps_none(
    database_url, own_redis_url, tmp_path
):
    env = server_env(redis_url=own_redis_url, database_url=database_url, data_dir=tmp_path,
                     CONTROLROOM_STREAM_MAXLEN=str(STREAM_MAXLEN), CONTROLROOM_RECORDING_INTERVAL_S="0.5")
    live = LiveServer(env, tmp_path / "server.log").start()
    store = redis.Redis.from_url(own_redis_url)
    try:
        room = create_room(database_url, own_redis_url)
        first = make_show(database_url, own_redis_url, room)
        engine = make_engine(database_url)
        with transaction(session_factory(engine)) as session:
            second = add_show(session, room=session.scalar(select(Room).where(Room.slug == room)), title="下一场",
                              planned_start=utcnow() + timedelta(hours=3)).id
        engine.dispose()
        client = live.admin
        assert drive(client, room, "start").status_code == 204

        longest = 0
        parts = parts_dir(Path(tmp_path), room, first)
        for batch in range(BATCHES):
            if batch == BATCHES // 2:
                # The disk refuses the recording (a file where its folder should be): the
                # failure is kept for tech staff, nothing is trimmed away meanwhile, and
                # the next round after the disk is back catches up.
                wait_until(parts.is_dir, what="the first parts")
                parts.rename(parts.with_name("aside"))
                parts.write_text("not a folder")
            now_ms = int(time.time() * 1000)
            events = [comment(f"c{batch}-{i}", f"第{batch}批 {i} 号", ts=now_ms, user=f"u{i % 37}")
                      for i in range(BATCH)]
            assert live.post_events(room, events).json()["accepted"] == BATCH
            live.wait_for_state(room, lambda s, n=(batch + 1) * BATCH: s["comments"] == n)
            time.sleep(0.5)  # a recorder round or so per batch
            longest = max(longest, store.xlen(keys.stream(room)))
            if batch == BATCHES // 2:
                failure = wait_until(lambda: store.get(keys.recording_failure(room)), what="recording failure")
                assert b"not a folder" not in failure and b"since" in failure
                cursor = store.get(keys.recorded(room)).decode()
                unrecorded = store.xrange(keys.stream(room), min=f"({cursor}", max="+")
                recorded, _ = read_parts(parts.with_name("aside"))
                # Every event the recorder has not reached is still in the stream.
                assert len(recorded) + len(unrecorded) == (batch + 1) * BATCH
                parts.unlink()
                parts.with_name("aside").rename(parts)
                wait_until(lambda: not store.exists(keys.recording_failure(room)), what="recovery")
        total = BATCHES * BATCH
        # Trimmed to the bound as the show went, never below what was not yet recorded.
        wait_until(lambda: store.xlen(keys.stream(room)) <= STREAM_MAXLEN, what="trimmed stream")

        newest = store.xrevrange(keys.stream(room), count=1)[0][0]
        wait_until(lambda: store.get(keys.recorded(room)) == newest, what="the recorder at the newest entry")
        draft = client.get(f"/rooms/{room}/shows/{first}/review.json").json()
        assert draft["final"] is False
        assert draft["events"] == total and draft["headline"]["comments"] == total

        assert drive(client, room, "end").status_code == 204
        data_dir = Path(tmp_path)
        recording = wait_until(lambda: recording_path(data_dir, room, first).exists()
                          and recording_path(data_dir, room, first), what="recording of the ended show")
        events = read_recording(recording)
        assert len(events) == total and len({e["id"] for e in events}) == total
        assert not parts_dir(data_dir, room, first).exists()
        assert not recording_path(data_dir, room, second).exists()
        assert not parts_dir(data_dir, room, second).exists()

        review = client.get(f"/rooms/{room}/shows/{first}/review.json").json()
        assert review["final"] is True
        assert review["events"] == total and review["headline"]["comments"] == total
        assert not store.exists(keys.recording_failure(room))
    finally:
        store.close()
        live.terminate()

