"""Playbooks in SQL: definitions (YAML defaults, edited as YAML), runs with their
timeline, and the projection every screen of a room reads. Keyword-only functions that
do not commit: the caller owns the transaction."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from controlroom.live.projections import declare
from controlroom.playbooks import runner
from controlroom.playbooks.models import PlaybookEvent, PlaybookRow, PlaybookRunRow
from controlroom.playbooks.runner import PlaybookRun, RunRefused
from controlroom.playbooks.schemas import PlaybookDefinition
from controlroom.rooms.models import Room
from controlroom.shows.schedule import current_show
from controlroom.shows.service import send_host_message

# Ended runs stay on the screens this long.
RECENTLY_ENDED = timedelta(minutes=10)
MAX_NOTE = 1000


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


# --- definitions -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def default_playbooks() -> tuple[PlaybookDefinition, ...]:
    text = resources.files("controlroom.playbooks").joinpath("defaults.yaml").read_text(encoding="utf-8")
    return tuple(PlaybookDefinition.model_validate(item) for item in yaml.safe_load(text))


def install_default_playbooks(session: Session) -> int:
    existing = set(session.scalars(select(PlaybookRow.key)))
    added = 0
    for playbook in default_playbooks():
        if playbook.key not in existing:
            session.add(PlaybookRow(key=playbook.key, definition=playbook.model_dump(mode="json"), builtin=True,
                                    updated_by="defaults"))
            added += 1
    session.flush()
    return added


def definitions(session: Session) -> list[PlaybookDefinition]:
    return [PlaybookDefinition.model_validate(row.definition)
            for row in session.scalars(select(PlaybookRow).order_by(PlaybookRow.id))]


def definition_by_key(session: Session, key: str) -> PlaybookDefinition | None:
    row = session.scalar(select(PlaybookRow).where(PlaybookRow.key == key))
    return PlaybookDefinition.model_validate(row.definition) if row else None


def playbook_yaml(definition: PlaybookDefinition) -> str:
    return yaml.safe_dump(definition.model_dump(mode="json", exclude_defaults=True), allow_unicode=True, sort_keys=False)


class PlaybookInvalid(ValueError):
    """Problems of an edited definition, one per line with where they are."""


def save_playbook(session: Session, *, key: str | None, text: str, by: str) -> PlaybookDefinition:
    """Create or replace a playbook from its YAML; validated first, so a refused edit
    changes nothing."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise PlaybookInvalid(f"{where}not YAML ({getattr(error, 'problem', error)})") from None
    try:
        definition = PlaybookDefinition.model_validate(data)
    except ValidationError as error:
        raise PlaybookInvalid("\n".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'playbook'}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()
        )) from None
    row = session.scalar(select(PlaybookRow).where(PlaybookRow.key == (key or definition.key)))
    clash = session.scalar(select(PlaybookRow).where(PlaybookRow.key == definition.key))
    if clash is not None and clash is not row:
        raise PlaybookInvalid(f"key: a playbook named {definition.key!r} exists already")
    if row is None:
        if key is not None:
            raise PlaybookInvalid(f"key: no playbook {key!r}")
        row = PlaybookRow(key=definition.key)
        session.add(row)
    row.key = definition.key
    row.definition = definition.model_dump(mode="json")
    row.updated_by = by
    session.flush()
    return definition


# --- runs ------------------------------------------------------------------------------------


def _event(run: PlaybookRunRow, *, kind: str, at: datetime, actor: str, step: int | None = None, text: str = "",
           late: bool = False) -> None:
    run.events.append(PlaybookEvent(kind=kind, at=at, step=step, text=text[:1000], late=late, actor=actor))


def _send_cues(session: Session, room: Room, run: PlaybookRunRow, cues: list[runner.Cue], *, now: datetime,
               by: str) -> None:
    for cue in cues:
        send_host_message(session, room=room, text=cue.text, source="playbook", urgent=True, by=by, now=now)
        _event(run, kind="cue_sent", at=now, actor=by, step=cue.step, text=cue.text)


def start_run(session: Session, *, room: Room, key: str, by: str, now: datetime,
              alert_id: int | None = None, encoder_due: list[int] | None = None) -> PlaybookRunRow:
    """`encoder_due`, when given, receives the steps whose encoder action is due now."""
    definition = definition_by_key(session, key)
    if definition is None:
        raise LookupError(f"no playbook {key!r}")
    running = session.scalar(select(PlaybookRunRow).where(
        PlaybookRunRow.room_id == room.id, PlaybookRunRow.playbook_key == key, PlaybookRunRow.status == runner.RUNNING))
    if running is not None:
        raise RunRefused("“%(playbook)s” is already running in this room (started by %(who)s)",
                        playbook=definition.name, who=running.started_by)
    state, cues = runner.start(definition, _ms(now))
    show = current_show(session, room.slug, now)
    run = PlaybookRunRow(room_id=room.id, show_id=show.id if show else None, alert_id=alert_id, playbook_key=key,
                         definition=definition.model_dump(mode="json"), state=state.to_json(), status=runner.RUNNING,
                         started_at=now, started_by=by)
    session.add(run)
    _event(run, kind="started", at=now, actor=by, text=f"alert #{alert_id}" if alert_id else "")
    _send_cues(session, room, run, cues, now=now, by=by)
    session.flush()
    if encoder_due is not None:
        encoder_due[:] = runner.encoder_steps_due(definition, None, state)
    return run


def _room_run(session: Session, room: Room, run_id: int) -> tuple[PlaybookRunRow, PlaybookDefinition, PlaybookRun]:
    run = session.get(PlaybookRunRow, run_id)
    if run is None or run.room_id != room.id:
        raise LookupError(f"no playbook run {run_id} in room {room.slug}")
    return run, PlaybookDefinition.model_validate(run.definition), PlaybookRun.from_json(run.state)


def tick_step(session: Session, *, room: Room, run_id: int, number: int, by: str, now: datetime,
              encoder_due: list[int] | None = None) -> bool:
    """Mark step `number` (1-based) done; returns whether it was late. `encoder_due`, when
    given, receives the steps whose encoder action is due now."""
    run, definition, before = _room_run(session, room, run_id)
    state, cues, late = runner.tick(definition, before, number - 1, by=by, now=_ms(now))
    if encoder_due is not None:
        encoder_due[:] = runner.encoder_steps_due(definition, before, state, number - 1)
    run.state = state.to_json()
    _event(run, kind="step_done", at=now, actor=by, step=number - 1, text=definition.steps[number - 1].title,
           late=late)
    _send_cues(session, room, run, cues, now=now, by=by)
    session.flush()
    return late


def record_encoder(session: Session, *, room: Room, run_id: int, step: int, text: str, failed: bool, by: str,
                   now: datetime) -> None:
    """What the encoder did for a step (or why it did not), in the run's timeline."""
    run, _, _ = _room_run(session, room, run_id)
    _event(run, kind="encoder_failed" if failed else "encoder", at=now, actor=by, step=step, text=text)
    session.flush()


def add_note(session: Session, *, room: Room, run_id: int, text: str, by: str, now: datetime) -> None:
    run, _, _ = _room_run(session, room, run_id)
    text = text.strip()
    if not text:
        raise RunRefused("note: the note is empty")
    if len(text) > MAX_NOTE:
        raise RunRefused("note: at most %(max)s characters", max=MAX_NOTE)
    _event(run, kind="note", at=now, actor=by, text=text)
    session.flush()


def close_run(session: Session, *, room: Room, run_id: int, status: str, by: str, now: datetime) -> int:
    """Complete or abort; returns how many steps were late."""
    run, definition, state = _room_run(session, room, run_id)
    state = runner.close(state, status=status, by=by, now=_ms(now))
    late = runner.late_steps(definition, state, _ms(now))
    run.state, run.status, run.ended_at = state.to_json(), status, now
    _event(run, kind=status, at=now, actor=by, text=f"{late} late")
    session.flush()
    return late


def running_alert_ids(session: Session, *, room_id: int) -> set[int]:
    """Alerts whose suggested playbook is being run: they need not call for attention."""
    return set(session.scalars(select(PlaybookRunRow.alert_id).where(
        PlaybookRunRow.room_id == room_id, PlaybookRunRow.status == runner.RUNNING,
        PlaybookRunRow.alert_id.is_not(None))))


# --- what the screens show -----------------------------------------------------------------


def playbooks_projection(session: Session, *, room_id: int, now: datetime) -> dict[str, Any]:
    runs = session.scalars(
        select(PlaybookRunRow).where(PlaybookRunRow.room_id == room_id)
        .where(or_(PlaybookRunRow.status == runner.RUNNING, PlaybookRunRow.ended_at >= now - RECENTLY_ENDED))
        .order_by(PlaybookRunRow.started_at.desc())
    )
    return {"runs": [run_view(run, now) for run in runs]}


def run_view(run: PlaybookRunRow, now: datetime) -> dict[str, Any]:
    """A run as the screens and the review show it, its steps judged at `now` (a run
    that ended is judged at its end)."""
    if run.ended_at is not None and run.ended_at < now:
        now = run.ended_at
    definition = PlaybookDefinition.model_validate(run.definition)
    state = PlaybookRun.from_json(run.state)
    views = runner.steps_view(definition, state, _ms(now))
    return {
        "id": run.id, "key": run.playbook_key, "name": definition.name, "name_en": definition.name_en,
        "level": definition.level, "status": run.status, "alert_id": run.alert_id,
        "started_at": _ms(run.started_at), "started_by": run.started_by,
        "ended_at": _ms(run.ended_at) if run.ended_at else None,
        "late": sum(v.late for v in views), "done": sum(v.done for v in views),
        "steps": [
            {"title": step.title, "owner": step.owner, "deadline_s": step.deadline_s, "deadline_at": view.deadline_at,
             "warn_s": runner.warning_s(step.deadline_s), "instructions": step.instructions,
             "checklist": step.checklist, "cue": step.cue, "encoder": step.encoder.model_dump() if step.encoder else None,
             "done": view.done, "late": view.late,
             "current": view.current, "phase": view.phase, "done_at": s.done_at, "done_by": s.done_by}
            for step, view, s in zip(definition.steps, views, state.steps)
        ],
        "notes": [{"at": _ms(e.at), "by": e.actor, "text": e.text} for e in run.events if e.kind == "note"],
        "encoder": [{"at": _ms(e.at), "step": e.step, "text": e.text, "failed": e.kind == "encoder_failed"}
                    for e in run.events if e.kind in ("encoder", "encoder_failed")],
    }


PLAYBOOKS = declare(
    "playbooks", default={"runs": []},
    build=lambda session, room, now: playbooks_projection(session, room_id=room.id, now=now),
)
# The playbooks every room can start (the tech screen's trigger buttons):
# [[key, name, name_en, level, rules]].
CATALOGUE = declare(
    "playbook-catalogue", per_room=False, default=[],
    build=lambda session, room, now: [[d.key, d.name, d.name_en, d.level, d.rules] for d in definitions(session)],
)
