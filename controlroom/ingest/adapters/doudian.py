"""Douyin shop (抖店) order message push → canonical order events (pure).

The platform POSTs a JSON array of {tag, msg_id, data}, where `data` is a JSON object
encoded as a string, with the headers app-id (the app_key) and

    event-sign = lowercase hex md5(app_key + raw body + app_secret)

and expects exactly `{"code":0,"msg":"success"}` back (`reply()`). The push carries no
time stamp, so no replay window can be checked: the signature is all there is, and a
replayed push is dropped downstream as duplicate ids (msg_id) / order statuses already
counted.

The secret of a Doudian binding is stored as "<app_key>:<app_secret>" (split on the
first colon; app keys contain no colon).

Mapping decisions:
- Canonical ids are `dd-<msg_id>`; a repeated push keeps its msg_id.
- Tags: 100 → created, 101 → paid, 106 → cancelled, 206 / 207 → refunded (the
  platform documents 206 as "refund succeeded"; some SDKs use 207 for it, others 207
  for "after-sale closed", so a 206/207 item whose data says the after-sale was closed
  — close_time without success_time, or aftersale_status 28 — is not counted as a
  refund). 200 (refund requested) is not a refund yet: it is reported as skipped and
  the refund is counted when 206/207 arrives. Other tags are not order events.
- order_id is the parent order id p_id, so created → paid → cancelled of one order are
  counted once each. A refund is per sub-order in Doudian (each after-sale names one
  s_id, with its own refund_amount): a refund's order_id is "<p_id>/<s_id>" when s_id
  is present, so two sub-order refunds of one order are both counted.
- The push carries no buyer id: the user is "dd-order-<p_id>", i.e. every order counts
  as its own buyer (unique payer / orderer counts are orders, not people).
- Amounts are fen: paid → pay_amount (required); refunded → refund_amount, else
  pay_amount (one of them required); created / cancelled carry no amount in the push
  → pay_amount when present, else 0 (these statuses add no money downstream).
- No product id in the push: no sku.
- Times: created → create_time, paid → pay_time, cancelled → cancel_time / update_time,
  refunded → success_time / update_time; seconds or milliseconds. When missing, the
  caller's `now_ms` (the time the push arrived) is used; without it the item is rejected.
- Replays: the push carries no time stamp, so its age cannot be checked; a verified
  push is remembered by its event-sign (lower-cased, as compared; it covers the whole
  body) for REPLAY_TTL_S, and a byte-identical replay within that time is refused.
  Later ones still meet msg_id deduplication and the order ledger (each status of an
  order is counted once).
- Cash-on-delivery orders (pay_type 0) send 101 when the shop confirms them, not on
  payment; they are counted as paid like the others (pay_type is kept on the event).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import orjson

from controlroom.ingest.adapters.base import (
    ItemError,
    PushRejected,
    SignatureRejected,
    Translated,
    as_id,
    as_int,
    item_text,
    json_array,
    json_kind,
    lower_headers,
    register,
    require,
    signature_header,
    to_ms,
    validated,
)

PLATFORM = "doudian"
ID_PREFIX = "dd-"
USER_PREFIX = "dd-order-"

STATUS_BY_TAG = {100: "created", 101: "paid", 106: "cancelled", 206: "refunded", 207: "refunded"}
TIME_FIELDS = {
    "created": ("create_time",),
    "paid": ("pay_time",),
    "cancelled": ("cancel_time", "update_time"),
    "refunded": ("success_time", "update_time"),
}
AFTERSALE_CLOSED = 28

_REPLY = b'{"code":0,"msg":"success"}'

# How long a verified push is remembered against byte-identical replays. The push has
# no time stamp to bound the window, so this is a choice: a day, well past the
# platform's own retries of a push it got no success for.
REPLAY_TTL_S = 24 * 3600


def reply() -> bytes:
    """The exact answer the platform expects to a push it should not resend."""
    return _REPLY


def doudian_signature(body: bytes, app_key: str, app_secret: str) -> str:
    """The event-sign header of a push: lowercase hex md5(app_key + raw body + app_secret)."""
    return hashlib.md5(app_key.encode() + body + app_secret.encode()).hexdigest()


def split_secret(secret: str) -> tuple[str, str]:
    app_key, sep, app_secret = secret.partition(":")
    if not sep or not app_key or not app_secret:
        raise SignatureRejected("the doudian binding's secret is not configured as '<app_key>:<app_secret>'")
    return app_key, app_secret


def _data(item: Mapping[str, Any]) -> dict[str, Any]:
    raw = require(item, "data")
    if isinstance(raw, dict):  # lenient: an object instead of its encoding
        return raw
    if not isinstance(raw, str):
        raise ItemError(f"data: expected a JSON-encoded string, got a JSON {json_kind(raw)}")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ItemError(f"data: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ItemError(f"data: expected a JSON object, got a JSON {json_kind(data)}")
    return data


def _tag(item: Mapping[str, Any]) -> int:
    return as_int(require(item, "tag"), "tag")


def _time(data: Mapping[str, Any], status: str, now_ms: int | None) -> int:
    names = TIME_FIELDS[status]
    for name in names:
        value = data.get(name)
        if value not in (None, 0, "", "0"):
            return to_ms(value, f"data.{name}")
    if now_ms is None:
        raise ItemError(f"missing data.{names[0]}")
    return now_ms


def _translate_item(item: Any, data: dict[str, Any], tag: int, now_ms: int | None) -> dict[str, Any]:
    status = STATUS_BY_TAG.get(tag)
    if tag == 200:
        raise ItemError("tag 200 (refund requested): counted when the refund succeeds")
    if status is None:
        raise ItemError(f"tag {tag}: not an order event")
    msg_id = as_id(require(item, "msg_id"), "msg_id")
    p_id = as_id(require(data, "p_id", within="data."), "data.p_id")
    order_id = p_id
    if status == "refunded":
        closed = data.get("close_time") and not data.get("success_time")
        if closed or str(data.get("aftersale_status")) == str(AFTERSALE_CLOSED):
            raise ItemError(f"tag {tag}: the after-sale was closed without a refund, not counted")
        if data.get("s_id") is not None:
            order_id = f"{p_id}/{as_id(data['s_id'], 'data.s_id')}"
        if data.get("refund_amount") is not None:
            amount = as_int(data["refund_amount"], "data.refund_amount")
        elif data.get("pay_amount") is not None:
            amount = as_int(data["pay_amount"], "data.pay_amount")
        else:
            raise ItemError("missing data.refund_amount (and no data.pay_amount)")
    elif status == "paid":
        amount = as_int(require(data, "pay_amount", within="data."), "data.pay_amount")
    else:
        amount = as_int(data["pay_amount"], "data.pay_amount") if data.get("pay_amount") is not None else 0
    event: dict[str, Any] = {
        "id": ID_PREFIX + msg_id,
        "type": "order",
        "ts": _time(data, status, now_ms),
        "source": PLATFORM,
        "user": {"id": USER_PREFIX + p_id},
        "order_id": order_id,
        "status": status,
        "amount_cents": amount,
    }
    if status == "paid" and data.get("pay_type") is not None:
        event["pay_type"] = data["pay_type"]
    return validated(event)


class DoudianAdapter:
    platform = PLATFORM
    replay_ttl_s = REPLAY_TTL_S

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str, *, now_s: float) -> None:
        # now_s is unused: the push carries no time stamp, so its age cannot be checked.
        present, sent = signature_header(headers, "event-sign")
        app_key, app_secret = split_secret(secret)
        app_id = present.get("app-id", "").strip()
        if app_id and app_id != app_key:
            raise SignatureRejected(f"app-id {app_id} is not the app_key configured for this binding")
        expected = doudian_signature(body, app_key, app_secret)
        if not hmac.compare_digest(sent.strip().lower().encode(), expected.encode()):
            raise SignatureRejected("event-sign does not match")

    def translate(self, headers: Mapping[str, str], body: bytes, *, now_ms: int | None = None) -> Translated:
        items = json_array(body)
        events: list[dict[str, Any]] = []
        rejected: list[tuple[str, str]] = []
        shop: str | None = None
        for index, item in enumerate(items):
            try:
                if not isinstance(item, dict):
                    raise ItemError("not a JSON object")
                tag = _tag(item)
                data = _data(item)
                if data.get("shop_id") is not None:
                    item_shop = as_id(data["shop_id"], "data.shop_id")
                    if shop is None:
                        shop = item_shop
                    elif item_shop != shop:
                        raise PushRejected(
                            f"item {index}: data.shop_id {item_shop} differs from {shop} of an earlier "
                            f"item: one push is for one shop"
                        )
                events.append(_translate_item(item, data, tag, now_ms))
            except ItemError as exc:
                rejected.append((item_text(item), f"item {index}: {exc}"))
        return Translated(events=events, rejected=rejected, external_room=shop)

    def replay_fingerprint(self, headers: Mapping[str, str]) -> str:
        # As verify compares it (stripped, lower case): the signature covers the whole
        # body; app-id is not signed (and may be left out), so it is not part of it.
        return lower_headers(headers).get("event-sign", "").strip().lower()


ADAPTER = register(DoudianAdapter())
