"""Accounts, sessions, API keys, host links, the audit page's query (entries are recorded
by controlroom/audit/service.py). Keyword-only functions that add and flush but never
commit: the caller owns the transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from controlroom.audit.models import AuditEntry
from controlroom.auth.models import ApiKey, HostLink, LoginSession, User
from controlroom.auth.permissions import ROLE_PERMISSIONS, Permission, Role, allows
from controlroom.auth.secrets import (
    Signer,
    burn_password_check,
    hash_password,
    needs_rehash,
    new_api_key,
    random_token,
    token_hash,
    verify_password,
)
from controlroom.rooms.models import Room

if TYPE_CHECKING:
    from controlroom.shows.models import Show

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
MIN_PASSWORD = 8


class AccountError(ValueError):
    """What is wrong with the input, in words for the person who typed it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed-in user, or a host screen opened from a secret link."""

    name: str
    role: Role
    user_id: int | None = None
    # None: every room (admins). Otherwise the slugs of the rooms this principal may see.
    room_slugs: frozenset[str] | None = frozenset()
    session_id: int | None = None
    host_link_id: int | None = None
    show_id: int | None = None

    def allows(self, permission: Permission) -> bool:
        return allows(self.role, permission)

    def can_see_room(self, slug: str) -> bool:
        return self.room_slugs is None or slug in self.room_slugs

    @property
    def permissions(self) -> list[str]:
        """What this principal may do, for pages to show only the controls that work."""
        return sorted(p.value for p in ROLE_PERMISSIONS[Role(self.role)])


# --- users -------------------------------------------------------------------------------


def _rooms_by_slug(session: Session, slugs: Iterable[str]) -> list[Room]:
    wanted = sorted(set(slugs))
    rooms = list(session.scalars(select(Room).where(Room.slug.in_(wanted))))
    missing = set(wanted) - {room.slug for room in rooms}
    if missing:
        raise AccountError("rooms", f"no such room: {', '.join(sorted(missing))}")
    return rooms


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("password", f"must be at least {MIN_PASSWORD} characters")


def create_user(
    session: Session, *, username: str, password: str, role: str, display_name: str = "", room_slugs: Iterable[str] = ()
) -> User:
    if not USERNAME.match(username):
        raise AccountError("username", "2-64 characters: letters, digits, '.', '_' or '-'")
    if role not in set(Role):
        raise AccountError("role", f"must be one of {', '.join(Role)}")
    _check_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError("username", f"{username!r} is taken")
    user = User(
        username=username, display_name=display_name or username, password_hash=hash_password(password),
        role=role, rooms=_rooms_by_slug(session, room_slugs),
    )
    session.add(user)
    session.flush()
    return user


def update_user(
    session: Session,
    *,
    user: User,
    now: datetime,
    role: str | None = None,
    room_slugs: Iterable[str] | None = None,
    disabled: bool | None = None,
    password: str | None = None,
) -> dict[str, Any]:
    """Apply the changes; return what changed (for the audit log). Disabling a user or
    changing their password ends their sessions."""
    # Everything is checked before anything changes.
    if role is not None and role not in set(Role):
        raise AccountError("role", f"must be one of {', '.join(Role)}")
    if password:
        _check_password(password)
    rooms = _rooms_by_slug(session, room_slugs) if room_slugs is not None else None
    changes: dict[str, Any] = {}
    stays_admin = (role is None or role == Role.ADMIN) and not disabled
    if user.role == Role.ADMIN and not user.disabled and not stays_admin and _other_active_admins(session, user) == 0:
        raise AccountError("role", "the last active admin cannot be demoted or disabled; make another admin first")
    if role is not None and role != user.role:
        changes["role"] = [user.role, role]
        user.role = role
    if rooms is not None:
        before = sorted(room.slug for room in user.rooms)
        after = sorted(room.slug for room in rooms)
        if before != after:
            changes["rooms"] = [before, after]
            user.rooms = rooms
    if disabled is not None and disabled != user.disabled:
        changes["disabled"] = [user.disabled, disabled]
        user.disabled = disabled
    if password:
        user.password_hash = hash_password(password)
        changes["password"] = "changed"
    if changes.get("disabled") == [False, True] or "password" in changes or "role" in changes:
        revoke_user_sessions(session, user_id=user.id, now=now)
    session.flush()
    return changes


def _other_active_admins(session: Session, user: User) -> int:
    return len(session.scalars(
        select(User.id).where(User.role == Role.ADMIN, User.disabled.is_(False), User.id != user.id)
    ).all())


def get_user(session: Session, *, user_id: int) -> User | None:
    return session.get(User, user_id, options=[selectinload(User.rooms)])


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).options(selectinload(User.rooms)).order_by(User.username)))


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        burn_password_check(password)
        return None
    if not verify_password(user.password_hash, password) or user.disabled:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def principal_of(user: User, **extra: Any) -> Principal:
    rooms = None if user.role == Role.ADMIN else frozenset(room.slug for room in user.rooms)
    return Principal(name=user.username, role=Role(user.role), user_id=user.id, room_slugs=rooms, **extra)


# --- sessions ----------------------------------------------------------------------------


def start_session(
    session: Session, *, user: User, now: datetime, ttl: timedelta, ip: str = "", user_agent: str = ""
) -> str:
    token = random_token()
    session.add(
        LoginSession(
            token_hash=token_hash(token), user_id=user.id, created_at=now, expires_at=now + ttl,
            ip=ip[:64], user_agent=user_agent[:300],
        )
    )
    session.flush()
    return token


def principal_for_session(session: Session, *, token: str, now: datetime) -> Principal | None:
    row = session.scalar(
        select(LoginSession)
        .where(LoginSession.token_hash == token_hash(token))
        .options(selectinload(LoginSession.user).selectinload(User.rooms))
    )
    if row is None or row.revoked_at is not None or row.expires_at <= now or row.user.disabled:
        return None
    return principal_of(row.user, session_id=row.id)


def still_valid(session: Session, *, principal: Principal, now: datetime) -> bool:
    """Is the session or host link behind an open connection still good? Websockets
    ask this when told their access may have ended, so a logout, a disabled user or a
    revoked link also ends connections that are already open."""
    return still_valid_many(session, [principal], now=now)[principal]


def still_valid_many(session: Session, principals: Iterable[Principal], *, now: datetime) -> dict[Principal, bool]:
    """`still_valid` of every principal at once (two queries, however many screens are
    open): the periodic re-check of a process's websockets."""
    principals = set(principals)
    session_ids = {p.session_id for p in principals if p.session_id is not None}
    link_ids = {p.host_link_id for p in principals if p.session_id is None and p.host_link_id is not None}
    logins = {row.id: row for row in session.scalars(
        select(LoginSession).where(LoginSession.id.in_(session_ids))
        .options(selectinload(LoginSession.user).selectinload(User.rooms))
    )} if session_ids else {}
    live_links = set(session.scalars(
        select(HostLink.id).where(HostLink.id.in_(link_ids), HostLink.revoked_at.is_(None))
    )) if link_ids else set()

    def valid(principal: Principal) -> bool:
        if principal.session_id is not None:
            row = logins.get(principal.session_id)
            if row is None or row.revoked_at is not None or row.expires_at <= now or row.user.disabled:
                return False
            # A changed role or set of rooms ends what was opened under the old ones.
            return principal_of(row.user, session_id=row.id) == principal
        return principal.host_link_id is not None and principal.host_link_id in live_links

    return {principal: valid(principal) for principal in principals}


def end_session(session: Session, *, session_id: int, now: datetime) -> None:
    row = session.get(LoginSession, session_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
        session.flush()


def revoke_user_sessions(session: Session, *, user_id: int, now: datetime) -> int:
    rows = session.scalars(
        select(LoginSession).where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
    ).all()
    for row in rows:
        row.revoked_at = now
    session.flush()
    return len(rows)


# --- API keys ----------------------------------------------------------------------------


def create_api_key(session: Session, *, room: Room, name: str, created_by: str) -> tuple[ApiKey, str]:
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError("name", "give the key a name of 1-100 characters (e.g. the feed it is for)")
    key = new_api_key()
    row = ApiKey(room=room, name=name, prefix=key[:10], key_hash=token_hash(key), created_by=created_by)
    session.add(row)
    session.flush()
    return row, key


def revoke_api_key(session: Session, *, room: Room, key_id: int, now: datetime) -> ApiKey | None:
    row = session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.room_id == room.id))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
        session.flush()
    return row


def room_api_keys(session: Session, *, room: Room) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).where(ApiKey.room_id == room.id).order_by(ApiKey.created_at.desc())))


# --- host links --------------------------------------------------------------------------


def current_host_link(session: Session, *, room: Room | None = None, show: Show | None = None) -> HostLink | None:
    """The room's link that works (of `show`'s room when given a show): a link made for
    an earlier show of the room keeps following the room's current show, so it is the
    one to hand out until someone makes a new one or revokes it."""
    room_id = room.id if room is not None else show.room_id if show is not None else None
    if room_id is None:
        raise TypeError("current_host_link needs a room or a show")
    return session.scalar(
        select(HostLink).where(HostLink.show.has(room_id=room_id), HostLink.revoked_at.is_(None))
        .order_by(HostLink.id.desc())
    )


def create_host_link(session: Session, *, show: Show, created_by: str, now: datetime) -> HostLink:
    """A new link for the show; every earlier link of the room stops working (a tablet
    left on an old show's link must not keep watching the room)."""
    revoke_host_links(session, room=show.room, now=now)
    link = HostLink(show=show, nonce=random_token(24), created_by=created_by, created_at=now)
    session.add(link)
    session.flush()
    return link


def revoke_host_links(session: Session, *, room: Room, now: datetime) -> int:
    rows = session.scalars(
        select(HostLink).where(HostLink.show.has(room_id=room.id), HostLink.revoked_at.is_(None))
    ).all()
    for row in rows:
        row.revoked_at = now
    session.flush()
    return len(rows)


def principal_for_host_link(session: Session, *, token: str, signer: Signer) -> Principal | None:
    """The host screen of a valid link: its room (the screen follows the room's current
    show, whichever show the link was made for); `show_id` is the show it was made for."""
    decoded = signer.host_link(token)
    if decoded is None:
        return None
    link_id, nonce = decoded
    link = session.get(HostLink, link_id, options=[selectinload(HostLink.show)])
    if link is None or link.revoked_at is not None or link.nonce != nonce:
        return None
    return Principal(
        name=f"host-link:{link.id}", role=Role.HOST, room_slugs=frozenset({link.show.room.slug}),
        host_link_id=link.id, show_id=link.show_id,
    )


# --- audit -------------------------------------------------------------------------------


def audit_entries(
    session: Session, *, actor: str = "", room_slug: str = "", action: str = "", limit: int = 200
) -> list[AuditEntry]:
    query = select(AuditEntry).options(selectinload(AuditEntry.room)).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if room_slug:
        query = query.join(Room, AuditEntry.room_id == Room.id).where(Room.slug == room_slug)
    if action:
        query = query.where(AuditEntry.action.startswith(action))
    return list(session.scalars(query.limit(limit)))
