"""An analyst finds older reviews from the reviews index (filtered by room, date and
rehearsal or not) and compares shows side by side, every label in Chinese, money as
money."""

from __future__ import annotations

from datetime import datetime, timedelta

from playwright.sync_api import expect

from controlroom.sim.samples import SAMPLE_START_MS
from tests.support import create_room, create_user
from tests.web.test_control_room import sign_in
from tests.web.test_review_in_browser import sample_show


def test_an_analyst_reaches_an_old_review_from_the_index_and_compares_two_shows(
    server, room, database_url, redis_url, page
):
    older = sample_show(server, room, database_url)
    newer = sample_show(server, room, database_url, days_later=7)
    elsewhere = create_room(database_url, redis_url)
    hidden = sample_show(server, elsewhere, database_url)  # a room the analyst is not in
    stored = server.admin.get(f"/rooms/{room}/shows/{older}/review.json").json()  # as a finished recording leaves it

    analyst = create_user(database_url, role="analyst", rooms=[room])
    sign_in(page, server, *analyst, then="/rooms")
    page.click("nav a[data-nav=reviews]")
    page.wait_for_url(f"{server.url}/reviews")
    rows = page.locator("table.reviews tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator(f'tr[data-show="{elsewhere}/{hidden}"]')).to_have_count(0)
    old_row = page.locator(f'tr[data-show="{room}/{older}"]')
    expect(old_row).to_contain_text("样例：晚间好物专场")
    expect(old_row).to_contain_text(f"{stored['headline']['gmv_cents'] / 100:,.2f}")
    expect(old_row).to_contain_text("已结束")

    # From the day of the later show on: only it is left.
    later_day = (datetime.fromtimestamp(SAMPLE_START_MS / 1000) + timedelta(days=7)).date().isoformat()
    page.fill("input[name=from]", later_day)
    page.click("form.filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(page.locator(f'tr[data-show="{room}/{newer}"]')).to_have_count(1)
    page.select_option("select[name=kind]", "rehearsals")
    page.click("form.filters button[type=submit]")
    expect(page.locator("table.reviews tbody td.empty")).to_be_visible()

    page.goto(f"{server.url}/reviews?room={room}")
    page.click(f'tr[data-show="{room}/{older}"] a')
    expect(page.locator("h1")).to_contain_text("样例：晚间好物专场")
    expect(page.locator('tr[data-metric="comments"] td').first).to_have_text(f"{stored['headline']['comments']:,}")

    page.goto(f"{server.url}/reviews?room={room}")
    page.check(f'input[value="{room}/{older}"]')
    page.check(f'input[value="{room}/{newer}"]')
    page.click("button[data-compare]")
    expect(page.locator("table.compare thead th[data-compared]")).to_have_count(2)
    gmv = page.locator('table.compare tr[data-metric="gmv_cents"]')
    expect(gmv.locator("th")).to_have_text("成交金额")
    expect(gmv.locator("td").first).to_contain_text("¥")
    body = page.locator("main").inner_text()
    assert "gmv_cents" not in body and "minute_unix_s" not in body and "0000000" not in body
    expect(page.locator("#compare-online canvas")).to_have_count(1)
    assert page.evaluate("document.getElementById('compare-gmv').chart.series.length") == 3  # minutes + 2 shows
