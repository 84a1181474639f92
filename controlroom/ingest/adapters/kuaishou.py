"""Kuaishou (快手) open platform live-room interaction push (直播互动数据) → canonical events (pure).

The platform POSTs one JSON object per push to the app's webhook URL — its WebHook
envelope, documented in the open platform's "WebHook 接入指南" and event list (mirrored at
https://apifox.com/apidoc/project-462993/doc-355267 and doc-355269; the same envelope and
reply in https://open.kuaishou.com/docs/saas/develop/api/encryptedMsg.html):

    {"app_id": "ks…", "event": "LIVE_INTERACTION_DATA", "timestamp": <ms>,
     "message_id": "…", "data": {…}}

signed in the `kwaisign` header:

    kwaisign = lowercase hex md5(raw body + app_secret)

("快手服务端会将应用的md5(原始消息体+appSecret)的方式进行签名"). The platform retries a
push it got no success for 3 times, 5 s apart, with the same message id, and expects
`{"result": 1, "message_id": "<the push's message_id>"}` back (`reply()`; any other
result is retried).

The live-interaction event itself is not in the documentation found; its layout is
taken from a public server implementation of Kuaishou live interaction pushes
(github.com/kongshui/danmu: service/serviceType.go `KsCallbackStruct`,
service/ksPushBasePayloay.go, common/ksSignature.go — the same md5(body + secret) check):

    data = {"unique_message_id": "…", "author_open_id": "<streamer>", "room_code": "…",
            "push_type": "liveComment" | "liveLike" | "giftSend" | …, "payload": [item, …]}
    liveComment item: {"content": "…", "userInfo": {"userId", "userName", "headUrl"}}
    liveLike item:    {"count": 3, "userInfo": {…}}
    giftSend item:    {"uniqueNo", "giftId", "giftName", "giftCount", "giftUnitPrice",
                       "giftTotalPrice", "userInfo": {…}, "normalGift"}

ASSUMED (no source found): follows and shares arrive as push_type "liveFollow" and
"liveShare" with items `{"userInfo": {…}}` (Kuaishou's interactive-live SDK has Follow and
Share events carrying only the user). The push carries no enter events and no online
counts in any source found, so none are mapped. An item of any other push_type is
rejected on its own ("push_type '…' is not mapped"), so it stays visible in the dead
letters and the platform is not made to retry.

The binding's external id is the streamer's `author_open_id` (stable across shows, unlike
room_code, which names one broadcast); its secret is the app's AppSecret.

Mapping decisions:
- Canonical ids are `ks-<unique_message_id>-<index in payload>`: the platform's retry of
  a push keeps its unique_message_id and payload, so a repeat is dropped downstream as a
  duplicate id. Gifts carry their own transaction number (uniqueNo, "一个单号代表一笔送收礼,
  可用于幂等消费"): a gift's id is `ks-gift-<uniqueNo>`, so a gift pushed again in another
  push is still counted once. Without unique_message_id the envelope's message_id is used.
- Users are `userInfo.userId` (the app's open id of the viewer) with `userName`.
- Gift values are 快币 (Kuaishou coins): 1 快币 = ¥0.1 = 10 fen, so value_cents =
  giftTotalPrice × 10 (the whole item: all giftCount gifts); without giftTotalPrice,
  giftUnitPrice × giftCount × 10. The gift is giftId; giftName is kept as `gift_name`.
- Times: the items carry none; every item takes the envelope's `timestamp` (ms, seconds
  accepted), or the caller's now_ms when it has none.
- Test messages (the platform's 压测 / debug pushes: event LIVE_INTERACTION_DATA_TEST, or a
  unique_message_id starting with test_ / stress_) are not counted: every item comes back
  in `skipped` ("skipped: platform test message"), checked before its fields; a stress
  test's author_open_id has its "stress_" prefix removed so it reaches the bound room.
- An envelope whose event is not live-interaction data (the webhook's URL check TEST,
  AUTHORIZE, …) is not a live push: `PushRejected`, so (carrying no author) it is kept
  aside with the unbound pushes when it is signed with one of our secrets, and answered.
- Replays: `timestamp` is inside the signed body and is accepted within MAX_SKEW_S either
  side of our clock (required for live-interaction pushes; other events are checked only
  when they carry one). A verified push is named by its kwaisign (which covers the whole
  body) and remembered for 2 × MAX_SKEW_S plus a margin (`replay_ttl_s`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any

import orjson

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
    json_kind,
    json_object,
    lower_headers,
    register,
    require,
    signature_header,
    to_ms,
    validated,
)

PLATFORM = "kuaishou"
ID_PREFIX = "ks-"
SIGNATURE_HEADER = "kwaisign"

LIVE_EVENT = "LIVE_INTERACTION_DATA"
TEST_EVENT = "LIVE_INTERACTION_DATA_TEST"
TEST_ID_PREFIXES = ("test_", "stress_")
STRESS_PREFIX = "stress_"

# 1 快币 = ¥0.1 = 10 fen.
FEN_PER_KUAIBI = 10

# A push whose timestamp is further than this from our clock is refused as a replay.
MAX_SKEW_S = 300
# The whole window a timestamp can be accepted in, plus a margin for clock steps.
REPLAY_TTL_S = 2 * MAX_SKEW_S + 60


def kuaishou_signature(body: bytes, secret: str) -> str:
    """The kwaisign header of a push: lowercase hex md5(raw body + app secret)."""
    return hashlib.md5(body + secret.encode()).hexdigest()


def reply(body: bytes, extra: Mapping[str, Any] | None = None) -> bytes:
    """The answer the platform takes as received: result 1 with the push's message_id
    (when it can be read), and `extra` beside them."""
    answer: dict[str, Any] = {"result": 1}
    try:
        message_id = json_object(body).get("message_id")
    except PushRejected:
        message_id = None
    if isinstance(message_id, (str, int)) and not isinstance(message_id, bool):
        answer["message_id"] = message_id
    answer.update(extra or {})
    return orjson.dumps(answer)


def _is_live_event(event: Any) -> bool:
    return event in (LIVE_EVENT, TEST_EVENT)


def _user(item: Mapping[str, Any]) -> dict[str, Any]:
    info = require(item, "userInfo")
    if not isinstance(info, dict):
        raise ItemError(f"userInfo: expected a JSON object, got a JSON {json_kind(info)}")
    user: dict[str, Any] = {"id": as_id(require(info, "userId", within="userInfo."), "userInfo.userId")}
    name = info.get("userName")
    if isinstance(name, str) and name:
        user["name"] = name
    return user


def _comment(item: Mapping[str, Any]) -> dict[str, Any]:
    content = require(item, "content")
    if not isinstance(content, str):
        raise ItemError(f"content: expected text, got {item_text(content)}")
    return {"type": "comment", "text": content}


def _like(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "like", "count": as_int(require(item, "count"), "count")}


def _gift(item: Mapping[str, Any]) -> dict[str, Any]:
    count = as_int(require(item, "giftCount"), "giftCount")
    if item.get("giftTotalPrice") is not None:
        kuaibi = as_int(item["giftTotalPrice"], "giftTotalPrice")
    elif item.get("giftUnitPrice") is not None:
        kuaibi = as_int(item["giftUnitPrice"], "giftUnitPrice") * count
    else:
        raise ItemError("missing giftTotalPrice (and no giftUnitPrice)")
    event: dict[str, Any] = {
        "type": "gift",
        "gift": as_id(require(item, "giftId"), "giftId"),
        "count": count,
        "value_cents": kuaibi * FEN_PER_KUAIBI,
    }
    name = item.get("giftName")
    if isinstance(name, str) and name:
        event["gift_name"] = name
    return event


def _follow(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "follow"}


def _share(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "share"}


PUSH_TYPES: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "liveComment": _comment,
    "liveLike": _like,
    "giftSend": _gift,
    "liveFollow": _follow,  # assumed name (see the module docstring)
    "liveShare": _share,  # assumed name
}


def _timestamp(envelope: Mapping[str, Any], now_ms: int | None) -> int:
    stamp = envelope.get("timestamp")
    if stamp is None:
        if now_ms is None:
            raise ItemError("missing timestamp (of the push)")
        return now_ms
    return to_ms(stamp, "timestamp")


def _translate_item(item: Any, index: int, push_type: str, message_id: str, ts_ms: int) -> dict[str, Any]:
    mapper = PUSH_TYPES.get(push_type)
    if mapper is None:
        raise ItemError(f"push_type {push_type!r} is not mapped (known: {', '.join(PUSH_TYPES)})")
    if not isinstance(item, dict):
        raise ItemError("not a JSON object")
    event_id = f"{ID_PREFIX}{message_id}-{index}"
    if push_type == "giftSend" and item.get("uniqueNo") not in (None, ""):
        event_id = f"{ID_PREFIX}gift-{as_id(item['uniqueNo'], 'uniqueNo')}"
    event = {"id": event_id, "ts": ts_ms, "source": PLATFORM, "user": _user(item)}
    event.update(mapper(item))
    return validated(event)


class KuaishouAdapter:
    platform = PLATFORM
    replay_ttl_s = REPLAY_TTL_S

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str, *, now_s: float) -> None:
        _, sent = signature_header(headers, SIGNATURE_HEADER)
        expected = kuaishou_signature(body, secret)
        if not hmac.compare_digest(sent.strip().lower().encode(), expected.encode()):
            raise SignatureRejected("kwaisign does not match")
        # The time stamp is inside the signed body: its age is the platform's own.
        try:
            envelope = json_object(body)
        except PushRejected:
            return  # signed but unreadable: translate refuses it; nothing is counted
        raw = envelope.get("timestamp")
        if raw is None:
            if _is_live_event(envelope.get("event")):
                raise SignatureRejected("missing timestamp: the push's age cannot be checked")
            return
        try:
            stamp = as_int(raw, "timestamp")
        except ItemError:
            raise SignatureRejected(f"timestamp {item_text(raw)} is not a Unix time stamp") from None
        check_age(stamp, now_s=now_s, max_skew_s=MAX_SKEW_S, name="timestamp")

    def translate(self, headers: Mapping[str, str], body: bytes, *, now_ms: int | None = None) -> Translated:
        envelope = json_object(body)
        event_name = envelope.get("event")
        if not _is_live_event(event_name):
            raise PushRejected(f"event {item_text(event_name)} is not live-interaction data ({LIVE_EVENT}): "
                               f"nothing to count")
        data = envelope.get("data")
        if not isinstance(data, dict):
            raise PushRejected("missing data" if data is None else f"data: expected a JSON object, got a JSON "
                                                                   f"{json_kind(data)}")
        push_type = data.get("push_type")
        if not isinstance(push_type, str) or not push_type.strip():
            raise PushRejected("missing data.push_type")
        payload = data.get("payload")
        if not isinstance(payload, list):
            raise PushRejected("missing data.payload" if payload is None
                               else f"data.payload: expected a JSON array, got a JSON {json_kind(payload)}")
        raw_id = data.get("unique_message_id") or envelope.get("message_id")
        try:
            message_id = as_id(raw_id, "data.unique_message_id")
        except ItemError:
            raise PushRejected("missing data.unique_message_id (and message_id)") from None
        author = data.get("author_open_id")
        room = str(author).strip() if isinstance(author, (str, int)) and not isinstance(author, bool) else ""
        test = event_name == TEST_EVENT or message_id.startswith(TEST_ID_PREFIXES)
        if test and room.startswith(STRESS_PREFIX):
            room = room[len(STRESS_PREFIX):]

        events: list[dict[str, Any]] = []
        rejected: list[tuple[str, str]] = []
        skipped: list[tuple[str, str]] = []
        for index, item in enumerate(payload):
            try:
                if test:
                    why = f"event={event_name}" if event_name == TEST_EVENT else f"unique_message_id={message_id}"
                    raise SkipItem(f"{SKIPPED_TEST_MESSAGE} ({why}): not counted")
                ts_ms = _timestamp(envelope, now_ms)
                events.append(_translate_item(item, index, push_type.strip(), message_id, ts_ms))
            except SkipItem as exc:
                skipped.append((item_text(item), f"item {index}: {exc}"))
            except ItemError as exc:
                rejected.append((item_text(item), f"item {index}: {exc}"))
        return Translated(events=events, rejected=rejected, skipped=skipped, external_room=room or None)

    def replay_fingerprint(self, headers: Mapping[str, str]) -> str:
        # As verify compares it (stripped, lower case); it covers the whole body, time stamp included.
        return lower_headers(headers).get(SIGNATURE_HEADER, "").strip().lower()


ADAPTER = register(KuaishouAdapter())
