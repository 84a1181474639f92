"""The WeChat Channels (视频号) live dashboard poller against a loopback api.weixin.qq.com.

A real HTTP server on 127.0.0.1 stands in for WeChat: /cgi-bin/stable_token hands out
tokens the way the stable token does (the same one until it is invalidated, a new one
on force_refresh), and the live dashboard endpoints answer as documented (entities as
JSON-encoded strings), refusing invalid tokens with 40001. Nothing of the poller is
mocked: it runs as the runner runs it, with a context whose emit collects events."""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter
from typing import Any, Self

import orjson
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from controlroom.clock import SystemClock
from controlroom.connectors import channels
from controlroom.connectors.base import ConnectorContext
from tests.connectors import Collected, until
from controlroom.events import event_adapter

APPID = "wx1234567890abcdef"
APPSECRET = "0123456789abcdef0123456789abcdef"
ACCOUNT = "sphAbCdEf123"
EXPORT = "export/UzFfAgtgekIEAQAAAAAA1_live_now"


def dashboard(online: int, total: int, *, living: bool = True) -> dict[str, Any]:
    """A getlivedata answer as documented: every entity a JSON-encoded string."""
    summary = {"new_watch_uv": total - 5, "max_online_watch_uv": online + 40, "impression_uv": total * 3,
               "average_watch_seconds_per_audience": 61, "new_follow_uv": 12, "new_fans_club_uv": 1,
               "comment_uv": 33, "reward_uv": 0, "sharing_uv": 4, "hot_quota": 900}
    ec = {"total_gmv": 129_900, "online_audience_count": online, "cumulative_audience_count": total,
          "new_follow_count": 13, "new_comment_count": 87, "share_live_audience_count": 5}
    return {
        "errcode": 0, "errmsg": "ok", "trace_id": "t-1",
        "live_dashboard_data": orjson.dumps({"live_dashboard_data": {"summary": summary, "source": {}, "portrait": {}},
                                             "live_duration": 1800, "start_time": 1_763_700_000}).decode(),
        "live_comparison_index": orjson.dumps({"is_living": living, "on_air": {} if living else None}).decode(),
        "live_ec_data_summary": orjson.dumps(ec).decode(),
    }


class WeChat:
    """The stand-in: what it was asked, and what the next getlivedata calls answer."""

    def __init__(self) -> None:
        self.base_url = ""
        self.tokens_issued: list[str] = []
        self.valid: set[str] = set()
        self.force_refreshes = 0
        # When set, the stable token keeps handing out the current token even once it is
        # refused, so only force_refresh gives a new one.
        self.sticky_token = False
        self.calls: Counter[str] = Counter()
        self.data_tokens: list[str] = []
        self.list_days: list[int] = []
        self.exports_asked: list[str] = []
        # Scripted getlivedata answers, one per call: a dict, or "expire" (40001, and the
        # token is no longer valid); when empty, the default answer.
        self.script: list[Any] = []
        self.default = dashboard(100, 1000)
        self.live_items = [{"export_id": "export/older_live", "create_time": 1_763_600_000},
                           {"export_id": EXPORT, "create_time": 1_763_700_000}]

    async def token(self, request: Request) -> JSONResponse:
        self.calls["token"] += 1
        body = await request.json()
        if body.get("grant_type") != "client_credential" or body.get("appid") != APPID or body.get("secret") != APPSECRET:
            return JSONResponse({"errcode": 40125, "errmsg": "invalid appsecret"})
        current = self.tokens_issued[-1] if self.tokens_issued else None
        if body.get("force_refresh"):
            self.force_refreshes += 1
        elif current is not None and (current in self.valid or self.sticky_token):
            return JSONResponse({"access_token": current, "expires_in": 7200})
        token = f"tok-{len(self.tokens_issued) + 1}"
        self.tokens_issued.append(token)
        self.valid = {token}
        return JSONResponse({"access_token": token, "expires_in": 7200})

    def _token_error(self, request: Request) -> JSONResponse | None:
        token = request.query_params.get("access_token")
        if token not in self.valid:
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"})
        return None

    async def live_list(self, request: Request) -> JSONResponse:
        self.calls["list"] += 1
        if refused := self._token_error(request):
            return refused
        self.list_days.append((await request.json())["ds"])
        return JSONResponse({"errcode": 0, "errmsg": "ok", "live_items": self.live_items, "has_more": False})

    async def live_data(self, request: Request) -> JSONResponse:
        self.calls["data"] += 1
        self.data_tokens.append(request.query_params.get("access_token", ""))
        if refused := self._token_error(request):
            return refused
        self.exports_asked.append((await request.json())["export_id"])
        answer = self.script.pop(0) if self.script else self.default
        if answer == "expire":
            self.valid.clear()
            return JSONResponse({"errcode": 42001, "errmsg": "access_token expired"})
        return JSONResponse(answer)


@pytest.fixture
async def wechat(monkeypatch: pytest.MonkeyPatch):
    stand_in = WeChat()
    app = Starlette(routes=[
        Route("/cgi-bin/stable_token", stand_in.token, methods=["POST"]),
        Route("/channels/livedashboard/getlivelist", stand_in.live_list, methods=["POST"]),
        Route("/channels/livedashboard/getlivedata", stand_in.live_data, methods=["POST"]),
    ])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    stand_in.base_url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("CONTROLROOM_WECHAT_API", stand_in.base_url)
    monkeypatch.setattr(channels, "POLL_S", 0.05)  # polls at test speed
    yield stand_in
    server.should_exit = True
    await asyncio.wait_for(serving, 10)
    sock.close()




def context(collected: Collected, *, external_id: str = ACCOUNT, secret: str = f"{APPID}:{APPSECRET}",
            room: str = "room-wxch") -> ConnectorContext:
    return ConnectorContext(room=room, external_id=external_id, secret=secret, clock=SystemClock(),
                            emit=collected.emit, report=collected.report)



class Running:
    """channels.run as the runner runs it, stopped (and awaited) on exit."""

    def __init__(self, ctx: ConnectorContext) -> None:
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(channels.run(ctx, self.stop))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 5)


async def test_each_poll_emits_a_viewers_event_of_the_newest_live(wechat: WeChat):
    wechat.script = [dashboard(120, 900), dashboard(130, 950)]
    collected = Collected()
    async with Running(context(collected)):
        await until(lambda: len(collected.events) >= 2, "two viewers events")
    first, second = collected.events[:2]
    for event in collected.events:
        event_adapter.validate_python(event)
        assert (event["type"], event["source"]) == ("viewers", "channels")
        assert event["id"].startswith("wxch-room-wxch-")
    assert (first["online"], first["total"]) == (120, 900)
    assert (second["online"], second["total"]) == (130, 950)
    assert first["dashboard"] == {"peak_online": 160, "new_followers": 13, "comments": 87, "commenters": 33,
                                  "sharers": 5}
    assert first["id"] != second["id"] and second["ts"] >= first["ts"]
    # The newest live of the day (China time) is the one followed; the token is fetched once.
    assert set(wechat.exports_asked) == {EXPORT}
    assert wechat.list_days[0] == int(time.strftime("%Y%m%d", time.gmtime(time.time() + 8 * 3600)))
    assert wechat.calls["token"] == 1
    assert ("ok", "120 online, 900 viewers so far") in collected.reports


async def test_a_rejected_token_is_renewed_and_the_call_retried(wechat: WeChat):
    wechat.script = [dashboard(120, 900), "expire", dashboard(130, 950)]
    collected = Collected()
    async with Running(context(collected, external_id=EXPORT)):
        await until(lambda: len(collected.events) >= 2, "a viewers event after the token expired")
    assert [e["online"] for e in collected.events[:2]] == [120, 130]
    assert wechat.tokens_issued[:2] == ["tok-1", "tok-2"]
    # The refused call with tok-1, then the same call again with tok-2, in one poll.
    assert wechat.data_tokens[:3] == ["tok-1", "tok-1", "tok-2"]
    assert not any(state == "failing" for state, _ in collected.reports)
    assert wechat.calls["list"] == 0  # an export id binding follows that live: no list needed


async def test_a_token_the_platform_keeps_handing_out_is_force_refreshed(wechat: WeChat):
    wechat.sticky_token = True
    wechat.script = [dashboard(120, 900), "expire", dashboard(130, 950)]
    collected = Collected()
    async with Running(context(collected, external_id=EXPORT)):
        await until(lambda: len(collected.events) >= 2, "a viewers event after a forced refresh")
    assert wechat.force_refreshes == 1
    assert wechat.data_tokens[:3] == ["tok-1", "tok-1", "tok-2"]


async def test_an_error_answer_is_reported_failing_and_the_next_poll_succeeds(wechat: WeChat):
    wechat.script = [{"errcode": 45009, "errmsg": "reach max api daily quota limit"}, dashboard(140, 1200)]
    collected = Collected()
    async with Running(context(collected)):
        await until(lambda: len(collected.events) >= 1, "a viewers event after the error")
    failing = [detail for state, detail in collected.reports if state == "failing"]
    assert failing[0] == ("WeChat answered /channels/livedashboard/getlivedata with error 45009: "
                          "reach max api daily quota limit")
    assert collected.events[0]["online"] == 140
    states = [state for state, _ in collected.reports]
    assert states.index("failing") < len(states) - 1 - states[::-1].index("ok")  # ok again after failing


async def test_an_unreachable_api_is_reported_and_polled_again(wechat: WeChat, monkeypatch: pytest.MonkeyPatch):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"
    monkeypatch.setenv("CONTROLROOM_WECHAT_API", nowhere)
    collected = Collected()
    async with Running(context(collected)):
        await until(lambda: sum(state == "failing" for state, _ in collected.reports) >= 2, "two failing polls")
        assert collected.reports[0][1].startswith(f"could not reach WeChat at {nowhere}")
        # The base URL is read at each call: once WeChat answers again, so does the poller.
        monkeypatch.setenv("CONTROLROOM_WECHAT_API", wechat.base_url)
        await until(lambda: len(collected.events) >= 1, "a viewers event once WeChat answers")


async def test_an_ended_live_or_no_live_emits_nothing(wechat: WeChat):
    wechat.default = dashboard(0, 3000, living=False)
    collected = Collected()
    async with Running(context(collected)):
        await until(lambda: ("ok", "the live has ended; waiting for the next one") in collected.reports, "ended report")
    wechat.live_items = []
    collected_none = Collected()
    async with Running(context(collected_none)):
        await until(lambda: ("ok", f"no e-commerce live of {ACCOUNT} today") in collected_none.reports, "no-live report")
    assert collected.events == [] and collected_none.events == []
    assert len(wechat.list_days) >= 3 and wechat.list_days[-1] < wechat.list_days[-2]  # yesterday asked too


async def test_a_dashboard_without_an_online_count_is_reported_failing(wechat: WeChat):
    answer = dashboard(1, 2)
    answer["live_ec_data_summary"] = orjson.dumps({"total_gmv": 0}).decode()
    wechat.default = answer
    collected = Collected()
    async with Running(context(collected)):
        await until(lambda: ("failing", "the live dashboard gives no online viewer count") in collected.reports,
                    "a failing report")
    assert collected.events == []


async def test_a_secret_that_is_not_appid_colon_appsecret_is_reported_and_waits(wechat: WeChat):
    collected = Collected()
    async with Running(context(collected, secret="no-colon-here")):
        await until(lambda: collected.reports != [], "a report")
    expected = ("the 视频号 binding's secret is not appid:appsecret: expected appid:appsecret "
                "(the 视频号助手 app's AppID and AppSecret), found no colon")
    assert collected.reports == [("failing", expected)]
    assert wechat.calls["token"] == 0


def test_parse_secret_splits_appid_and_appsecret():
    assert channels.parse_secret(f" {APPID}:{APPSECRET} ") == (APPID, APPSECRET)
    for bad, message in [("nocolon", "found no colon"), (":secret", "appid before the colon is empty"),
                         ("wx1:", "appsecret after the colon is empty"), ("wx1:a:b", "more than one colon")]:
        with pytest.raises(ValueError, match=message):
            channels.parse_secret(bad)
