"""Turning a request body into validated canonical events (pure; no I/O).

A body is a JSON array or NDJSON. Each item is validated on its own so one bad item
never costs the good ones: it comes back with its index, field and reason, and its raw
text goes to the dead-letter stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from controlroom.events import EVENT_TYPES, event_adapter


class BodyError(Exception):
    """The body as a whole cannot be read: nothing in it is accepted."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Rejection:
    index: int
    field: str
    reason: str
    id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.id, "field": self.field, "reason": self.reason}


@dataclass
class ParsedBatch:
    # (index in the body, event id, canonical JSON)
    valid: list[tuple[int, str, bytes]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    # (raw text, reason) of each rejected item, for the dead-letter stream
    dead: list[tuple[bytes, bytes]] = field(default_factory=list)
    total: int = 0
    # The `source` of each valid event: those feeds are heard from (silence per source).
    sources: set[str] = field(default_factory=set)


def is_ndjson(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media in {"application/x-ndjson", "application/ndjson", "application/jsonl"}


# An event stamped further ahead than this is refused: one such reading would otherwise
# stay "newest" (online now, stream status) and freeze the screens until that time.
MAX_FUTURE_MS = 5 * 60_000


def parse_body(body: bytes, *, ndjson: bool, max_events: int, now_ms: int) -> ParsedBatch:
    if not body.strip():
        raise BodyError(400, "empty body: send a JSON array of events (or NDJSON)")
    if ndjson:
        items = _ndjson_items(body)
    else:
        items = _json_array_items(body)
    if len(items) > max_events:
        raise BodyError(413, f"too many events: {len(items)} in one request, the limit is {max_events}")
    batch = ParsedBatch(total=len(items))
    for index, (raw, item, error) in enumerate(items):
        if error is not None:
            _reject(batch, raw, item, [Rejection(index, "", error)])
            continue
        try:
            event = event_adapter.validate_python(item)
        except ValidationError as exc:
            event_id = item.get("id") if isinstance(item, dict) else None
            found = [
                Rejection(index, field_path, reason, event_id if isinstance(event_id, str) else None)
                for field_path, reason in _describe(exc, item)
            ]
            _reject(batch, raw, item, found)
            continue
        if event.ts > now_ms + MAX_FUTURE_MS:
            ahead_s = (event.ts - now_ms) // 1000
            reason = f"is {ahead_s} s in the future (more than {MAX_FUTURE_MS // 60_000} min ahead): check the sender's clock"
            _reject(batch, raw, item, [Rejection(index, "ts", reason, event.id)])
            continue
        batch.valid.append((index, event.id, event_adapter.dump_json(event, exclude_none=True)))
        if event.source:
            batch.sources.add(event.source)
    return batch


def _reject(batch: ParsedBatch, raw: bytes | None, item: Any, found: list[Rejection]) -> None:
    batch.rejections.extend(found)
    reason = "; ".join(f"{r.field or '(item)'}: {r.reason}" for r in found)
    batch.dead.append((raw if raw is not None else orjson.dumps(item), reason.encode()))


def _json_array_items(body: bytes) -> list[tuple[bytes | None, Any, str | None]]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BodyError(400, f"body is not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise BodyError(
            400,
            f"body must be a JSON array of events (or NDJSON with Content-Type "
            f"application/x-ndjson), got a JSON {type(data).__name__}",
        )
    # The raw text of an item is only needed if it is rejected; serialise lazily.
    return [(None, item, None) for item in data]


def _ndjson_items(body: bytes) -> list[tuple[bytes | None, Any, str | None]]:
    items: list[tuple[bytes | None, Any, str | None]] = []
    for line_no, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append((line, orjson.loads(line), None))
        except orjson.JSONDecodeError as exc:
            items.append((line, None, f"line {line_no} is not valid JSON: {exc}"))
    return items


def _describe(exc: ValidationError, item: Any) -> list[tuple[str, str]]:
    if not isinstance(item, dict):
        return [("", f"an event must be a JSON object, got {type(item).__name__}")]
    kind = item.get("type")
    if kind not in EVENT_TYPES:
        expected = ", ".join(EVENT_TYPES)
        if kind is None:
            return [("type", f"missing; expected one of {expected}")]
        return [("type", f"unknown event type {kind!r}; expected one of {expected}")]
    found = []
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        if loc and loc[0] == kind:  # the union's tag, not a field
            loc = loc[1:]
        field_path = ".".join(str(part) for part in loc)
        message = error["msg"]
        if isinstance(error.get("input"), float) and abs(error["input"]) >= 2**63:
            # JSON readers turn integers past 64 bits into floats: say what was sent.
            message = f"{error['input']:.3g} is far outside the field's range (see the contract's ranges)"
        if field_path == "ts" and error["type"] in {"greater_than_equal", "less_than_equal"}:
            message = f"must be Unix time in milliseconds, got {error['input']!r}"
            if error["type"] == "greater_than_equal":
                message += " (seconds? multiply by 1000)"
        found.append((field_path, message))
    return found

