"""A room's chat channels as admins set them up, and their delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from controlroom.i18n.refusal import Refusal
from controlroom.notify.models import EVENTS, LEVELS, NotifyChannel, NotifyDelivery
from controlroom.notify.robots import KINDS
from controlroom.notify.secrets import Sealer, hint, url_hint
from controlroom.rooms.models import Room

MAX_NAME = 100
DELIVERIES_SHOWN = 50


class ChannelRefused(Refusal):
    pass


def create_channel(session: Session, sealer: Sealer, *, room: str, kind: str, name: str, url: str, secret: str,
                   levels: list[str], events: list[str], by: str, now: datetime) -> NotifyChannel:
    room_row = session.scalar(select(Room).where(Room.slug == room))
    if room_row is None:
        raise ChannelRefused("room: no room %(room)s", room=room[:64])
    if kind not in KINDS:
        raise ChannelRefused("kind: one of %(choices)s", choices=", ".join(KINDS))
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise ChannelRefused("name: 1 to %(max)s characters", max=MAX_NAME)
    url = url.strip()
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(url) > 2000:
        raise ChannelRefused("url: the robot's webhook address, starting with https://")
    secret = secret.strip()
    if kind in ("feishu", "dingtalk", "webhook") and len(secret) > 500:
        raise ChannelRefused("secret: at most 500 characters")
    if kind == "wecom" and secret:
        raise ChannelRefused("secret: a WeCom robot has none (its key is in the address)")
    levels = [level for level in LEVELS if level in levels]
    events = [event for event in EVENTS if event in events]
    if not levels:
        raise ChannelRefused("levels: choose at least one")
    if not events:
        raise ChannelRefused("events: choose at least one")
    channel = NotifyChannel(room_id=room_row.id, kind=kind, name=name, url_sealed=sealer.seal(url),
                            secret_sealed=sealer.seal(secret), url_hint=url_hint(url), secret_hint=hint(secret),
                            levels=levels, events=events, enabled=True, created_by=by, created_at=now)
    session.add(channel)
    session.flush()
    return channel


def channel_row(session: Session, channel_id: int) -> NotifyChannel:
    channel = session.get(NotifyChannel, channel_id)
    if channel is None:
        raise LookupError(f"no channel {channel_id}")
    return channel


def set_enabled(session: Session, channel_id: int, enabled: bool) -> NotifyChannel:
    channel = channel_row(session, channel_id)
    channel.enabled = enabled
    return channel


def delete_channel(session: Session, channel_id: int) -> None:
    session.delete(channel_row(session, channel_id))


def channels_page(session: Session, *, room_slugs: frozenset[str] | None) -> list[dict[str, Any]]:
    """Every channel the reader may see, with its newest deliveries (never the address
    or the secret in full)."""
    query = select(NotifyChannel, Room.slug, Room.name).join(Room, Room.id == NotifyChannel.room_id)
    if room_slugs is not None:
        query = query.where(Room.slug.in_(room_slugs))
    shown = []
    for channel, slug, room_name in session.execute(query.order_by(Room.name, NotifyChannel.id)):
        deliveries = session.scalars(select(NotifyDelivery).where(NotifyDelivery.channel_id == channel.id)
                                     .order_by(NotifyDelivery.id.desc()).limit(DELIVERIES_SHOWN))
        shown.append({
            "id": channel.id, "room": slug, "room_name": room_name, "kind": channel.kind, "name": channel.name,
            "url_hint": channel.url_hint, "secret_hint": channel.secret_hint, "levels": channel.levels,
            "events": channel.events, "enabled": channel.enabled, "created_by": channel.created_by,
            "deliveries": [{"at": d.at, "status": d.status, "attempt": d.attempt, "notices": d.notices,
                            "title": d.title, "detail": d.detail} for d in deliveries],
        })
    return shown
