"""Which of our rooms a platform's room (or shop) feeds, and the secret its pushes are
signed with. SQL is the record; Redis holds the lookup the hook routes use, so a push
is answered without touching SQL."""

from __future__ import annotations

from datetime import datetime

import orjson
from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from controlroom.bus import keys
from controlroom.db.base import Base, UTCDateTime, utcnow
from controlroom.bus.client import Bus
from controlroom.live.projections import declare
from controlroom.rooms.models import Room

# Platforms that push to us (a hook URL each) and sources we connect to (connectors run
# by the worker holding the room): platform -> (Chinese name, English name).
PUSHED_PLATFORMS = {
    "douyin": ("抖音直播间", "Douyin live room"),
    "doudian": ("抖店", "Douyin shop"),
    "kuaishou": ("快手直播间", "Kuaishou live room"),
}
CONNECTED_PLATFORMS = {
    "bilibili": ("哔哩哔哩直播（开放平台）", "Bilibili live (open platform)"),
    "channels": ("视频号直播", "WeChat Channels live"),
    "obs": ("OBS 推流软件", "OBS encoder"),
}
PLATFORMS = PUSHED_PLATFORMS | CONNECTED_PLATFORMS
# What the id and the secret are for each platform (the form's hints).
BINDING_FORMATS = {
    "douyin": ("x-roomid", "app secret"),
    "doudian": ("shop_id", "app_key:app_secret"),
    "kuaishou": ("author_open_id (主播 open id)", "AppSecret"),
    "bilibili": ("主播身份码", "app_id:access_key_id:access_key_secret"),
    "channels": ("视频号 id (sph…) / export/…", "appid:appsecret"),
    "obs": ("host:port", "obs-websocket 密码 (password)"),
}


class PlatformBinding(Base):
    __tablename__ = "platform_bindings"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))  # x-roomid; shop_id
    # Douyin: the app secret. Doudian: "<app_key>:<app_secret>". Never shown back in full.
    secret: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    room: Mapped[Room] = relationship()


class BindingError(ValueError):
    pass


def masked(secret: str) -> str:
    """Enough to tell secrets apart, not enough to use one."""
    return secret[:3] + "…" + secret[-2:] if len(secret) > 8 else "…"


def room_bindings(session: Session, room: Room) -> list[PlatformBinding]:
    return list(session.scalars(select(PlatformBinding).where(PlatformBinding.room_id == room.id)
                                .order_by(PlatformBinding.platform, PlatformBinding.external_id)))


def bind(session: Session, *, room: Room, platform: str, external_id: str, secret: str, by: str) -> PlatformBinding:
    external_id, secret = external_id.strip(), secret.strip()
    if platform not in PLATFORMS:
        raise BindingError(f"platform: one of {', '.join(PLATFORMS)}")
    if not external_id or len(external_id) > 128:
        raise BindingError("external_id: the platform's room or shop id, 1-128 characters")
    expected = BINDING_FORMATS[platform][1]
    if expected.count(":") and (secret.count(":") != expected.count(":") or not all(secret.split(":"))):
        raise BindingError(f"secret: for {PLATFORMS[platform][0]} write {expected}")
    if platform == "kuaishou" and ":" in secret:
        raise BindingError("secret: for 快手 write the app's AppSecret alone, not app_id:secret")
    if platform == "bilibili" and not secret.split(":")[0].isdigit():
        raise BindingError("secret: the Bilibili app_id is a number (app_id:access_key_id:access_key_secret)")
    if platform == "obs":
        host, _, port = external_id.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise BindingError("external_id: the OBS machine and its obs-websocket port, as host:port")
        if len(secret) > 300:
            raise BindingError("secret: at most 300 characters")
    elif len(secret) < 6 or len(secret) > 300:
        raise BindingError("secret: 6-300 characters")
    binding = session.scalar(select(PlatformBinding).where(
        PlatformBinding.platform == platform, PlatformBinding.external_id == external_id))
    if binding is not None and binding.room_id != room.id:
        raise BindingError(f"external_id: {platform} {external_id} feeds room {binding.room.slug} already")
    if binding is None:
        binding = PlatformBinding(room_id=room.id, platform=platform, external_id=external_id, created_by=by)
        session.add(binding)
    binding.secret = secret
    session.flush()
    return binding


def unbind(session: Session, *, room: Room, binding_id: int) -> PlatformBinding:
    binding = session.get(PlatformBinding, binding_id)
    if binding is None or binding.room_id != room.id:
        raise LookupError(f"no binding {binding_id} in room {room.slug}")
    session.delete(binding)
    session.flush()
    return binding


def _bindings_lookup(session: Session) -> dict[str, dict[str, bytes]]:
    lookup: dict[str, dict[str, bytes]] = {platform: {} for platform in PLATFORMS}
    for b in session.scalars(select(PlatformBinding)):
        lookup[b.platform][b.external_id] = orjson.dumps({"room": b.room.slug, "secret": b.secret})
    return lookup


async def _write_bindings(bus: Bus, room: str | None, lookup: dict[str, dict[str, bytes]], as_of_ms: int) -> None:
    pipe = bus.redis.pipeline(transaction=True)
    for platform, entries in lookup.items():
        pipe.delete(keys.bindings(platform))
        if entries:
            pipe.hset(keys.bindings(platform), mapping=entries)
    await pipe.execute()


# Which of our rooms a platform's push belongs to, and the secret that signs it.
BINDINGS = declare("bindings", per_room=False, build=lambda session, room, now: _bindings_lookup(session),
                   write=_write_bindings)
