"""The answers the JSON API gives besides its success, declared once for the OpenAPI
document, so generated clients and fuzzers agree with the server."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    """Every error body of the API: what is wrong, and where."""

    detail: str


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorDetail, "description": description}


NOT_SIGNED_IN = {401: _error("Not signed in (no valid session cookie)")}
NOT_ALLOWED = {403: _error("Signed in, but this role or this room is not allowed")}
ROOM_NOT_FOUND = {404: _error("No such room")}
REDIS_DOWN = {503: _error("The event store (Redis) is unreachable; retry later (Retry-After)")}
BAD_PARAMETER = {422: _error("A path or query parameter is not valid")}

# A signed-in user's API route about one room.
ROOM_API = {**NOT_SIGNED_IN, **NOT_ALLOWED, **ROOM_NOT_FOUND, **BAD_PARAMETER, **REDIS_DOWN}


def json_list(description: str) -> dict[int, dict[str, Any]]:
    return {200: {"description": description, "content": {"application/json": {"schema": {"type": "array",
                                                                                          "items": {"type": "object"}}}}}}


def json_object(description: str) -> dict[int, dict[str, Any]]:
    return {200: {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}}


def csv_answer(description: str) -> dict[int, dict[str, Any]]:
    return {200: {"description": description, "content": {"text/csv": {"schema": {"type": "string"}}}}}
