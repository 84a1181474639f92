"""The review pages and exports: a show's review (a running draft while it is live),
CSV of the per-minute series and tables, JSON of the whole review, a printable page,
two shows side by side, and the engaged audience for the team's CRM."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from typing import Annotated

import orjson
from sqlalchemy import select
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

from controlroom.auth.deps import Exporter, Reviewer, PathNumber, Svc
from controlroom.audit.service import record
from controlroom.db.session import run_in_transaction
from controlroom.i18n.refusal import Refusal
from controlroom.moderation.models import LexiconCategory
from controlroom.reports.items import ItemRefused, add_item, open_actions_before, show_items, tick_item
from controlroom.reports.service import KINDS, NoRecording, reviews_index
from controlroom.reports.tables import review_tables, workbook
from controlroom.shows.models import Show
from controlroom.rooms.service import room_by_slug
from controlroom.services import Services
from controlroom.web.answers import ROOM_API, csv_answer, json_object
from controlroom.web.exports import csv_text
from controlroom.i18n import translations
from controlroom.web.pages import client_ip, refusal_text, render_page, request_locale

router = APIRouter()
TABLES = ("minutes", "segments", "products", "headline", "hot_words", "questions", "incidents", "playbooks",
          "review_items")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_COMPARED = 4


async def _review(services: Services, room: str, show_id: int) -> dict | None:
    return await services.reviews.review(room, show_id)


@router.get("/rooms/{room}/shows/{show_id}/review", response_class=HTMLResponse, include_in_schema=False)
async def review_page(room: str, show_id: PathNumber, request: Request, services: Svc, principal: Reviewer) -> Response:
    review = await _review(services, room, show_id)
    if review is None:
        return render_page(request, "pages/not_found.html", status_code=404, what=f"{room} #{show_id}")
    def read(session) -> tuple[list, dict]:
        names = {c.key: (c.name, c.name_en) for c in session.scalars(select(LexiconCategory))}
        return show_items(session, show_id), names

    items, categories = await run_in_transaction(services.sessions, read)
    return render_page(request, "pages/review.html", r=review, items=items, categories=categories)


def _items_answer(request: Request, services: Services, room: str, show_id: int, items: list, *,
                  error: str | None = None) -> Response:
    if not request.headers.get("hx-request"):
        return RedirectResponse(f"/rooms/{room}/shows/{show_id}/review#review-items", status_code=303)
    if error is not None:
        return PlainTextResponse(error, status_code=409)
    return render_page(request, "partials/_review_items.html", room=room, show_id=show_id, items=items)


@router.post("/rooms/{room}/shows/{show_id}/review/items", include_in_schema=False)
async def add_review_item(
    room: str, show_id: PathNumber, request: Request, services: Svc, principal: Reviewer,
    kind: Annotated[str, Form()] = "", text: Annotated[str, Form()] = "", segment: Annotated[str, Form()] = "",
    sku: Annotated[str, Form()] = "",
) -> Response:
    """A problem or an action item written down in the review meeting."""
    def work(session) -> list:
        add_item(session, room=room, show_id=show_id, kind=kind, text=text, segment=segment, sku=sku,
                 by=principal.name, now=services.now())
        return show_items(session, show_id)

    try:
        items = await run_in_transaction(services.sessions, work)
    except ItemRefused as refusal:
        return _items_answer(request, services, room, show_id, [], error=refusal_text(request, services, refusal))
    except LookupError:
        return render_page(request, "pages/not_found.html", status_code=404, what=f"{room} #{show_id}")
    return _items_answer(request, services, room, show_id, items)


@router.get("/rooms/{room}/shows/{show_id}/open-actions", include_in_schema=False)
async def open_actions(room: str, show_id: PathNumber, request: Request, services: Svc, principal: Reviewer) -> Response:
    """The open action items of the room's earlier reviews, for a show's script editor."""
    def read(session) -> list | None:
        show = session.get(Show, show_id)
        room_row = room_by_slug(session, room)
        if show is None or room_row is None or show.room_id != room_row.id:
            return None
        return open_actions_before(session, show)

    actions = await run_in_transaction(services.sessions, read)
    if actions is None:
        return PlainTextResponse(f"no show {show_id} in room {room!r}", status_code=404)
    return render_page(request, "partials/_open_actions.html", room=room, show_id=show_id, open_actions=actions)


@router.post("/rooms/{room}/review-items/{item_id}/done", include_in_schema=False)
async def tick_review_item(room: str, item_id: PathNumber, request: Request, services: Svc, principal: Reviewer,
                           script_of: Annotated[str, Form()] = "") -> Response:
    """Tick an action item (from its review, or from a later show's script editor:
    `script_of` names that show, whose open items are answered)."""
    def work(session) -> dict:
        item = tick_item(session, room=room, item_id=item_id, by=principal.name, now=services.now())
        if script_of.isdigit():
            later = session.get(Show, int(script_of))
            return {"actions": open_actions_before(session, later) if later and later.room_id == item.room_id else [],
                    "show": int(script_of)}
        return {"items": show_items(session, item.show_id), "show_id": item.show_id}

    try:
        answer = await run_in_transaction(services.sessions, work)
    except LookupError as error:
        return PlainTextResponse(str(error), status_code=404)
    if "actions" in answer:
        if not request.headers.get("hx-request"):
            return RedirectResponse(f"/rooms/{room}/shows/{answer['show']}/script", status_code=303)
        return render_page(request, "partials/_open_actions.html", room=room, show_id=answer["show"],
                           open_actions=answer["actions"])
    return _items_answer(request, services, room, answer["show_id"], answer["items"])


@router.post("/rooms/{room}/shows/{show_id}/review/rebuild", include_in_schema=False)
async def rebuild(room: str, show_id: PathNumber, request: Request, services: Svc, principal: Reviewer) -> Response:
    """Compute the review again from the show's recording (off the event loop)."""
    try:
        rebuilt = await services.reviews.rebuild(room, show_id)
    except NoRecording as refusal:
        return PlainTextResponse(refusal_text(request, services, refusal), status_code=409)
    if rebuilt is None:
        return render_page(request, "pages/not_found.html", status_code=404, what=f"{room} #{show_id}")
    return RedirectResponse(f"/rooms/{room}/shows/{show_id}/review", status_code=303)


@router.get("/rooms/{room}/shows/{show_id}/review.json", tags=["reviews"], summary="A show's whole review",
            responses={**json_object("The review: headline, segments, products, words, incidents, findings"),
                       **ROOM_API})
async def review_json(room: str, show_id: PathNumber, services: Svc, principal: Reviewer) -> Response:
    review = await _review(services, room, show_id)
    if review is None:
        return Response(orjson.dumps({"detail": f"no show {show_id} in room {room!r}"}), status_code=404,
                        media_type="application/json")
    return Response(orjson.dumps(review), media_type="application/json")


@router.get("/rooms/{room}/shows/{show_id}/review.csv", tags=["reviews"], summary="A table of the review as CSV",
            responses={**csv_answer("One table (minutes, segments, products, headline, hot_words, questions, incidents, "
                                    "playbooks, review_items); times also in the show's time zone; formula cells "
                                    "neutralised"), **ROOM_API})
async def review_csv(room: str, show_id: PathNumber, services: Svc, principal: Reviewer, table: str = "minutes") -> Response:
    if table not in TABLES:
        return JSONResponse({"detail": f"table: one of {', '.join(TABLES)}"}, status_code=422)
    tables = await _tables(services, room, show_id)
    if tables is None:
        return JSONResponse({"detail": f"no show {show_id} in room {room!r}"}, status_code=404)
    chosen = tables[table]
    body = csv_text(chosen.rows, chosen.keys)
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{room}-show-{show_id}-{table}.csv"'})


@router.get("/rooms/{room}/shows/{show_id}/review.xlsx", tags=["reviews"], summary="The review as an Excel workbook",
            responses={200: {"description": "A sheet per table, headers in the reader's language; text cells are "
                                            "text, never formulas",
                             "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}},
                       **ROOM_API})
async def review_xlsx(room: str, show_id: PathNumber, request: Request, services: Svc, principal: Reviewer) -> Response:
    tables = await _tables(services, room, show_id)
    if tables is None:
        return JSONResponse({"detail": f"no show {show_id} in room {room!r}"}, status_code=404)
    gettext = translations(request_locale(request, services)).gettext
    body = await asyncio.to_thread(workbook, tables, gettext)
    return Response(body, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{room}-show-{show_id}-review.xlsx"'})


async def _tables(services: Services, room: str, show_id: int) -> dict | None:
    review = await _review(services, room, show_id)
    if review is None:
        return None
    items = await run_in_transaction(services.sessions, lambda s: show_items(s, show_id))
    return review_tables(review, items, services.settings.tz)


@router.get("/reviews", response_class=HTMLResponse, include_in_schema=False)
async def index(request: Request, services: Svc, principal: Reviewer, room: str = "", start: str = Query("", alias="from"),
                end: str = Query("", alias="to"), kind: str = "all") -> Response:
    """Every show of the reader's rooms, filterable, to open or compare their reviews."""
    tz = services.settings.tz
    errors = []
    first = last = None
    for name, text in (("from", start), ("to", end)):
        try:
            day = date.fromisoformat(text) if text else None
        except ValueError:
            errors.append(Refusal("%(field)s: not a date (YYYY-MM-DD): %(value)s", field=name, value=text[:20]))
            continue
        if day is not None and name == "from":
            first = datetime.combine(day, time.min, tz)
        elif day is not None:
            last = datetime.combine(day + timedelta(days=1), time.min, tz)
    if kind not in KINDS:
        errors.append(Refusal("kind: one of %(choices)s", choices=", ".join(KINDS)))
        kind = "all"
    data = await run_in_transaction(services.sessions, lambda s: reviews_index(
        s, room_slugs=principal.room_slugs, room=room, start=first, end=last, kind=kind))
    return render_page(request, "pages/reviews.html", status_code=422 if errors else 200,
                       errors=[refusal_text(request, services, e) for e in errors],
                       filters={"room": room, "from": start, "to": end, "kind": kind}, **data)


@router.get("/reviews/compare", response_class=HTMLResponse, include_in_schema=False)
async def compare(request: Request, services: Svc, principal: Reviewer, a: str = "", b: str = "",
                  show: Annotated[list[str], Query()] = []) -> Response:  # noqa: B006 - FastAPI's form of a list
    """Shows side by side: `show=room/id` repeated (from the reviews index), or `a` and `b`."""
    refs = show or [ref for ref in (a, b) if ref]
    if len(refs) < 2:
        return RedirectResponse("/reviews", status_code=303)
    reviews = []
    for ref in refs[:MAX_COMPARED]:
        room, _, show_id = ref.partition("/")
        if not show_id.isdigit() or not principal.can_see_room(room):
            return render_page(request, "pages/not_found.html", status_code=404, what=ref or "?")
        review = await _review(services, room, int(show_id))
        if review is None:
            return render_page(request, "pages/not_found.html", status_code=404, what=ref)
        reviews.append(review)
    return render_page(request, "pages/review_compare.html", reviews=reviews)


@router.get("/rooms/{room}/shows/{show_id}/audience.csv", include_in_schema=False)
async def audience(room: str, show_id: PathNumber, request: Request, services: Svc, principal: Exporter) -> Response:
    rows = await services.reviews.audience(room, show_id)
    if rows is None:
        return PlainTextResponse(f"no show {show_id} in room {room!r}\n", status_code=404)

    def audit(session) -> None:
        record(session, actor=principal.name, user_id=principal.user_id, action="review.audience_export", now=services.now(),
               room=room_by_slug(session, room), ip=client_ip(request), detail={"show": show_id, "people": len(rows)})

    await run_in_transaction(services.sessions, audit)
    body = csv_text(rows, ["user_id", "name", "comments", "gifts", "gift_value_cents", "orders_paid", "paid_cents"])
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{room}-show-{show_id}-audience.csv"'})
