"""An ended show's review is computed once and served from SQL: it opens without its
recording, a rebuild from the recording (button or `controlroom review rebuild`) gives
the same numbers, and a rebuild without a recording says why."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.reports.models import ShowReview
from controlroom.reports.recording import read_recording, recording_path
from controlroom.sim.samples import SAMPLE
from tests.support import csrf_of
from tests.web.test_review_in_browser import sample_show

COMPARED = ("headline", "series", "segments", "products", "hot_words", "questions", "moderation", "findings")


def stored(database_url: str, show_id: int) -> ShowReview | None:
    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:
        row = session.scalar(select(ShowReview).where(ShowReview.show_id == show_id))
        session.expunge_all()
    engine.dispose()
    return row


def test_an_ended_show_s_review_is_stored_served_without_its_recording_and_rebuilt_alike(
    server, room, database_url
):
    show_id = sample_show(server, room, database_url)
    client = server.admin
    first = client.get(f"/rooms/{room}/shows/{show_id}/review.json").json()
    row = stored(database_url, show_id)
    assert row is not None and row.events == len(read_recording(SAMPLE)) == first["events"]
    assert row.headline == first["headline"]

    recording = recording_path(Path(server.env["CONTROLROOM_DATA_DIR"]), room, show_id)
    aside = recording.with_name("aside.jsonl.gz")
    recording.rename(aside)
    try:
        again = client.get(f"/rooms/{room}/shows/{show_id}/review.json").json()
        assert {k: again[k] for k in COMPARED} == {k: first[k] for k in COMPARED}
        page = client.get(f"/rooms/{room}/shows/{show_id}/review")
        assert page.status_code == 200 and f"{first['headline']['comments']:,}" in page.text
        refused = client.post(f"/rooms/{room}/shows/{show_id}/review/rebuild?lang=zh_CN",
                              data={"csrftoken": csrf_of(client, f"/rooms/{room}/shows/{show_id}/review")},
                              follow_redirects=False)
        assert refused.status_code == 409 and "没有录制" in refused.text and "第 " in refused.text
    finally:
        shutil.move(aside, recording)

    # The button: computed again from the recording, stored, the same numbers.
    before = stored(database_url, show_id).computed_at
    rebuilt = client.post(f"/rooms/{room}/shows/{show_id}/review/rebuild",
                          data={"csrftoken": csrf_of(client, f"/rooms/{room}/shows/{show_id}/review")},
                          follow_redirects=False)
    assert rebuilt.status_code == 303
    row = stored(database_url, show_id)
    assert row.computed_at > before
    assert {k: row.body[k] for k in COMPARED} == {k: first[k] for k in COMPARED}

    # The command line does the same.
    done = subprocess.run([sys.executable, "-m", "controlroom.cli", "review", "rebuild", "--room", room,
                           "--show", str(show_id)], env=server.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{first['events']} events" in done.stderr
    assert stored(database_url, show_id).computed_at > row.computed_at


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_a_review_process_that_dies_is_replaced(server, room, database_url):
    show_id = sample_show(server, room, database_url)
    client = server.admin
    assert client.get(f"/rooms/{room}/shows/{show_id}/review.json").status_code == 200  # the process runs
    workers = [pid for pid in _children(server.proc.pid)
               if b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    assert workers, "no review process under the server"
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    page = f"/rooms/{room}/shows/{show_id}/review"
    rebuilt = client.post(f"{page}/rebuild", data={"csrftoken": csrf_of(client, page)}, follow_redirects=False)
    assert rebuilt.status_code == 303
    assert client.get(f"{page}.json").json()["events"] == len(read_recording(SAMPLE))
