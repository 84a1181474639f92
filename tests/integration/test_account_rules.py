"""Account rules that hold whatever page or command changes a user (service level,
real SQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from controlroom.auth import service
from controlroom.db.base import utcnow
from controlroom.db.session import make_engine, session_factory, transaction
from tests.support import migrate, unique


@pytest.fixture
def session(tmp_path):
    url = f"sqlite:///{tmp_path / 'rules.sqlite3'}"
    migrate(url)
    with transaction(session_factory(make_engine(url))) as db:
        yield db


def test_the_last_active_admin_cannot_be_demoted_or_disabled(session):
    boss = service.create_user(session, username="boss", password="long password", role="admin")
    with pytest.raises(service.AccountError, match="last active admin"):
        service.update_user(session, user=boss, now=utcnow(), role="analyst")
    with pytest.raises(service.AccountError, match="last active admin"):
        service.update_user(session, user=boss, now=utcnow(), disabled=True)
    service.create_user(session, username="deputy", password="long password", role="admin")
    assert service.update_user(session, user=boss, now=utcnow(), role="analyst") == {"role": ["admin", "analyst"]}


def test_password_rules_and_unique_usernames(session):
    with pytest.raises(service.AccountError, match="at least 8"):
        service.create_user(session, username="short", password="1234567", role="tech")
    service.create_user(session, username="same", password="long password", role="tech")
    with pytest.raises(service.AccountError, match="taken"):
        service.create_user(session, username="same", password="long password", role="tech")
    with pytest.raises(service.AccountError, match="role"):
        service.create_user(session, username=unique("x"), password="long password", role="superuser")


def test_a_password_change_ends_the_user_s_sessions(session):
    user = service.create_user(session, username="ann", password="long password", role="tech")
    token = service.start_session(session, user=user, now=utcnow(), ttl=timedelta(hours=1))
    assert service.principal_for_session(session, token=token, now=utcnow()) is not None
    service.update_user(session, user=user, now=utcnow(), password="another long one")
    assert service.principal_for_session(session, token=token, now=utcnow()) is None
    assert service.authenticate(session, username="ann", password="long password") is None
    assert service.authenticate(session, username="ann", password="another long one") is not None


def test_a_new_host_link_ends_every_earlier_link_of_the_room(session):
    from controlroom.auth.secrets import Signer
    from controlroom.rooms.service import get_or_create_room
    from controlroom.shows.schedule import add_show

    signer = Signer("k" * 40)
    room = get_or_create_room(session, slug="r1", name="r1", timezone="Asia/Shanghai")
    yesterday = add_show(session, room=room, title="昨天", planned_start=utcnow() - timedelta(days=1))
    today = add_show(session, room=room, title="今天", planned_start=utcnow())
    old = service.create_host_link(session, show=yesterday, created_by="t", now=utcnow())
    old_token = signer.host_link_token(old.id, old.nonce)
    assert service.principal_for_host_link(session, token=old_token, signer=signer).show_id == yesterday.id
    new = service.create_host_link(session, show=today, created_by="t", now=utcnow())
    assert service.principal_for_host_link(session, token=old_token, signer=signer) is None
    assert service.principal_for_host_link(session, token=signer.host_link_token(new.id, new.nonce), signer=signer)
    # A token with a forged nonce or signature opens nothing.
    assert service.principal_for_host_link(session, token=signer.host_link_token(new.id, "guess"), signer=signer) is None
    assert service.principal_for_host_link(session, token=Signer("x" * 40).host_link_token(new.id, new.nonce),
                                           signer=signer) is None
