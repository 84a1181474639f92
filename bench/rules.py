"""Rules benchmark: does evaluating rules slow ingest down?

Prints, for this machine and this run, the rate at which the worker applies a backlog
of realistic events (comments through the moderation tagger, likes, enters, orders …)
into a live room:
  1. with no rules at all (the baseline, same run);
  2. with 30 active rules (the 16 shipped ones plus 14 more of every kind) evaluated
     by the alert engine beside the worker, after batches and on its clock tick;
and their ratio (aim: >= 80 %), alternating the two a few times. Also prints what one
evaluation round of 30 rules costs in pure code.

Everything runs in this process against a real Redis (CONTROLROOM_BENCH_REDIS_URL, or an
embedded redis-server) and a SQLite file. No assertion: read the figures.

    python bench/rules.py [--events 100000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import realistic_batch  # noqa: E402
from controlroom.alerts.engine import AlertEngine  # noqa: E402
from controlroom.rules.models import Rule  # noqa: E402
from controlroom.auth.secrets import token_hash  # noqa: E402
from controlroom.bus import keys  # noqa: E402
from controlroom.bus.client import Bus, connect  # noqa: E402
from bench.services import redis_and_sqlite  # noqa: E402
from controlroom.clock import SystemClock  # noqa: E402
from controlroom.db.base import utcnow  # noqa: E402
from controlroom.db.session import make_engine, session_factory, transaction  # noqa: E402
from controlroom.ingest.worker import Worker  # noqa: E402
from controlroom.metrics.state import RoomState  # noqa: E402
from controlroom.moderation.live import default_tagger  # noqa: E402
from controlroom.rooms.models import Room  # noqa: E402
from controlroom.shows.schedule import add_show  # noqa: E402
from controlroom.rules.evaluator import evaluate  # noqa: E402
from controlroom.rules.schemas import RuleDefinition  # noqa: E402
from controlroom.rules.service import default_rules  # noqa: E402
from controlroom.rules.signals import build_signals  # noqa: E402
from controlroom.settings import Settings  # noqa: E402
from tests.support import create_room  # noqa: E402

EXTRA_CONDITIONS = [
    {"kind": "threshold", "metric": "comments_per_min", "op": ">", "value": 10**9},
    {"kind": "threshold", "metric": "gmv_cents", "op": "<", "value": -1},
    {"kind": "change", "metric": "comments", "window_s": 300, "op": ">=", "value": 50},
    {"kind": "change", "metric": "gmv_cents", "window_s": 600, "op": "<=", "value": -0.99},
    {"kind": "baseline", "metric": "likes", "source": "show", "sigmas": 9, "min_points": 3},
    {"kind": "baseline", "metric": "interaction_rate", "source": "room", "drop": 0.99, "min_points": 3},
    {"kind": "keyword_rate", "category": "abuse", "per": "minute", "value": 10**6},
    {"kind": "keyword_rate", "category": "after_sale", "per": "share", "op": ">", "value": 0.99},
    {"kind": "keyword_rate", "category": "absolute", "per": "minute", "value": 10**6, "window_s": 300},
    {"kind": "absence", "event_type": "order", "seconds": 3600},
    {"kind": "absence", "event_type": "like", "seconds": 3600},
    {"kind": "ratio", "numerator": "refunds", "denominator": "orders_paid", "op": ">", "value": 0.99},
    {"kind": "ratio", "numerator": "follows", "denominator": "viewers", "op": ">", "value": 0.99},
    {"kind": "status", "status": "ended"},
]


def thirty_rules() -> list[RuleDefinition]:
    extra = [
        RuleDefinition(key=f"bench-{i}", name=f"压测规则{i}", level="yellow", condition=condition)
        for i, condition in enumerate(EXTRA_CONDITIONS)
    ]
    return [*default_rules(), *extra]


def set_rules(sessions, rules: list[RuleDefinition]) -> None:
    with transaction(sessions) as session:
        session.query(Rule).delete()
        for rule in rules:
            session.add(Rule(key=rule.key, definition=rule.model_dump(mode="json"), builtin=False))


async def fill(redis_url: str, room, events: int, batch: int = 1000) -> None:
    """Put a backlog of realistic events of the last minutes into the room's stream."""
    client = connect(redis_url)
    bus = Bus.from_settings(client, Settings(mode="dev"))
    now = int(time.time() * 1000)
    for start in range(0, events, batch):
        items = realistic_batch(f"{room}-{start}-", batch, now - (events - start) // 500)
        await bus.ingest(room, [(e["id"], orjson.dumps(e)) for e in items], [], key_hash=token_hash(room.api_key))
    await client.aclose()


async def applied_rate(redis_url: str, sessions, room, events: int, *, with_engine: bool) -> tuple[float, int]:
    """Events/s at which the worker applies the backlog; and how many rounds the alert
    engine evaluated meanwhile."""
    client = connect(redis_url)
    stop = asyncio.Event()
    worker = Worker(client, batch=2000, block_ms=50, clock=SystemClock(), tagger=default_tagger())
    engine = AlertEngine(client, sessions, clock=SystemClock(), rooms=lambda: list(worker.rooms))
    rounds = 0
    if with_engine:
        evaluate_room = engine.evaluate_room

        async def counted(room_slug: str) -> bool:
            nonlocal rounds
            rounds += 1
            return await evaluate_room(room_slug)

        engine.evaluate_room = counted  # type: ignore[method-assign]
        worker.on_applied = engine.batch_applied
    started = time.perf_counter()
    tasks = [asyncio.create_task(worker.run(stop))] + ([asyncio.create_task(engine.run(stop))] if with_engine else [])
    while True:
        raw = await client.hget(keys.checkpoint(room), "state")
        if raw and RoomState.from_json(raw).events_applied >= events:
            break
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    stop.set()
    await asyncio.gather(*tasks)
    await client.aclose()
    return events / elapsed, rounds


def evaluation_cost(redis_url: str, room) -> float:
    """Seconds for one round of the 30 rules on the room's final state (pure code)."""
    import redis as sync_redis

    raw = sync_redis.Redis.from_url(redis_url).hget(keys.checkpoint(room), "state")
    state = RoomState.from_json(raw)
    rules = thirty_rules()
    now = int(time.time() * 1000)
    repeats = 200
    started = time.perf_counter()
    for _ in range(repeats):
        signals = build_signals(state, now_ms=now, live=True, distinct={"viewers": 50_000}, show_started_ms=now - 3600_000)
        for rule in rules:
            evaluate(rule, signals)
    return (time.perf_counter() - started) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    with redis_and_sqlite("rules") as (redis_url, database_url):
        run(args, redis_url, database_url)


def run(args: argparse.Namespace, redis_url: str, database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    print(f"rules benchmark: {args.events:,} events per run, {args.rounds} rounds, redis {redis_url}")
    rates: dict[str, list[float]] = {"none": [], "30 rules": []}
    last_room = None
    try:
        for round_number in range(args.rounds):
            for name, rules in (("none", []), ("30 rules", thirty_rules())):
                set_rules(sessions, rules)
                room = create_room(database_url, redis_url)
                with transaction(sessions) as session:
                    add_show(session, room=session.query(Room).filter_by(slug=room).one(), title="压测",
                             planned_start=utcnow(), status="live")
                asyncio.run(fill(redis_url, room, args.events))
                rate, rounds = asyncio.run(applied_rate(redis_url, sessions, room, args.events, with_engine=bool(rules)))
                rates[name].append(rate)
                last_room = room
                print(f"  round {round_number + 1}, {name:>8}: {rate:>10,.0f} events/s applied"
                      + (f" ({rounds} evaluation rounds meanwhile)" if rules else ""))
        none, thirty = statistics.median(rates["none"]), statistics.median(rates["30 rules"])
        print(f"median, no rules : {none:>10,.0f} events/s")
        print(f"median, 30 rules : {thirty:>10,.0f} events/s  ({thirty / none:.0%} of no rules; aim >= 80 %)")
        cost = evaluation_cost(redis_url, last_room)
        print(f"one round of 30 rules (signals + evaluation, pure): {cost * 1000:.2f} ms")
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
