"""The run-of-show in SQL and on the screens: scripts stored as segment rows, the run
as JSON on the show, the controller's actions, cue firings, and the projection every
screen of the room reads from Redis. Keyword-only functions; the caller owns the
transaction."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any

from redis.asyncio.client import Pipeline
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from controlroom.audit.service import record
from controlroom.bus import keys
from controlroom.live.projections import declare
from controlroom.rooms.models import Room
from controlroom.shows.models import Show
from controlroom.shows.schedule import current_show
from controlroom.shows import engine
from controlroom.shows.engine import ActionRefused, Firing, RunState
from controlroom.shows.models import CueFiring, SegmentRow
from controlroom.shows.script import SEGMENT_KINDS, Cue, Product, Script, Segment

RECENT_CUES = 5


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# --- the script --------------------------------------------------------------------------


def load_script(session: Session, show: Show) -> Script:
    rows = session.scalars(select(SegmentRow).where(SegmentRow.show_id == show.id).order_by(SegmentRow.position))
    return Script(
        segments=tuple(
            Segment(title=r.title, kind=r.kind, planned_s=r.planned_s, sku=r.sku, talk_points=r.talk_points,
                    notes=r.notes, starts_at_s=r.starts_at_s, online_target=r.online_target,
                    cues=tuple(Cue(offset, text, audience) for offset, text, audience in r.cues))
            for r in rows
        ),
        planned_total_s=show.planned_total_s,
        products=tuple(Product(**row) for row in show.products or ()),
    )


def save_script(session: Session, show: Show, script: Script) -> None:
    """Replace the show's segments with the script's. A live show keeps its place: the
    run points at positions, so inserting before the current segment is refused by
    the callers that could do it."""
    session.execute(delete(SegmentRow).where(SegmentRow.show_id == show.id))
    for position, s in enumerate(script.segments):
        if s.kind not in SEGMENT_KINDS:
            raise ActionRefused("segment %(n)s: unknown kind “%(kind)s”", n=position + 1, kind=s.kind)
        session.add(SegmentRow(
            show_id=show.id, position=position, title=s.title, kind=s.kind, planned_s=s.planned_s, sku=s.sku,
            talk_points=s.talk_points, notes=s.notes, starts_at_s=s.starts_at_s, online_target=s.online_target,
            cues=[[c.offset_s, c.text, c.audience] for c in s.cues],
        ))
    show.planned_total_s = script.planned_total_s
    show.products = [asdict(product) for product in script.products]
    session.flush()


# --- actions -----------------------------------------------------------------------------

ACTIONS = ("start", "next", "back", "jump", "extend", "skip", "insert", "hold", "resume", "end", "pull_interaction",
           "pull", "auto")
YES = ("on", "true", "1", "yes")


def act(session: Session, *, show: Show, action: str, now_ms: int, params: dict[str, Any]) -> dict[str, Any]:
    """Apply one controller action to the show's run; returns what the audit log keeps.
    insert and pull_interaction / pull (segment) resume the interrupted segment after the
    new one unless `replace` is on; auto (on) turns auto-advance on or off."""
    script = load_script(session, show)
    run = RunState.from_json(show.run)
    detail: dict[str, Any] = {"action": action, "segment": run.index}
    replace_current = _flag(params, "replace")
    if action == "start":
        run = engine.start(script, run, now_ms)
        if _ms(show.planned_start) > now_ms:
            # Started early: the show's timeline (planned times, charts, which show the
            # screens follow once it ended) runs from now.
            detail["planned_start_was"] = show.planned_start.isoformat()
            show.planned_start = _dt(now_ms)
    elif action == "next":
        run = engine.next_segment(script, run, now_ms)
    elif action == "back":
        run = engine.back(script, run, now_ms)
    elif action == "skip":
        run = engine.skip(script, run, now_ms)
    elif action == "jump":
        run = engine.jump(script, run, _int(params, "segment") - 1, now_ms)
    elif action == "extend":
        seconds = _int(params, "seconds")
        if seconds not in (-300, -60, 60, 300):
            raise ActionRefused("seconds: extend by ±60 or ±300, not %(seconds)s", seconds=seconds)
        run = engine.extend(script, run, seconds, now_ms)
        detail["seconds"] = seconds
    elif action == "hold":
        run = engine.hold(run, now_ms)
    elif action == "resume":
        run = engine.resume(run, now_ms)
    elif action == "end":
        run = engine.end(script, run, now_ms)
    elif action == "auto":
        run = engine.set_auto_advance(run, _flag(params, "on"))
        detail["auto_advance"] = run.auto_advance
    elif action == "insert":
        title = str(params.get("title", "")).strip() or "专家答疑"
        kind = str(params.get("kind", "qa"))
        minutes = _int(params, "minutes")
        if kind not in SEGMENT_KINDS or not 1 <= minutes <= 60:
            raise ActionRefused("insert: a kind of segment and 1-60 minutes")
        _need_running(run)
        detail.update(_resumed(script, run, now_ms, replace_current))
        script, run = engine.insert_now(script, run, Segment(title=title[:200], kind=kind, planned_s=minutes * 60),
                                        now_ms, replace_current=replace_current)
        save_script(session, show, script)
        detail.update(title=title, minutes=minutes)
    elif action in ("pull_interaction", "pull"):
        _need_running(run)
        if action == "pull":
            index = _int(params, "segment") - 1
        else:
            later = [i for i in range(run.index + 1, len(script.segments)) if script.segments[i].kind == "interaction"]
            if not later:
                raise ActionRefused("No interaction segment left to pull forward")
            index = later[0]
        detail.update(_resumed(script, run, now_ms, replace_current))
        script, run = engine.pull_forward(script, run, index, now_ms, replace_current=replace_current)
        save_script(session, show, script)
        detail["pulled"] = script.segments[run.index].title
    else:
        raise ActionRefused("unknown action “%(action)s”; one of %(actions)s", action=action,
                            actions=", ".join(ACTIONS))
    _store_run(show, run)
    detail["now_segment"] = run.index
    return detail


def _resumed(script: Script, run: RunState, now_ms: int, replace_current: bool) -> dict[str, Any]:
    """For the audit log: what of the interrupted segment comes back after the new one."""
    split = None if replace_current or run.status not in (engine.LIVE, engine.HELD) else engine.split_current(
        script, run, now_ms)
    return {"replace": replace_current, "resumes_s": split[1].planned_s if split else None}


def _flag(params: dict[str, Any], name: str) -> bool:
    return str(params.get(name, "")).strip().lower() in YES


def start_show(session: Session, *, room: Room, show: Show, now_ms: int) -> dict[str, Any]:
    """Start a planned show of the room now (early, or when the screens follow another
    show). Refused while another show of the room is live."""
    # Two people starting two shows at once: the room's row is locked (PostgreSQL) so
    # the second sees the first one live.
    session.execute(select(Room.id).where(Room.id == room.id).with_for_update())
    live = session.scalar(select(Show).where(Show.room_id == room.id, Show.status == "live", Show.id != show.id))
    if live is not None:
        raise ActionRefused("“%(title)s” is live: end it before starting another show", title=live.title)
    if show.status != "scheduled":
        raise ActionRefused("“%(title)s” has already started", title=show.title)
    return act(session, show=show, action="start", now_ms=now_ms, params={})


def advance_if_due(session: Session, *, show: Show, now_ms: int) -> bool:
    """Auto-advance, decided on the show as stored (an action the controller took
    meanwhile wins); audited as the ticker's. True if the show moved on."""
    run = RunState.from_json(show.run)
    moved = engine.auto_advance(load_script(session, show), run, now_ms)
    if moved is None:
        return False
    _store_run(show, moved)
    record(session, actor="auto-advance", action="show.auto_next", now=_dt(now_ms), room=show.room,
           detail={"show": show.title, "segment": run.index, "now_segment": moved.index})
    session.flush()
    return True


def _need_running(run: RunState) -> None:
    if run.status == engine.ENDED:
        raise ActionRefused("The show has ended")
    if run.status not in (engine.LIVE, engine.HELD):
        raise ActionRefused("The show has not started yet")


def _int(params: dict[str, Any], name: str) -> int:
    """A whole-number field of the action: segment, seconds or minutes."""
    raw = str(params.get(name, "")).strip()
    try:
        return int(raw)
    except ValueError:
        pass
    if name == "seconds":
        raise ActionRefused("seconds: “%(value)s” is not a whole number", value=raw)
    if name == "minutes":
        raise ActionRefused("minutes: “%(value)s” is not a whole number", value=raw)
    raise ActionRefused("segment: “%(value)s” is not a whole number", value=raw)


def _store_run(show: Show, run: RunState) -> None:
    show.run = run.to_json()
    show.status = {engine.HELD: "live"}.get(run.status, run.status)


# --- cues ----------------------------------------------------------------------------------


def fire_due_cues(session: Session, *, show: Show, now_ms: int) -> list[Firing]:
    """Record the cues whose time has come; returns them (empty: nothing was due)."""
    run = RunState.from_json(show.run)
    if run.status != engine.LIVE:
        return []
    script = load_script(session, show)
    due = engine.due_cues(script, run, now_ms)
    if not due:
        return []
    for firing in due:
        session.add(CueFiring(
            show_id=show.id, segment_index=firing.segment, segment_title=script.segments[firing.segment].title,
            key=firing.key, text=firing.text, audience=firing.audience, planned_at=_dt(firing.planned_at),
            fired_at=_dt(now_ms),
        ))
    _store_run(show, engine.mark_fired(run, due))
    session.flush()
    return due


# --- what the screens show ------------------------------------------------------------------


def show_projection(session: Session, *, room: str, now: datetime) -> dict[str, Any] | None:
    """The room's current show as the screens need it (positions are computed at render
    time from the run, so the countdown needs no pushes)."""
    show = current_show(session, room, now)
    if show is None:
        return None
    script = load_script(session, show)
    firings = session.scalars(
        select(CueFiring).where(CueFiring.show_id == show.id).order_by(CueFiring.fired_at.desc(), CueFiring.id.desc())
        .limit(RECENT_CUES)
    )
    upcoming = None
    if show.status != "live":
        # What "start now" would start when no show is live: the next planned show.
        upcoming = session.scalar(
            select(Show).join(Room).where(Room.slug == room, Show.status == "scheduled", Show.id != show.id)
            .order_by(Show.planned_start, Show.id))
    return {
        "id": show.id, "title": show.title, "status": show.status, "planned_start": _ms(show.planned_start),
        "rehearsal": show.rehearsal,
        "upcoming": {"id": upcoming.id, "title": upcoming.title, "planned_start": _ms(upcoming.planned_start)}
        if upcoming is not None else None,
        "planned_total_s": show.planned_total_s, "run": show.run or RunState().to_json(),
        "segments": [asdict(segment) for segment in script.segments],
        "products": [asdict(product) for product in script.products],
        "cues": [
            {"text": f.text, "audience": f.audience, "segment": f.segment_index, "key": f.key,
             "planned_at": _ms(f.planned_at), "fired_at": _ms(f.fired_at)}
            for f in firings
        ],
    }


def script_of_projection(data: dict[str, Any]) -> Script:
    return Script(
        segments=tuple(
            Segment(**{**s, "cues": tuple(Cue(**c) if isinstance(c, dict) else Cue(*c) for c in s["cues"])})
            for s in data["segments"]
        ),
        planned_total_s=data.get("planned_total_s"),
        products=tuple(Product(**p) for p in data.get("products", ())),
    )


def _mark_show_start(pipe: Pipeline, room: str | None, data: dict[str, Any] | None) -> None:
    # Workers start the room's numbers over when this changes (a show started).
    started = ((data or {}).get("run") or {}).get("started_at")
    if started and room is not None:
        pipe.hset(keys.meta(room), "show_started_at", started)


def room_show(session: Session, room: str, now: datetime) -> tuple[Room, Show]:
    room_row = session.scalar(select(Room).where(Room.slug == room))
    if room_row is None:
        raise LookupError(f"room {room!r} not found")
    show = current_show(session, room, now)
    if show is None:
        raise ActionRefused("this room has no show yet")
    return room_row, show


def show_view(data: dict[str, Any] | None, now_ms: int, *, yellow_s: int = engine.YELLOW_S) -> dict[str, Any] | None:
    """The projection with where the show stands now, for the templates. Pure."""
    if data is None:
        return None
    script = script_of_projection(data)
    run = RunState.from_json(data["run"])
    pos = engine.position(script, run, now_ms, yellow_s=yellow_s)
    report = engine.planned_vs_actual(script, run, now_ms)
    current = data["segments"][run.index] if pos.segment is not None else None
    return {
        **data,
        "index": run.index,
        "run_status": run.status,
        "auto_advance": run.auto_advance,
        "resumed": [engine.is_resumed(segment) for segment in script.segments],
        "current": current,
        "next": asdict(pos.next_segment) if pos.next_segment is not None else None,
        "elapsed_s": pos.elapsed_s,
        "remaining_s": pos.remaining_s,
        "phase": pos.phase,
        "segment_ends_at": pos.segment_ends_at,
        "projected_end_at": pos.projected_end_at,
        "planned_end_at": data["planned_start"] + data["planned_total_s"] * 1000 if data.get("planned_total_s") else None,
        "report": [asdict(row) for row in report],
        "segment_marks": [[a.started_at // 1000, a.title] for a in run.actuals],
        "now": now_ms,
        "yellow_s": yellow_s,
    }


# Segments that pull traffic in for a while (秒杀, 福袋 and other interaction), and how
# long their pull lasts after they end.
BOOSTING_KINDS = frozenset({"flash_sale", "interaction"})
BOOST_AFTER_MS = 120_000


def boosted_spans(data: dict[str, Any] | None, now_ms: int) -> tuple[tuple[int, int], ...]:
    """[start, end) ms of the show's flash sales and lucky bags so far, each with the
    two minutes after it, from the show projection. Pure."""
    if not data:
        return ()
    segments = data.get("segments") or []
    spans = []
    for actual in RunState.from_json(data["run"]).actuals:
        if actual.index < len(segments) and segments[actual.index].get("kind") in BOOSTING_KINDS:
            spans.append((actual.started_at, (actual.ended_at or now_ms) + BOOST_AFTER_MS))
    return tuple(spans)


def segment_time_left(data: dict[str, Any] | None, now_ms: int) -> float | None:
    """Seconds left in the running segment while the controller drives the show (live,
    auto-advance off: with it on, the show moves on by itself); None otherwise. Pure."""
    if not data:
        return None
    run = RunState.from_json(data["run"])
    if run.status != engine.LIVE or run.auto_advance:
        return None
    return engine.position(script_of_projection(data), run, now_ms).remaining_s


def on_stage(data: dict[str, Any] | None) -> tuple[dict[str, Any], int] | None:
    """The running segment of a live show and when it started; None between shows. Pure."""
    if not data:
        return None
    run = RunState.from_json(data["run"])
    segments = data.get("segments") or []
    if run.status not in (engine.LIVE, engine.HELD) or run.index >= len(segments) or run.segment_started_at is None:
        return None
    return segments[run.index], run.segment_started_at


def planned_stock(data: dict[str, Any] | None) -> dict[str, int]:
    """SKU -> the stock the show's product list starts it with (where known). Pure."""
    return {p["sku"]: p["stock"] for p in (data or {}).get("products") or () if p.get("stock") is not None}


SHOW = declare(
    "show",
    build=lambda session, room, now: show_projection(session, room=room.slug, now=now),
    present=lambda data, now_ms, options: show_view(data, now_ms, yellow_s=options.segment_warning_s),
    extra=_mark_show_start,
)
