"""Each role, signed in through the login form in chromium, sees only its navigation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support import create_user
from tests.web.test_control_room import sign_in

# What each role finds in the top navigation and on the control room page.
NAVIGATION = {
    "admin": {"rooms", "wall", "reviews", "notifications", "lexicon", "script-check", "rules", "playbooks", "users", "audit", "host-link", "tech", "dead-letters", "bindings", "api-keys"},
    "controller": {"rooms", "wall", "reviews", "lexicon", "script-check", "host-link", "tech", "dead-letters"},
    "tech": {"rooms", "wall", "notifications", "tech", "dead-letters"},
    "analyst": {"rooms", "wall", "reviews"},
}
EVERY_ITEM = {"rooms", "wall", "reviews", "notifications", "lexicon", "script-check", "rules", "playbooks", "playbooks", "users", "audit", "host", "host-link", "tech", "dead-letters", "bindings", "api-keys"}


@pytest.mark.parametrize("role", sorted(NAVIGATION))
def test_each_role_sees_only_its_navigation(server, room, page, database_url, role):
    username, password = create_user(database_url, role=role, rooms=[room])
    sign_in(page, server, username, password, then=f"/rooms/{room}")
    expect(page.locator(".who")).to_have_text(username)
    shown = set(page.locator("[data-nav]").evaluate_all("els => els.map(e => e.dataset.nav)"))
    assert shown == NAVIGATION[role]
    assert not (EVERY_ITEM - NAVIGATION[role]) & shown


def test_a_host_signs_in_to_the_host_screen_and_nothing_else(server, room, page, database_url):
    from sqlalchemy import select

    from controlroom.db.base import utcnow
    from controlroom.db.session import make_engine, session_factory, transaction
    from controlroom.rooms.models import Room
    from controlroom.shows.schedule import add_show

    with transaction(session_factory(make_engine(database_url))) as session:
        add_show(session, room=session.scalar(select(Room).where(Room.slug == room)), title="今晚专场",
                 planned_start=utcnow())
    username, password = create_user(database_url, role="host", rooms=[room])
    sign_in(page, server, username, password, then="/host")
    expect(page).to_have_title(__import__("re").compile("今晚专场"))
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    assert page.locator("[data-nav]").count() == 0  # a full-screen page: no navigation at all
    response = page.goto(f"{server.url}/rooms/{room}")
    assert response.status == 403
    assert page.locator("[data-nav]").evaluate_all("els => els.map(e => e.dataset.nav)") == ["host"]


def test_logging_out_returns_to_the_login_form(server, room, page, database_url):
    username, password = create_user(database_url, role="analyst", rooms=[room])
    sign_in(page, server, username, password, then=f"/rooms/{room}")
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(f"{server.url}/login")
    page.goto(f"{server.url}/rooms/{room}")
    expect(page.locator("form[action='/login']")).to_be_visible()
