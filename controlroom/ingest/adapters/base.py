"""The adapter interface: a platform's signed push in, canonical events out (pure; no I/O).

An adapter does three things, all without touching the network, Redis or the clock
(the caller passes the time in):

- `verify(headers, body, secret, now_s=...)` checks the platform's signature (and, where
  the platform stamps its pushes, their age) and raises `SignatureRejected` if the push
  must not be trusted. Nothing of a rejected push may be stored.
- `translate(headers, body, now_ms=...)` maps the push to canonical events
  (`controlroom.events`). Each item is translated on its own: an item that cannot be
  mapped comes back in `rejected` with its raw text and a reason naming its index
  (0-based, as in the generic ingest API) and field; the others go through. A body that
  is not the platform's format at all raises `PushRejected`. An item the platform
  itself marks as not real (a test / debug message) comes back in `skipped`, not
  counted but kept as a trace.
- `replay_fingerprint(headers)` names a verified push by what its signature covers
  (the signature itself, with the nonce and time stamp when the platform signs them),
  in the form the adapter compares it: the caller remembers it for `replay_ttl_s`
  seconds (a little longer than the time window `verify` accepts a push in) and
  refuses a byte-identical replay inside that window.

Adding a platform (Kuaishou, Bilibili, WeChat Channels, …) is one module in this package:
a class with `platform`, `replay_ttl_s`, `verify`, `translate` and `replay_fingerprint`,
an instance passed to `register()`, and one import line in
`controlroom/ingest/adapters/__init__.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from pydantic import ValidationError

from controlroom.events import event_adapter

# A platform time stamp below this is in seconds, above it in milliseconds
# (10^11 s is the year 5138; 10^11 ms is 1973).
MS_THRESHOLD = 100_000_000_000


class SignatureRejected(Exception):
    """The push is not signed by the platform (or is too old to be trusted): answer 401."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PushRejected(Exception):
    """The body is not the platform's format at all (not JSON, not an array, unknown kind)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Translated:
    # Canonical events as plain JSON-ready dicts, each validated by `event_adapter`
    # (defaults filled, None fields left out).
    events: list[dict[str, Any]] = field(default_factory=list)
    # (raw item text, reason) for each item that was not mapped; the reason starts with
    # "item N: " (N is the 0-based index in the pushed array).
    rejected: list[tuple[str, str]] = field(default_factory=list)
    # (raw item text, reason) for each item the platform marked as a test / debug
    # message: not counted, kept as a trace; the reason is "item N: skipped: …".
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # The platform's id of the room / shop the push is for (Douyin x-roomid, Doudian
    # shop_id), to be resolved to one of our rooms through a binding; None if unknown.
    external_room: str | None = None


class Adapter(Protocol):
    platform: str
    # How long (s) a verified push is remembered so a byte-identical replay is refused:
    # a little longer than the window `verify` accepts the push's time stamp in.
    replay_ttl_s: int

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str, *, now_s: float) -> None:
        """Raise SignatureRejected unless the push is signed with `secret` (and fresh)."""
        ...

    def translate(self, headers: Mapping[str, str], body: bytes, *, now_ms: int | None = None) -> Translated:
        """Map the push to canonical events; raise PushRejected if the body is unreadable."""
        ...

    def replay_fingerprint(self, headers: Mapping[str, str]) -> str:
        """What identifies this (verified) push: equal for a byte-identical replay."""
        ...


ADAPTERS: dict[str, Adapter] = {}


def register(adapter: Adapter) -> Adapter:
    ADAPTERS[adapter.platform] = adapter
    return adapter


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names are case-insensitive: look them up in lower case."""
    return {str(name).lower(): value for name, value in headers.items()}


def signature_header(headers: Mapping[str, str], name: str) -> tuple[dict[str, str], str]:
    """The headers (lower-cased) and the signature the platform sent in `name`."""
    present = lower_headers(headers)
    sent = present.get(name)
    if not sent:
        raise SignatureRejected(f"missing {name}")
    return present, sent


class ItemError(Exception):
    """One pushed item cannot be mapped; the message names the field."""


class SkipItem(Exception):
    """One pushed item is well formed but must not be counted (the platform's test
    message); the message says why. Reported as skipped, not as rejected."""


SKIPPED_TEST_MESSAGE = "skipped: platform test message"


def item_text(item: Any) -> str:
    try:
        return orjson.dumps(item).decode()
    except TypeError:
        return repr(item)


def as_int(value: Any, name: str) -> int:
    """An integer field: a JSON number or a string of digits (platforms use both)."""
    if isinstance(value, bool) or value is None:
        raise ItemError(f"{name}: expected an integer, got {item_text(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ItemError(f"{name}: expected an integer, got {item_text(value)}")


def check_age(stamp: int, *, now_s: float, max_skew_s: int, name: str) -> None:
    """Refuse a push whose own time stamp (s or ms) is further than `max_skew_s` from our
    clock: a replayed or delayed push."""
    stamp_s = stamp / 1000 if stamp > MS_THRESHOLD else float(stamp)
    skew = abs(now_s - stamp_s)
    if skew > max_skew_s:
        raise SignatureRejected(
            f"{name} {stamp} is {int(skew)} s from now: a replayed or delayed push "
            f"(more than {max_skew_s} s; check this server's clock if every push is refused)"
        )


def as_id(value: Any, name: str) -> str:
    """An identifier field: a non-empty string or an integer, as text."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ItemError(f"{name}: expected a non-empty id, got {item_text(value)}")


def to_ms(value: Any, name: str) -> int:
    """A platform time stamp in seconds or milliseconds, as Unix milliseconds."""
    stamp = as_int(value, name)
    if stamp <= 0:
        raise ItemError(f"{name}: expected a Unix time stamp, got {stamp}")
    return stamp * 1000 if stamp < MS_THRESHOLD else stamp


def require(item: Mapping[str, Any], name: str, *, within: str = "") -> Any:
    """A field that must be there; `within` names where ("data." for a nested object)."""
    value = item.get(name)
    if value is None:
        raise ItemError(f"missing {within}{name}")
    return value


def validated(event: dict[str, Any]) -> dict[str, Any]:
    """The canonical event as it will be stored, or ItemError with pydantic's reason."""
    try:
        model = event_adapter.validate_python(event)
    except ValidationError as exc:
        raise ItemError(describe(exc, event.get("type"))) from None
    return event_adapter.dump_python(model, mode="json", exclude_none=True)


def describe(exc: ValidationError, kind: Any) -> str:
    found = []
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        if loc and loc[0] == kind:  # the union's tag, not a field
            loc = loc[1:]
        path = ".".join(str(part) for part in loc) or "(event)"
        found.append(f"{path}: {error['msg']}")
    return "; ".join(found)


def json_array(body: bytes) -> list[Any]:
    """The pushed JSON array, or PushRejected saying what the body is instead."""
    return _json_body(body, list, "array")


def json_object(body: bytes) -> dict[str, Any]:
    """The pushed JSON object, or PushRejected saying what the body is instead."""
    return _json_body(body, dict, "object")


def _json_body(body: bytes, kind: type, name: str) -> Any:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PushRejected(f"body: not a JSON {name} (not valid JSON: {exc})") from None
    if not isinstance(data, kind):
        raise PushRejected(f"body: not a JSON {name} (got a JSON {json_kind(data)})")
    return data


def json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "array"
    return "null" if value is None else type(value).__name__
