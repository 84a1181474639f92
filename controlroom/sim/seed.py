"""The demo: a room, a live show that advances by itself through a two-hour script, the
next show planned, one user per role, an ingest key and a host link.

Passwords and the key are new on every start and printed, so a newcomer can try every
view and nothing stays valid once the demo data is thrown away.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controlroom.audit.service import record
from controlroom.auth import service
from controlroom.auth.models import ApiKey, User
from controlroom.auth.permissions import Role
from controlroom.auth.secrets import Signer, random_token
from controlroom.rooms.service import get_or_create_room
from controlroom.shows import engine
from controlroom.shows.runs import load_script, save_script
from controlroom.shows.schedule import add_show
from controlroom.shows.script import Cue, Script, Segment

DEMO_ROOM = "demo"
DEMO_ROOM_NAME = "演示直播间 · 好物专场"
DEMO_SHOW_TITLE = "晚间好物专场（演示）"
DEMO_KEY_NAME = "demo simulator"


DEMO_SLOT_S = 2 * 3600
# The simulated audience surges in its flash sale 14 minutes into each 20-minute cycle;
# the demo script's flash sales start 5 minutes into each 20: the audience starts its
# cycle 9 minutes in, so its surges come with the script's flash sales.
DEMO_CYCLE_PHASE_MS = 9 * 60_000
DEMO_NEXT_SHOW_TITLE = "明晚新品首发（演示）"
_SECOND_HOUR = {"1 号品": "4 号品", "2 号品": "5 号品", "A 款": "D 款", "B 款": "E 款", "C 款": "F 款"}


def demo_script() -> Script:
    """Two hours of the hourly flash-sale rhythm that fill the demo's slot exactly: a
    five-minute opening, the first hour, the second hour without its third flash sale
    and its last lucky bag, and a closing. Segments of 3 to 12 minutes, so someone
    watching for half an hour sees the show move on several times."""
    from controlroom.shows.templates import flash_sale_hourly

    first = flash_sale_hourly().segments
    second = []
    # The second hour without its third flash sale and its last lucky bag (the closing
    # takes that place).
    hour = flash_sale_hourly().segments
    for segment in hour[:6] + hour[7:8]:
        title = segment.title
        for old, new in _SECOND_HOUR.items():
            title = title.replace(old, new)
        if segment.kind == "interaction":
            title += " · 第二轮"
        second.append(replace(segment, title=title))
    opening = Segment("开场：欢迎 + 今晚清单", "opening", 300,
                      talk_points="欢迎来到直播间！今晚两个小时，整点都有 9.9 元秒杀，先点个关注不迷路。\n"
                                  "给大家过一遍今晚的清单：六款好物，五轮秒杀，还有福袋和点赞抽奖。",
                      cues=(Cue(0, "欢迎新进来的家人", "host"), Cue(120, "准备第一轮秒杀链接", "controller")))
    closing = Segment("收尾：感谢 + 明晚预告", "closing", 180,
                      talk_points="感谢家人们陪到最后！没抢到的别着急，明晚 8 点新品首发，记得预约。",
                      cues=(Cue(60, "挂明晚预约", "controller"),))
    script = Script(segments=(opening, *first, *second, closing), planned_total_s=DEMO_SLOT_S)
    return script


def _demo_show(session: Session, room, now: datetime):
    """The demo show, started now and advancing by itself (auto-advance) through a script
    that fills its two-hour slot, so the run-of-show, the host screen and the cues have
    something to do from the first minute and for as long as someone watches. The
    controller can still drive it (next, extend, insert …)."""
    show = add_show(session, room=room, title=DEMO_SHOW_TITLE, planned_start=now, status="live")
    script = demo_script()
    save_script(session, show, script)
    run = engine.set_auto_advance(engine.RunState(), True)
    show.run = engine.start(script, run, int(now.timestamp() * 1000)).to_json()
    session.flush()
    return show


def _plan_next_show(session: Session, room, now: datetime) -> None:
    """Tomorrow's show, planned, so the next script can be prepared while this one is live."""
    from controlroom.shows.templates import hook_10_20_30

    if any(s.status == "scheduled" and s.planned_start > now for s in room.shows):
        return
    show = add_show(session, room=room, title=DEMO_NEXT_SHOW_TITLE, planned_start=now + timedelta(days=1))
    save_script(session, show, Script(hook_10_20_30().segments, planned_total_s=3600))


def _running_demo_show(session: Session, room, now: datetime):
    """The room's live show if it is still within its slot; a live show past it (the
    demo was stopped hours ago) is ended, and a fresh one starts."""
    now_ms = int(now.timestamp() * 1000)
    for show in [s for s in room.shows if s.status == "live"]:
        run = engine.RunState.from_json(show.run)
        slot_ms = (show.planned_total_s or DEMO_SLOT_S) * 1000
        if run.started_at is not None and run.started_at + slot_ms > now_ms:
            return show
        try:
            show.run = engine.end(load_script(session, show), run, now_ms).to_json()
        except engine.ActionRefused:
            pass
        show.status = "ended"
    return None


@dataclass
class DemoAccess:
    passwords: dict[str, tuple[str, str]]  # username -> (role, password)
    api_key: str
    host_token: str


def seed_demo(session: Session, *, timezone_name: str, now: datetime, signer: Signer) -> DemoAccess:
    room = get_or_create_room(session, slug=DEMO_ROOM, name=DEMO_ROOM_NAME, timezone=timezone_name)
    show = _running_demo_show(session, room, now) or _demo_show(session, room, now)
    _plan_next_show(session, room, now)
    passwords: dict[str, tuple[str, str]] = {}
    for role in Role:
        username = role.value
        password = random_token(9)
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            service.create_user(session, username=username, password=password, role=role.value,
                                display_name=f"演示{role.value}", room_slugs=[DEMO_ROOM])
        else:
            service.update_user(session, user=user, now=now, password=password, disabled=False)
        passwords[username] = (role.value, password)
    for old in session.scalars(select(ApiKey).where(ApiKey.room_id == room.id, ApiKey.revoked_at.is_(None))):
        old.revoked_at = now
    _, api_key = service.create_api_key(session, room=room, name=DEMO_KEY_NAME, created_by="demo")
    link = service.current_host_link(session, show=show) or service.create_host_link(
        session, show=show, created_by="demo", now=now
    )
    record(session, actor="demo", action="demo.seed", now=now, room=room)
    return DemoAccess(passwords=passwords, api_key=api_key, host_token=signer.host_link_token(link.id, link.nonce))
