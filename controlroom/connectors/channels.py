"""WeChat Channels (视频号) live dashboard poller: online viewers every POLL_S seconds.

The binding names the 视频号 by its id (`external_id`: the finder username, "sph…", as
视频号助手 shows it — or one broadcast's export id, "export/…", to follow that one live)
and carries the 视频号助手 account's API credentials as its secret, "appid:appsecret"
(视频号助手 → 开放能力; the live-dashboard scene must be switched on there).

Documented API used (https://developers.weixin.qq.com/doc/channels/api/channels/):

- Access token: POST /cgi-bin/stable_token {"grant_type": "client_credential", "appid",
  "secret", "force_refresh"} → {access_token, expires_in}
  (doc/channels/api/basic/api_getstableaccesstoken). Chosen over GET /cgi-bin/token
  because a new /cgi-bin/token call invalidates the token other systems of the same app
  hold; the stable token is shared. Cached until expires_in (less TOKEN_MARGIN_S); on
  errcode 40001 / 42001 (invalid / expired token) it is fetched again and the call
  retried once — with force_refresh when the platform still hands out the rejected token
  (the documented limit: 20 forced refreshes a day, 30 s apart).
- Lives of the day: POST /channels/livedashboard/getlivelist {"ds": YYYYMMDD} →
  live_items[] {export_id, create_time} (doc/channels/API/livedashboard/getlivelist.html;
  "只返回电商直播间的直播列表": e-commerce lives only). The newest live of today (China
  time), else of yesterday (a show past midnight), is followed.
- Live data: POST /channels/livedashboard/getlivedata {"export_id"} → JSON-encoded
  entities (doc/channels/API/livedashboard/getlivedata.html): live_dashboard_data
  (LiveDashboardData2Summary: new_watch_uv 观看人数, max_online_watch_uv, new_follow_uv,
  comment_uv, sharing_uv …), live_comparison_index ({"is_living": …, "on_air"/"ended"}),
  live_ec_data_summary (LiveEcDataSummary: online_audience_count 在线观众数,
  cumulative_audience_count 累计观众数, new_follow_count, new_comment_count,
  share_live_audience_count …).

ASSUMPTION: the only online-viewer figure in the documented API is
live_ec_data_summary.online_audience_count of the live dashboard (its field list taken
from the doc's LiveEcDataSummary entity as WxJava models it,
me/chanjar/weixin/channel/bean/live/dashboard/LiveEcDataSummary.java); there is no
documented online count for a 视频号 live that is not an e-commerce live. A dashboard
without it is reported as failing, nothing is emitted. No like count is documented.

Each poll emits one canonical `viewers` event: online = online_audience_count, total =
cumulative_audience_count (else new_watch_uv), id "wxch-<room>-<poll slot>" (the slot
is the poll time in POLL_S steps: the minute at POLL_S = 60, so a connection started
again within the minute does not count it twice), source "channels", ts the poll time;
the comparison numbers ride along in `dashboard` (peak_online, new_followers, comments,
commenters, sharers — those the dashboard gives). A live that has ended emits nothing.

Errors (errcode ≠ 0, an unreachable or garbled API) are reported as failing with the
platform's errmsg and tried again at the next poll: the poller never stops on its own.
The API's base URL is https://api.weixin.qq.com unless CONTROLROOM_WECHAT_API is set
(read at each call: tests point it at a loopback stand-in).
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import orjson
import structlog

from controlroom.connectors.base import ConnectorContext, wait_or_stop
from controlroom.i18n import N_
from controlroom.ingest.adapters.base import ItemError, as_int, validated

log = structlog.get_logger(__name__)

KIND = "channels"

DEFAULT_API = "https://api.weixin.qq.com"
API_ENV = "CONTROLROOM_WECHAT_API"
TOKEN_PATH = "/cgi-bin/stable_token"
LIVE_LIST_PATH = "/channels/livedashboard/getlivelist"
LIVE_DATA_PATH = "/channels/livedashboard/getlivedata"

# Module constants so a test can shorten them (read at each use).
POLL_S = 60.0
HTTP_TIMEOUT_S = 10.0
# A token is renewed this long before its expires_in runs out (at most half its life).
TOKEN_MARGIN_S = 60
TOKEN_ERRORS = frozenset({40001, 42001})  # access_token invalid / expired
EXPORT_PREFIX = "export/"
CHINA = timezone(timedelta(hours=8))  # the ds of getlivelist is a China date (no DST)

SECRET_FORMAT = "appid:appsecret"

# Health, as the tech screen shows it.
BAD_SECRET = N_("the 视频号 binding's secret is not appid:appsecret: %(error)s")
API_ERROR = N_("WeChat answered %(path)s with error %(errcode)s: %(errmsg)s")
UNREACHABLE = N_("could not reach WeChat at %(url)s: %(error)s")
NO_LIVE = N_("no e-commerce live of %(account)s today")
LIVE_ENDED = N_("the live has ended; waiting for the next one")
NO_ONLINE = N_("the live dashboard gives no online viewer count")
BAD_NUMBERS = N_("the live dashboard's numbers cannot be used: %(error)s")
POLLED = N_("%(online)s online, %(total)s viewers so far")


def parse_secret(secret: str) -> tuple[str, str]:
    """(appid, appsecret) from the binding's "appid:appsecret"; ValueError saying what is wrong."""
    appid, sep, appsecret = (secret or "").strip().partition(":")
    appid, appsecret = appid.strip(), appsecret.strip()
    if not sep:
        raise ValueError(f"expected {SECRET_FORMAT} (the 视频号助手 app's AppID and AppSecret), found no colon")
    if not appid:
        raise ValueError(f"the appid before the colon is empty (expected {SECRET_FORMAT})")
    if not appsecret:
        raise ValueError(f"the appsecret after the colon is empty (expected {SECRET_FORMAT})")
    if ":" in appsecret:
        raise ValueError(f"more than one colon (expected {SECRET_FORMAT}; neither part has one)")
    return appid, appsecret


class WeChatError(Exception):
    """The API refused a call (errcode ≠ 0) or could not be read."""

    def __init__(self, path: str, errcode: int, errmsg: str) -> None:
        super().__init__(f"{path}: {errcode} {errmsg}")
        self.path, self.errcode, self.errmsg = path, errcode, errmsg


def api_base() -> str:
    return (os.environ.get(API_ENV) or DEFAULT_API).strip().rstrip("/")


def _count(value: Any) -> int | None:
    """A count the API gives as a number or a string of digits; None when absent."""
    try:
        return as_int(value, "count")
    except ItemError:
        return None


def _errcode(data: dict[str, Any]) -> int:
    return _count(data.get("errcode")) or 0


def _entity(data: dict[str, Any], name: str) -> dict[str, Any]:
    """One of getlivedata's entities: documented as a JSON-encoded string, taken as an
    object too; {} when absent or unreadable."""
    value = data.get(name)
    if isinstance(value, str) and value.strip():
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return {}
    return value if isinstance(value, dict) else {}


class WeChatApi:
    """The calls the poller makes, with the access token cached and renewed."""

    def __init__(self, client: httpx.AsyncClient, appid: str, appsecret: str, ctx: ConnectorContext) -> None:
        self.client = client
        self.appid = appid
        self.appsecret = appsecret
        self.ctx = ctx
        self._token: str | None = None
        self._expires_ms = 0

    async def _post(self, path: str, payload: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        url = api_base() + path
        params = {"access_token": token} if token is not None else None
        response = await self.client.post(url, params=params, json=payload)
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            raise WeChatError(path, -1, f"HTTP {response.status_code}, not a JSON object: "
                                        f"{response.text[:200]!r}")
        return data

    async def _fetch_token(self, *, force: bool = False) -> str:
        data = await self._post(TOKEN_PATH, {"grant_type": "client_credential", "appid": self.appid,
                                             "secret": self.appsecret, "force_refresh": force})
        if _errcode(data):
            raise WeChatError(TOKEN_PATH, _errcode(data), str(data.get("errmsg", "")))
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeChatError(TOKEN_PATH, -1, "no access_token in the answer")
        lifetime_s = _count(data.get("expires_in")) or 7200
        self._token = token
        self._expires_ms = self.ctx.clock.now_ms() + (lifetime_s - min(TOKEN_MARGIN_S, lifetime_s // 2)) * 1000
        return token

    async def _valid_token(self) -> str:
        if self._token is None or self.ctx.clock.now_ms() >= self._expires_ms:
            return await self._fetch_token()
        return self._token

    async def call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        token = await self._valid_token()
        data = await self._post(path, payload, token)
        if _errcode(data) in TOKEN_ERRORS:
            log.info("channels.token_rejected", room=self.ctx.room, errcode=_errcode(data))
            self._token = None
            fresh = await self._fetch_token()
            if fresh == token:  # the stable token is handed out until it expires: force a new one
                fresh = await self._fetch_token(force=True)
            data = await self._post(path, payload, fresh)
        if _errcode(data):
            raise WeChatError(path, _errcode(data), str(data.get("errmsg", "")))
        return data


def _china_day(now_ms: int, days_back: int = 0) -> int:
    day = datetime.fromtimestamp(now_ms / 1000, CHINA) - timedelta(days=days_back)
    return int(day.strftime("%Y%m%d"))


async def _current_export_id(api: WeChatApi, ctx: ConnectorContext) -> str | None:
    """The live to follow: the binding's own export id, else the newest live of today
    (or of yesterday, for a show past midnight)."""
    if ctx.external_id.startswith(EXPORT_PREFIX):
        return ctx.external_id
    for days_back in (0, 1):
        data = await api.call(LIVE_LIST_PATH, {"ds": _china_day(ctx.clock.now_ms(), days_back)})
        items = [item for item in data.get("live_items") or [] if isinstance(item, dict) and item.get("export_id")]
        if items:
            newest = max(items, key=lambda item: _count(item.get("create_time")) or 0)
            return str(newest["export_id"])
    return None


def _viewers_event(ctx: ConnectorContext, data: dict[str, Any], now_ms: int) -> dict[str, Any] | None:
    """The canonical viewers event of one getlivedata answer; None without an online count.
    ItemError when the numbers are out of the contract's range."""
    ec = _entity(data, "live_ec_data_summary")
    board = _entity(data, "live_dashboard_data")
    inner = board.get("live_dashboard_data") if isinstance(board.get("live_dashboard_data"), dict) else board
    summary = inner.get("summary") if isinstance(inner.get("summary"), dict) else {}
    online = _count(ec.get("online_audience_count"))
    if online is None:
        return None
    total = _count(ec.get("cumulative_audience_count"))
    if total is None:
        total = _count(summary.get("new_watch_uv"))

    def first(*values: Any) -> int | None:
        return next((n for n in map(_count, values) if n is not None), None)

    dashboard = {
        "peak_online": first(summary.get("max_online_watch_uv")),
        "new_followers": first(ec.get("new_follow_count"), summary.get("new_follow_uv")),
        "comments": first(ec.get("new_comment_count")),
        "commenters": first(summary.get("comment_uv")),
        "sharers": first(ec.get("share_live_audience_count"), summary.get("sharing_uv")),
    }
    slot_ms = max(1, int(POLL_S * 1000))
    event: dict[str, Any] = {
        "id": f"wxch-{ctx.room}-{now_ms // slot_ms}",
        "type": "viewers",
        "ts": now_ms,
        "source": KIND,
        "online": online,
        "dashboard": {name: value for name, value in dashboard.items() if value is not None},
    }
    if total is not None:
        event["total"] = total
    return validated(event)


async def poll_once(api: WeChatApi, ctx: ConnectorContext) -> None:
    """One poll: the current live's dashboard → one viewers event (or a report why not).
    Raises WeChatError / httpx.HTTPError for the caller to report."""
    export_id = await _current_export_id(api, ctx)
    if export_id is None:
        ctx.report("ok", NO_LIVE, account=ctx.external_id)
        return
    data = await api.call(LIVE_DATA_PATH, {"export_id": export_id})
    if _entity(data, "live_comparison_index").get("is_living") is False:
        ctx.report("ok", LIVE_ENDED)
        return
    now_ms = ctx.clock.now_ms()
    try:
        event = _viewers_event(ctx, data, now_ms)
    except ItemError as exc:
        ctx.report("failing", BAD_NUMBERS, error=str(exc))
        return
    if event is None:
        ctx.report("failing", NO_ONLINE)
        return
    await ctx.emit([event])
    ctx.report("ok", POLLED, online=event["online"], total=event.get("total", "?"))


async def run(ctx: ConnectorContext, stop: asyncio.Event) -> None:
    try:
        appid, appsecret = parse_secret(ctx.secret)
    except ValueError as exc:
        # Nothing to retry until the binding changes (which starts the connection anew).
        ctx.report("failing", BAD_SECRET, error=str(exc))
        await stop.wait()
        return
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as client:
        api = WeChatApi(client, appid, appsecret, ctx)
        while not stop.is_set():
            started = loop.time()
            try:
                await poll_once(api, ctx)
            except WeChatError as exc:
                log.warning("channels.api_error", room=ctx.room, path=exc.path, errcode=exc.errcode, errmsg=exc.errmsg)
                ctx.report("failing", API_ERROR, path=exc.path, errcode=exc.errcode, errmsg=exc.errmsg)
            except httpx.HTTPError as exc:
                log.warning("channels.unreachable", room=ctx.room, error=str(exc))
                ctx.report("failing", UNREACHABLE, url=api_base(), error=str(exc) or type(exc).__name__)
            if await wait_or_stop(stop, POLL_S - (loop.time() - started)):
                break
