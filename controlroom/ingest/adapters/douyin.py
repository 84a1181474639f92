"""Douyin open platform live-room data push (直播间数据开放) → canonical events (pure).

The platform POSTs a JSON array of items to the configured URL, one message type per
push, named by the x-msg-type header (live_comment, live_like, live_gift,
live_fansclub); x-roomid names the Douyin room. The push is signed:

    x-signature = base64(md5("k1=v1&k2=v2&…" + raw body + secret))

over the headers x-msg-type, x-nonce-str, x-roomid and x-timestamp sorted by name
(every signed header except x-signature and content-type).

Mapping decisions:
- Canonical ids are `dy-<msg_id>`: the "dy-" prefix keeps ids from different platforms
  apart in one room; a repeated push keeps its msg_id, so the repeat is dropped
  downstream as a duplicate id.
- Users are `sec_openid` (the per-app buyer id the push carries) with the nickname.
- gift_value is fen and taken as the value of the whole item (all `gift_num` gifts).
- Items marked test=true (gifts carry the flag; sent from the open platform's debug
  tools) are not counted: they come back in `skipped` ("skipped: platform test
  message"), checked before anything else so a sparse test item is still skipped.
- Replays: a verified push is named by x-signature (which covers the body, x-nonce-str
  and x-timestamp) with the nonce and time stamp; x-timestamp is accepted within
  MAX_SKEW_S either side of our clock, so a push is remembered for 2 × MAX_SKEW_S plus
  a margin (`replay_ttl_s`) and a byte-identical replay inside that window is refused.
- Timestamps arrive in seconds in the official samples although the text says
  milliseconds: both are accepted (a value below 10^11 is seconds).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any

from controlroom.ingest.adapters.base import (
    SKIPPED_TEST_MESSAGE,
    ItemError,
    PushRejected,
    SignatureRejected,
    SkipItem,
    Translated,
    as_id,
    as_int,
    check_age,
    item_text,
    json_array,
    lower_headers,
    register,
    require,
    signature_header,
    to_ms,
    validated,
)

PLATFORM = "douyin"
ID_PREFIX = "dy-"

# The headers the signature covers (all the push's x- headers but x-signature).
SIGNED_HEADERS = ("x-msg-type", "x-nonce-str", "x-roomid", "x-timestamp")

# A push whose x-timestamp is further than this from our clock is refused as a replay.
MAX_SKEW_S = 300
# How long a verified push is remembered against byte-identical replays: the whole
# window its x-timestamp can be accepted in (from MAX_SKEW_S before to MAX_SKEW_S
# after our clock), plus a margin for clock steps.
REPLAY_TTL_S = 2 * MAX_SKEW_S + 60


def douyin_signature(headers: Mapping[str, str], body: bytes, secret: str) -> str:
    """The x-signature the platform sends for this push (base64 of the raw MD5)."""
    present = lower_headers(headers)
    signed = "&".join(f"{name}={present.get(name, '')}" for name in sorted(SIGNED_HEADERS))
    digest = hashlib.md5(signed.encode() + body + secret.encode()).digest()
    return base64.b64encode(digest).decode()


def _comment(item: Mapping[str, Any]) -> dict[str, Any]:
    content = require(item, "content")
    if not isinstance(content, str):
        raise ItemError(f"content: expected text, got {item_text(content)}")
    return {"type": "comment", "text": content}


def _like(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "like", "count": as_int(require(item, "like_num"), "like_num")}


def _is_test(item: Any) -> bool:
    """The platform's test / debug message: test=true (also true as 1 or "true")."""
    if not isinstance(item, dict):
        return False
    flag = item.get("test")
    if isinstance(flag, bool):
        return flag
    if isinstance(flag, int):
        return flag == 1
    return isinstance(flag, str) and flag.strip().lower() in ("true", "1")


def _gift(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "gift",
        "gift": as_id(require(item, "sec_gift_id"), "sec_gift_id"),
        "count": as_int(require(item, "gift_num"), "gift_num"),
        "value_cents": as_int(require(item, "gift_value"), "gift_value"),
    }


def _fansclub(item: Mapping[str, Any]) -> dict[str, Any]:
    reason = as_int(require(item, "fansclub_reason_type"), "fansclub_reason_type")
    if reason not in (1, 2):
        raise ItemError(f"fansclub_reason_type: expected 1 (upgrade) or 2 (join), got {reason}")
    level = item.get("fansclub_level")
    event: dict[str, Any] = {"type": "fansclub", "joined": reason == 2}
    if level is not None:
        event["level"] = as_int(level, "fansclub_level")
    return event


MSG_TYPES: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "live_comment": _comment,
    "live_like": _like,
    "live_gift": _gift,
    "live_fansclub": _fansclub,
}


def _translate_item(item: Any, mapper: Callable[[Mapping[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ItemError("not a JSON object")
    msg_id = as_id(require(item, "msg_id"), "msg_id")
    user: dict[str, Any] = {"id": as_id(require(item, "sec_openid"), "sec_openid")}
    nickname = item.get("nickname")
    if isinstance(nickname, str) and nickname:
        user["name"] = nickname
    ts = to_ms(require(item, "timestamp"), "timestamp")
    event = {"id": ID_PREFIX + msg_id, "ts": ts, "source": PLATFORM, "user": user}
    event.update(mapper(item))
    return validated(event)


class DouyinAdapter:
    platform = PLATFORM
    replay_ttl_s = REPLAY_TTL_S

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str, *, now_s: float) -> None:
        present, sent = signature_header(headers, "x-signature")
        expected = douyin_signature(present, body, secret)
        if not hmac.compare_digest(sent.strip().encode(), expected.encode()):
            raise SignatureRejected("x-signature does not match")
        # Checked after the signature (which covers x-timestamp), so the age is the
        # platform's own: a captured push replayed later is refused.
        raw_ts = present.get("x-timestamp", "").strip()
        if not raw_ts:
            raise SignatureRejected("missing x-timestamp")
        try:
            stamp = int(raw_ts)
        except ValueError:
            raise SignatureRejected(f"x-timestamp {raw_ts!r} is not a Unix time stamp") from None
        check_age(stamp, now_s=now_s, max_skew_s=MAX_SKEW_S, name="x-timestamp")

    def translate(self, headers: Mapping[str, str], body: bytes, *, now_ms: int | None = None) -> Translated:
        present = lower_headers(headers)
        msg_type = present.get("x-msg-type", "").strip()
        if not msg_type:
            raise PushRejected("missing x-msg-type")
        mapper = MSG_TYPES.get(msg_type)
        if mapper is None:
            raise PushRejected(f"x-msg-type {msg_type!r} is not one of {', '.join(MSG_TYPES)}")
        items = json_array(body)
        events: list[dict[str, Any]] = []
        rejected: list[tuple[str, str]] = []
        skipped: list[tuple[str, str]] = []
        for index, item in enumerate(items):
            try:
                if _is_test(item):
                    raise SkipItem(f"{SKIPPED_TEST_MESSAGE} (test={item_text(item['test'])}): not counted")
                events.append(_translate_item(item, mapper))
            except SkipItem as exc:
                skipped.append((item_text(item), f"item {index}: {exc}"))
            except ItemError as exc:
                rejected.append((item_text(item), f"item {index}: {exc}"))
        room = present.get("x-roomid", "").strip() or None
        return Translated(events=events, rejected=rejected, skipped=skipped, external_room=room)

    def replay_fingerprint(self, headers: Mapping[str, str]) -> str:
        # As verify compares them: the signature stripped, the signed headers verbatim.
        present = lower_headers(headers)
        return "\n".join([present.get("x-signature", "").strip(), present.get("x-nonce-str", ""),
                          present.get("x-timestamp", "")])


ADAPTER = register(DouyinAdapter())
