"""How each chat robot wants a message: its URL, headers and body, signed the way its
platform documents. Pure: a channel, the notices and the moment in; a request out.

- 飞书 (Feishu/Lark) custom bot: ``timestamp + "\\n" + secret`` is the HMAC-SHA256 key
  over an empty message, Base64; ``timestamp`` (seconds) and ``sign`` go in the body.
- 钉钉 (DingTalk) robot: HMAC-SHA256 keyed by the secret over ``timestamp_ms + "\\n" +
  secret``, Base64, URL-encoded; ``timestamp`` and ``sign`` go in the query.
- 企业微信 (WeCom) group robot: the key is in the URL; no signature.
- A generic JSON webhook: ``X-Controlroom-Timestamp`` (seconds) and
  ``X-Controlroom-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + body>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from dataclasses import dataclass
from typing import Any

import orjson

KINDS = ("feishu", "dingtalk", "wecom", "webhook")
KIND_NAMES = {"feishu": ("飞书", "Feishu/Lark"), "dingtalk": ("钉钉", "DingTalk"), "wecom": ("企业微信", "WeCom"),
              "webhook": ("Webhook", "Webhook")}
# Messages a robot takes, as each platform documents it: (most, per seconds), all must hold.
RATE_LIMITS: dict[str, tuple[tuple[int, int], ...]] = {
    "feishu": ((5, 1), (100, 60)),
    "dingtalk": ((20, 60),),
    "wecom": ((20, 60),),
    "webhook": ((60, 60),),
}
SIGNATURE_HEADER = "X-Controlroom-Signature"
TIMESTAMP_HEADER = "X-Controlroom-Timestamp"


@dataclass(frozen=True)
class Request:
    url: str
    headers: dict[str, str]
    body: bytes


def feishu_sign(timestamp_s: int, secret: str) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def webhook_sign(timestamp_s: int, secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp_s}.".encode() + body, hashlib.sha256).hexdigest()


def request_for(kind: str, url: str, secret: str, *, title: str, text: str, notices: list[dict[str, Any]],
                now_ms: int) -> Request:
    """The request that delivers one message (`title`, `text`: already in the reader's
    language; `notices`: the structured notices, for the generic webhook)."""
    json = {"Content-Type": "application/json; charset=utf-8"}
    if kind == "feishu":
        body: dict[str, Any] = {"msg_type": "text", "content": {"text": f"{title}\n{text}"}}
        if secret:
            body |= {"timestamp": str(now_ms // 1000), "sign": feishu_sign(now_ms // 1000, secret)}
        return Request(url, json, orjson.dumps(body))
    if kind == "dingtalk":
        signed = url
        if secret:
            joiner = "&" if "?" in url else "?"
            signed = f"{url}{joiner}timestamp={now_ms}&sign={dingtalk_sign(now_ms, secret)}"
        body = {"msgtype": "markdown", "markdown": {"title": title, "text": f"### {title}\n{text}"}}
        return Request(signed, json, orjson.dumps(body))
    if kind == "wecom":
        body = {"msgtype": "markdown", "markdown": {"content": f"**{title}**\n{text}"}}
        return Request(url, json, orjson.dumps(body))
    if kind == "webhook":
        raw = orjson.dumps({"title": title, "text": text, "notices": notices})
        headers = dict(json)
        if secret:
            headers |= {TIMESTAMP_HEADER: str(now_ms // 1000), SIGNATURE_HEADER: webhook_sign(now_ms // 1000, secret, raw)}
        return Request(url, headers, raw)
    raise ValueError(f"kind: one of {', '.join(KINDS)}, not {kind!r}")


def accepted(kind: str, status: int, body: bytes) -> tuple[bool, str]:
    """Did the platform take the message? (ok, what it said). The robots answer 200 with
    an error code in the body when they refuse (a bad signature, a rate limit)."""
    if not 200 <= status < 300:
        return False, f"HTTP {status}: {body[:200].decode(errors='replace')}"
    if kind == "webhook":
        return True, f"HTTP {status}"
    try:
        answer = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        return False, f"HTTP {status}: not JSON: {body[:200].decode(errors='replace')}"
    code = answer.get("code", answer.get("errcode", answer.get("StatusCode", 0)))
    if code not in (0, None):
        return False, f"code {code}: {answer.get('msg') or answer.get('errmsg') or answer.get('StatusMessage') or ''}"
    return True, f"HTTP {status}"
