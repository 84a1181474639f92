"""The demo: a room, a live show, one user per role, an ingest key and a host link.

Passwords and the key are new on every start and printed, so a newcomer can try every
view and nothing stays valid once the demo data is thrown away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from controlroom.audit.service import record
from controlroom.auth import service
from controlroom.auth.models import ApiKey, User
from controlroom.auth.permissions import Role
from controlroom.auth.secrets import Signer, random_token
from controlroom.rooms.service import get_or_create_room
from controlroom.shows.schedule import add_show

DEMO_ROOM = "demo"
DEMO_ROOM_NAME = "演示直播间 · 好物专场"
DEMO_SHOW_TITLE = "晚间好物专场（演示）"
DEMO_KEY_NAME = "demo simulator"


def _demo_show(session: Session, room, now: datetime):
    """A show on the hourly flash-sale rhythm, started now, so the run-of-show, the
    host screen and the cues have something to do from the first minute."""
    from controlroom.shows import engine
    from controlroom.shows.runs import save_script
    from controlroom.shows.script import Script
    from controlroom.shows.templates import flash_sale_hourly

    show = add_show(session, room=room, title=DEMO_SHOW_TITLE, planned_start=now, status="live")
    script = flash_sale_hourly()
    save_script(session, show, Script(script.segments, planned_total_s=2 * 3600))
    show.run = engine.start(script, engine.RunState(), int(now.timestamp() * 1000)).to_json()
    session.flush()
    return show


@dataclass
class DemoAccess:
    passwords: dict[str, tuple[str, str]]  # username -> (role, password)
    api_key: str
    host_token: str


def seed_demo(session: Session, *, timezone_name: str, now: datetime, signer: Signer) -> DemoAccess:
    room = get_or_create_room(session, slug=DEMO_ROOM, name=DEMO_ROOM_NAME, timezone=timezone_name)
    show = room.shows[-1] if room.shows else _demo_show(session, room, now)
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
