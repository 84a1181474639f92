"""The `controlroom` command: serve | ingest | worker | demo | simulate | record export |
review rebuild | replay | db upgrade | room add."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

from pydantic import ValidationError

from controlroom.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="controlroom", description="Real-time control room for live-commerce shows.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the web app (and, by default, a worker)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--no-worker", action="store_true", help="web only; run `controlroom worker` separately")

    ingest = commands.add_parser(
        "ingest", help="serve the feed side alone: the ingest API and websocket, platform pushes (`serve` starts one)")
    ingest.add_argument("--host")
    ingest.add_argument("--port", type=int, help="default: CONTROLROOM_INGEST_PORT, else CONTROLROOM_PORT + 1")
    # Given by `serve` to the ingest process it starts: stop when that parent is gone.
    ingest.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)

    commands.add_parser("worker", help="run a stream worker alone")

    record = commands.add_parser("record", help="a show's recording")
    record_commands = record.add_subparsers(dest="record_command", required=True)
    export = record_commands.add_parser("export", help="write a show's events as gzipped JSON lines")
    export.add_argument("--room", required=True)
    export.add_argument("--show", type=int, required=True, help="the show's id (see the room's shows page)")
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")

    review = commands.add_parser("review", help="a show's review (复盘)")
    review_commands = review.add_subparsers(dest="review_command", required=True)
    rebuild = review_commands.add_parser(
        "rebuild", help="compute a show's review again from its recording and store it (ended shows)")
    rebuild.add_argument("--room", required=True)
    rebuild.add_argument("--show", type=int, required=True, help="the show's id (see the room's shows page)")

    replay = commands.add_parser("replay", help="replay a recording into a room through the public API")
    replay.add_argument("recording", type=Path)
    replay.add_argument("--room", required=True)
    replay.add_argument("--speed", type=float, default=1.0, help="how many times faster than recorded")
    replay.add_argument("--url", default="http://127.0.0.1:8000", help="base URL of controlroom")
    replay.add_argument("--api-key", default=os.environ.get("CONTROLROOM_API_KEY"),
                        help="the room's ingest key (or CONTROLROOM_API_KEY)")

    demo = commands.add_parser("demo", help="embedded Redis + SQLite, a demo room and a simulated live show")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--rate", type=float, default=40.0, help="simulated events per second")
    demo.add_argument("--data-dir", type=Path, default=Path("./var/demo"))

    simulate = commands.add_parser("simulate", help="post a simulated live show to a room through the public API")
    simulate.add_argument("--room", required=True)
    simulate.add_argument("--rate", type=float, default=40.0, help="events per second")
    simulate.add_argument("--speed", type=float, default=1.0, help="show time per wall-clock second")
    simulate.add_argument("--url", default="http://127.0.0.1:8000", help="base URL of controlroom")
    simulate.add_argument("--duration", type=float, help="seconds to run (default: until interrupted)")
    simulate.add_argument("--seed", type=int)
    simulate.add_argument("--api-key", default=os.environ.get("CONTROLROOM_API_KEY"),
                          help="the room's ingest key (default: $CONTROLROOM_API_KEY)")

    db = commands.add_parser("db", help="database")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="migrate the database to the newest schema")

    user = commands.add_parser("user", help="users")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    user_add = user_commands.add_parser("add", help="create a user (asks for the password unless --password)")
    user_add.add_argument("username")
    user_add.add_argument("--role", required=True, choices=["admin", "controller", "tech", "host", "analyst"])
    user_add.add_argument("--room", action="append", default=[], help="a room the user belongs to (repeatable)")
    user_add.add_argument("--name", default="", help="display name")
    user_add.add_argument("--password", help="the password (default: asked, not echoed)")

    room = commands.add_parser("room", help="rooms")
    room_commands = room.add_subparsers(dest="room_command", required=True)
    room_add = room_commands.add_parser("add", help="create a room")
    room_add.add_argument("slug", help="short id used in URLs and the API: a-z, 0-9, '-', '_'")
    room_add.add_argument("name", help="display name")

    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except ValidationError as exc:
        # Settings refused the environment: say which variable and why, no traceback.
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        print(f"controlroom: configuration error: {problems}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _serve(args: argparse.Namespace) -> int:
    from controlroom.app import create_app
    from controlroom.runtime.serving import serve

    overrides = {k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
    if args.no_worker:
        overrides["run_worker"] = False
    settings = Settings(**overrides)
    serve(create_app(settings), settings)
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from controlroom.app import create_ingest_app
    from controlroom.runtime.serving import serve_ingest

    settings = Settings(**({"host": args.host} if args.host is not None else {}))
    port = args.port if args.port is not None else settings.effective_ingest_port
    if port is None:
        print("controlroom: CONTROLROOM_INGEST_PORT is 0 (no ingest process): give --port", file=sys.stderr)
        return 2
    serve_ingest(create_ingest_app(settings), settings, port=port, parent_pid=args.parent_pid)
    return 0


def _worker(args: argparse.Namespace) -> int:
    from controlroom.runtime.lifespan import run_worker

    run_worker(Settings())
    return 0


def _record(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from controlroom.bus.client import connect_for
    from controlroom.bus.embedded import resolve_redis_url
    from controlroom.db.session import Timeouts, make_engine, session_factory, transaction
    from controlroom.reports.recorder import show_events
    from controlroom.reports.recording import show_span, write_recording
    from controlroom.rooms.models import Room
    from controlroom.shows.models import Show

    settings = Settings()
    engine = make_engine(settings.sqlalchemy_url, Timeouts.from_settings(settings))
    with transaction(session_factory(engine)) as session:
        show = session.scalar(select(Show).join(Room).where(Room.slug == args.room, Show.id == args.show))
        span = show_span(show.run or {}, int(show.planned_start.timestamp() * 1000), 0) if show else None
    engine.dispose()
    if span is None:
        print(f"controlroom: no show {args.show} in room {args.room!r}", file=sys.stderr)
        return 2
    async def read() -> list[dict]:
        url, embedded = resolve_redis_url(settings.redis_url, settings.data_dir)
        client = connect_for(settings, url)
        try:
            return await show_events(client, settings.data_dir, args.room, show_id=args.show, start_ms=span[0],
                                     end_ms=span[1])
        finally:
            await client.aclose()
    events = asyncio.run(read())
    out = args.out.open("wb") if args.out else sys.stdout.buffer
    count = write_recording(events, out)
    if args.out:
        out.close()
    print(f"controlroom: {count} events of show {args.show} written", file=sys.stderr)
    return 0


def _review(args: argparse.Namespace) -> int:
    from controlroom.bus.client import connect_for
    from controlroom.bus.embedded import resolve_redis_url
    from controlroom.clock import SystemClock
    from controlroom.db.session import Timeouts, make_engine, session_factory
    from controlroom.reports.service import NoRecording, Reviews

    settings = Settings()
    engine = make_engine(settings.sqlalchemy_url, Timeouts.from_settings(settings))

    async def rebuild() -> dict | None:
        url, _ = resolve_redis_url(settings.redis_url, settings.data_dir)
        client = connect_for(settings, url)
        reviews = Reviews(client, session_factory(engine), data_dir=settings.data_dir, clock=SystemClock(),
                          retention_days=settings.recording_retention_days)
        try:
            return await reviews.rebuild(args.room, args.show)
        finally:
            reviews.close()
            await client.aclose()

    try:
        review = asyncio.run(rebuild())
    except NoRecording as refusal:
        print(f"controlroom: {refusal}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    if review is None:
        print(f"controlroom: no show {args.show} in room {args.room!r}", file=sys.stderr)
        return 2
    numbers = review["headline"]
    state = "stored" if review["final"] else "draft (the show has not ended; nothing stored)"
    print(f"controlroom: review of show {args.show} rebuilt from {review['events']} events, {state}: "
          f"{numbers['comments']} comments, {numbers['orders_paid']} paid orders, GMV {numbers['gmv_cents'] / 100:.2f}",
          file=sys.stderr)
    return 0


def _replay(args: argparse.Namespace) -> int:
    from controlroom.reports.recording import read_recording, replay

    if not args.api_key:
        print("controlroom: --api-key (or CONTROLROOM_API_KEY): the room's ingest key", file=sys.stderr)
        return 2
    if args.speed <= 0:
        print("controlroom: --speed must be more than 0", file=sys.stderr)
        return 2
    events = read_recording(args.recording)
    result = asyncio.run(replay(events, url=args.url, room=args.room, api_key=args.api_key, speed=args.speed))
    print(f"controlroom: {result.sent} events replayed in {result.seconds:.1f} s: {result.accepted} accepted, "
          f"{result.duplicates} duplicates, {result.rejected} rejected", file=sys.stderr)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from controlroom.app import create_app
    from controlroom.runtime.serving import run_demo

    os.environ.setdefault("CONTROLROOM_MODE", "demo")
    settings = Settings(mode="demo", data_dir=args.data_dir, host=args.host, port=args.port)
    run_demo(create_app(settings), settings, rate=args.rate)
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from controlroom.observability import configure_logging
    from controlroom.sim.runner import run_simulation

    configure_logging(json=False, level="INFO")

    async def run() -> dict:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await run_simulation(
            base_url=args.url.rstrip("/"), room=args.room, rate=args.rate, speed=args.speed,
            duration_s=args.duration, seed=args.seed, stop=stop,
            headers={"X-Api-Key": args.api_key} if args.api_key else None,
        )

    totals = asyncio.run(run())
    print(" ".join(f"{k}={v}" for k, v in totals.items()))
    return 0


def _db(args: argparse.Namespace) -> int:
    from controlroom.db.session import upgrade

    settings = Settings(mode=os.environ.get("CONTROLROOM_MODE", "dev"))
    upgrade(settings.sqlalchemy_url)
    print(f"database at {settings.sqlalchemy_url.split('@')[-1]} is up to date")
    return 0


def _user(args: argparse.Namespace) -> int:
    from controlroom.audit.service import record
    import getpass

    from controlroom.auth import service
    from controlroom.db.base import utcnow
    from controlroom.db.session import Timeouts, make_engine, session_factory, transaction, upgrade

    settings = Settings(mode=os.environ.get("CONTROLROOM_MODE", "dev"))
    password = args.password or getpass.getpass(f"password for {args.username}: ")
    upgrade(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url, Timeouts.from_settings(settings))
    try:
        with transaction(session_factory(engine)) as session:
            user = service.create_user(
                session, username=args.username, password=password, role=args.role,
                display_name=args.name, room_slugs=args.room,
            )
            record(session, actor="cli", action="user.add", now=utcnow(),
                   detail={"username": user.username, "role": user.role, "rooms": sorted(args.room)})
    except service.AccountError as exc:
        print(f"error: {exc.field}: {exc.message}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"user {args.username} ({args.role}) added")
    return 0


def _room(args: argparse.Namespace) -> int:
    from controlroom.bus.client import Bus, connect_for
    from controlroom.bus.embedded import resolve_redis_url
    from controlroom.db.session import Timeouts, make_engine, session_factory, transaction, upgrade
    from controlroom.rooms.service import InvalidRoomSlug, get_or_create_room

    settings = Settings(mode=os.environ.get("CONTROLROOM_MODE", "dev"))
    upgrade(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url, Timeouts.from_settings(settings))
    try:
        with transaction(session_factory(engine)) as session:
            room = get_or_create_room(session, slug=args.slug, name=args.name, timezone=settings.timezone)
            slug, name = room.slug, room.name
    except InvalidRoomSlug as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()

    async def register() -> None:
        url, embedded = resolve_redis_url(settings.redis_url, settings.data_dir)
        client = connect_for(settings, url)
        try:
            await Bus.from_settings(client, settings).register_room(slug, name=name)
        finally:
            await client.aclose()
            if embedded is not None:
                embedded.stop()

    asyncio.run(register())
    print(f"room {slug} ({name}) is ready: POST events to /api/rooms/{slug}/events")
    return 0


_COMMANDS = {
    "serve": _serve,
    "ingest": _ingest,
    "worker": _worker,
    "record": _record,
    "replay": _replay,
    "review": _review,
    "demo": _demo,
    "simulate": _simulate,
    "db": _db,
    "user": _user,
    "room": _room,
}

if __name__ == "__main__":
    sys.exit(main())
