"""The agency wall: every room a person may see on one 1920×1080 screen, a card each
(its show, the segment and its countdown, an online sparkline, GMV, the worst open
alert), refreshed every two seconds from Redis alone."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from controlroom.alerts.lifecycle import ACKNOWLEDGED, FIRING
from controlroom.auth.deps import Dashboard, Svc
from controlroom.auth.service import Principal
from controlroom.bus.client import known_rooms
from controlroom.live.view import RoomView
from controlroom.rules.schemas import LEVEL_RANK
from controlroom.services import Services
from controlroom.web.pages import render_page

router = APIRouter()

MAX_ROOMS = 24
SPARK_POINTS = 30
SPARK_WIDTH, SPARK_HEIGHT = 160, 36


def sparkline(values: list[float]) -> str:
    """SVG polyline points of the last SPARK_POINTS values, scaled into the box."""
    points = values[-SPARK_POINTS:]
    if len(points) < 2:
        return ""
    low, high = min(points), max(points)
    span = (high - low) or 1
    step = SPARK_WIDTH / (len(points) - 1)
    return " ".join(f"{i * step:.1f},{SPARK_HEIGHT - (v - low) / span * SPARK_HEIGHT:.1f}" for i, v in enumerate(points))


def worst_open_alert(view: RoomView) -> dict[str, Any] | None:
    loud = [a for a in view.alerts["alerts"] if a["state"] in (FIRING, ACKNOWLEDGED) and not a["muted"]]
    return max(loud, key=lambda a: (LEVEL_RANK[a["level"]], a["state"] == FIRING), default=None)


async def wall_cards(services: Services, principal: Principal) -> list[dict[str, Any]]:
    cards = []
    for slug in await known_rooms(services.redis):
        if not principal.can_see_room(slug):
            continue
        view = await services.room_view(slug)
        cards.append({"slug": slug, "name": await services.bus.room_name(slug) or slug, "v": view,
                      "spark": sparkline(view.series.get("online", [])), "worst": worst_open_alert(view)})
        if len(cards) == MAX_ROOMS:
            break
    # Rooms in trouble first, then the live ones by audience.
    cards.sort(key=lambda c: (-(LEVEL_RANK[c["worst"]["level"]] if c["worst"] else 0), -c["v"].online))
    return cards


@router.get("/wall", response_class=HTMLResponse, include_in_schema=False)
async def wall(request: Request, services: Svc, principal: Dashboard) -> Response:
    return render_page(request, "pages/wall.html", cards=await wall_cards(services, principal),
                       spark_size=(SPARK_WIDTH, SPARK_HEIGHT))


@router.get("/wall/cards", response_class=HTMLResponse, include_in_schema=False)
async def wall_cards_partial(request: Request, services: Svc, principal: Dashboard) -> Response:
    return render_page(request, "partials/_wall_cards.html", cards=await wall_cards(services, principal),
                       spark_size=(SPARK_WIDTH, SPARK_HEIGHT))
