"""SOP 9 (complaint rate), SOP 10 (conversion drop) and SOP 14 (stock-out 库存告急)
through the whole pipeline: paid orders, complaints, room entries and the shop's
product readings as feeds send them."""

from __future__ import annotations

import pytest

from controlroom.sim.pipeline import Scheduled
from tests.scenarios.helpers import assert_fired, assert_quiet, room, run_until, scenario

# --- SOP 9: complaints above 1.5 % of paid orders → red; above 100 complaints → level-1 plan ----


def _complaint(n: int) -> dict:
    return {"type": "complaint", "user": {"id": f"buyer{n}"}, "order_id": f"order{n}", "sku": "A1",
            "reason": "质量问题"}


@pytest.mark.parametrize(("complaints", "fires"), [(4, True), (3, False)], ids=["4-of-200", "3-of-200"])
async def test_sop9_complaint_rate_above_1_5_percent_of_paid_orders(scenario_redis, database_url, complaints, fires):
    """A flash sale sells 200 paid orders in the show's first 100 s; then complaints
    come in, from customer service (complaint events) and in the comments: three are
    1.5 % of 200 (not above it), the fourth makes 2 %."""
    arrivals = [(120, _complaint(1)),
                (140, {"type": "comment", "user": {"id": "buyer2"}, "text": "我要投诉，收到的是坏的"}),
                (160, _complaint(3)),
                (180, _complaint(4))][:complaints]
    async with scenario(scenario_redis, database_url) as p:
        room(p, orders_per_min=lambda s: 120 if s < 100 else 0)
        p.add(Scheduled(p.started_ms, arrivals))
        await run_until(p, 100, step_s=10)
        await run_until(p, 200, step_s=1)
        state = (await p.state()).state
        assert state.orders_paid == 200 and state.category_hits.get("complaint") == complaints
        if fires:
            # Red at once (for_s 0) when the complaint that takes the rate above 1.5 % is counted.
            await assert_fired(p, "complaint-rate", "red", within=(180, 181),
                               bound="complaints > 1.5 % of paid orders, red at the one that crosses it")
        else:
            await run_until(p, 400, step_s=10)
            await assert_quiet(p, "complaint-rate")
        await assert_quiet(p, "complaints-level-one")


@pytest.mark.parametrize(("complaints", "fires"), [(101, True), (100, False)])
async def test_sop9_level_one_plan_past_100_complaints(scenario_redis, database_url, complaints, fires):
    """A bad batch: complaints pour in from customer service, two a second from 60 s."""
    async with scenario(scenario_redis, database_url) as p:
        room(p, orders_per_min=60)
        p.add(Scheduled(p.started_ms, [(60 + n / 2, _complaint(n)) for n in range(complaints)]))
        await run_until(p, 100, step_s=10)
        await run_until(p, 120, step_s=1)
        if fires:
            last = 60 + (complaints - 1) / 2  # the 101st complaint
            await assert_fired(p, "complaints-level-one", "red", within=(last, last + 1),
                               bound="over 100 complaints: level-1 plan at once")
        else:
            await run_until(p, 300, step_s=10)
            await assert_quiet(p, "complaints-level-one")
        await assert_fired(p, "complaint-rate", "red", within=(60, 120), bound="and far above 1.5 % of orders")


# --- SOP 10: conversion 20 % below the show's running level → yellow ---------------------------


@pytest.mark.parametrize(("buying_after", "fires"), [(18, True), (25.5, False)], ids=["5pct-to-3pct", "5pct-to-4.25pct"])
async def test_sop10_conversion_drop_against_the_shows_running_level(scenario_redis, database_url, buying_after,
                                                                     fires):
    """600 people a minute come through the room (each entry a new person, each paid
    order a new buyer) and 30 of them buy: 5 %. At 15:00 buying drops to 18 a minute
    (3 %, −40 %), or to 25.5 (4.25 %, −15 %: short of the SOP's 20 %)."""
    drop_s, people = 900, 600
    async with scenario(scenario_redis, database_url) as p:
        room(p, enters_per_min=lambda s: people - (30 if s < drop_s else buying_after),
             orders_per_min=lambda s: 30 if s < drop_s else buying_after,
             comments_per_min=10, commenters=1, likes_per_min=0)
        await run_until(p, drop_s + 10 * 60 + 40, step_s=10)
        if fires:
            # The rule compares the last 10 complete minutes with the show's earlier minutes.
            # Their conversion is 20 % below 5 % once 5 of the 10 are at 3 % (20:00); the rule
            # wants that on evidence and holds it 30 s, but it must come while the drop is
            # still inside the 10-minute window it reads (by 25:00, + the hold).
            await assert_fired(p, "conversion-drop", "yellow", within=(drop_s + 5 * 60 + 30, drop_s + 10 * 60 + 40),
                               bound="conversion of the last 10 min 20 % below the show's level")
        else:
            # The whole window at the lower level: −15 %, quiet.
            await assert_quiet(p, "conversion-drop")


# --- SOP 14: a product selling out → yellow; sold out while listed → red -------------------------


@pytest.mark.parametrize("restocked", [False, True], ids=["runs-down", "kept-at-6-minutes"])
async def test_sop14_stock_running_out_and_sold_out_while_listed(scenario_redis, database_url, restocked):
    """Product A1 has sold 10 a minute since the show began. At 5:00 the shop reports 70
    left (7 minutes at that rate) and the stock runs down; or the warehouse keeps
    restocking, the shop reporting 60 left (6 minutes) every 20 s."""
    rate_per_min = 10
    listing = {"type": "product", "sku": "A1", "name": "保温杯", "price_cents": 5990, "on_shelf": True}
    readings = [(300, {**listing, "stock": 70})] if not restocked else [
        (300 + 20 * k, {**listing, "stock": 60}) for k in range(30)]
    async with scenario(scenario_redis, database_url) as p:
        room(p, orders_per_min=rate_per_min, order_sku="A1")
        p.add(Scheduled(p.started_ms, readings))
        stock_at: dict[float, int] = {}
        sold_out_s = None
        while p.show_s() < 760:
            await p.step(5 if p.show_s() < 600 else 1)
            stock = (await p.state()).state.catalog.get("A1", {}).get("stock")
            stock_at[p.show_s()] = stock
            if stock == 0 and sold_out_s is None:
                sold_out_s = p.show_s()
        if restocked:
            assert min(v for s, v in stock_at.items() if s >= 300) >= 56
            await assert_quiet(p, "stock-running-out", "stock-out")
            return
        assert sold_out_s is not None and 715 <= sold_out_s <= 725, f"70 units at 10/min sell out ~7 min on: {sold_out_s}"
        # Yellow while there is still time to switch to the backup SKU: when at the actual
        # rate between 3 and 6 minutes of stock are left (the rule projects 5 min from the
        # last five minutes' orders and holds 20 s).
        yellow = await assert_fired(p, "stock-running-out", "yellow", within=(sold_out_s - 360, sold_out_s - 180),
                                    bound="projected to sell out within 5 min")
        left_min = stock_at[yellow] / rate_per_min
        assert 3 <= left_min <= 5, f"yellow with {left_min:.1f} min of stock left at the actual rate"
        # Red the round the last unit sells while the link is still on the shelf (for_s 0).
        await assert_fired(p, "stock-out", "red", within=(sold_out_s, sold_out_s + 1),
                           bound="sold out while still listed: red at once")


async def test_sop14_a_flash_sale_selling_out_gets_its_warning_in_time(scenario_redis, database_url):
    """A ¥9.9 flash-sale item, 300 in stock, goes on sale at 10:00 and sells 100 a
    minute: three minutes of stock from its first order. The yellow should come while
    there is time to line up the backup SKU (2 min before it is gone); the projection
    reads 20/min in the sale's first minute and the warning comes 70 s before."""
    listing = {"type": "product", "sku": "B2", "name": "9.9秒杀", "price_cents": 990, "stock": 300, "on_shelf": True}
    async with scenario(scenario_redis, database_url) as p:
        room(p, orders_per_min=lambda s: 100 if s >= 600 else 0, order_sku="B2")
        p.add(Scheduled(p.started_ms, [(590, listing)]))
        await run_until(p, 800, step_s=5)
        sold_out = await assert_fired(p, "stock-out", "red", within=(775, 785), bound="300 at 100/min: gone at 13:00")
        await assert_fired(p, "stock-running-out", "yellow", within=(600, sold_out - 120),
                           bound="under 5 min of stock from the first order: warned with 2 min to spare")
