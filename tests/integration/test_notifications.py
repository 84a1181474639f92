"""Alerts reach the team's chats: real HTTP receivers on loopback stand in for the 飞书,
钉钉, 企业微信 robots and a webhook; each checks the signature exactly as its platform
documents it (recomputed here, not with controlroom's code). A receiver's 5xx is retried;
an escalated alert arrives with a link that opens it (after sign-in) to acknowledge it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support import LiveServer, create_room, csrf_of, free_port, server_env, wait_until

SECRETS = {"feishu": "feishu-secret-1", "dingtalk": "SECdingtalk-2", "webhook": "hook-secret-3"}
OK = {"feishu": {"code": 0, "msg": "success"}, "dingtalk": {"errcode": 0, "errmsg": "ok"},
      "wecom": {"errcode": 0, "errmsg": "ok"}, "webhook": {"ok": True}}


class Receiver:
    """A chat robot's endpoint: records every request; answers with the statuses queued
    (then 200 and the platform's success body)."""

    def __init__(self, kind: str, statuses: tuple[int, ...] = ()) -> None:
        self.kind = kind
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                url = urllib.parse.urlsplit(self.path)
                receiver.requests.append({"at": time.monotonic(), "path": url.path,
                                          "query": dict(urllib.parse.parse_qsl(url.query)),
                                          "headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                answer = json.dumps(OK[receiver.kind] if status == 200 else {"error": "busy"}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/{self.kind}"

    def texts(self) -> list[str]:
        found = []
        for request in self.requests:
            body = json.loads(request["body"])
            found.append(body.get("content", {}).get("text") or body.get("markdown", {}).get("text")
                         or body.get("markdown", {}).get("content") or body.get("text") or "")
        return found

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receivers():
    made = {"feishu": Receiver("feishu"), "dingtalk": Receiver("dingtalk", statuses=(503,)),
            "wecom": Receiver("wecom"), "webhook": Receiver("webhook")}
    yield made
    for receiver in made.values():
        receiver.close()


def test_an_alert_reaches_every_robot_signed_as_documented_retried_and_acknowledged_from_its_link(
    database_url, own_redis_url, tmp_path, receivers
):
    env = server_env(redis_url=own_redis_url, database_url=database_url, data_dir=tmp_path,
                     CONTROLROOM_RED_ESCALATION_S="3")
    live = LiveServer(env, tmp_path / "server.log").start()
    try:
        room = create_room(database_url, own_redis_url, name="通知测试间")
        admin = live.admin
        for kind, receiver in receivers.items():
            url = receiver.url + ("?access_token=tok" if kind == "dingtalk" else "?key=k1" if kind == "wecom" else "")
            added = admin.post("/notifications", data={
                "room": room, "kind": kind, "name": f"{kind} 群", "url": url, "secret": SECRETS.get(kind, ""),
                "levels": ["red"], "events": ["fired", "escalated", "resolved", "playbook_started"],
                "csrftoken": csrf_of(admin)},
                follow_redirects=False)
            assert added.status_code == 303, added.text[:300]
        page = admin.get("/notifications?lang=zh_CN").text
        # Never shown again in full: neither the secrets nor the robots' addresses.
        assert not any(secret in page for secret in SECRETS.values()) and "••••" in page
        assert "access_token=tok" not in page and "key=k1" not in page
        refused = admin.post("/notifications", data={"room": room, "kind": "feishu", "name": "x", "url": "ftp://x",
                                                      "levels": ["red"], "events": ["fired"],
                                                      "csrftoken": csrf_of(admin)})
        assert refused.status_code == 422 and "https://" in refused.text

        now = int(time.time() * 1000)
        live.post_events(room, [{"id": f"cut-{now}", "type": "stream", "ts": now, "status": "interrupted"}])
        for kind, receiver in receivers.items():
            wait_until(lambda r=receiver: any("断流/黑屏" in text for text in r.texts()), what=f"a message to {kind}")

        feishu = receivers["feishu"].requests[0]
        body = json.loads(feishu["body"])
        key = f"{body['timestamp']}\n{SECRETS['feishu']}".encode()
        assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        assert abs(int(body["timestamp"]) - time.time()) < 60 and body["msg_type"] == "text"

        ding = receivers["dingtalk"].requests
        wait_until(lambda: len(ding) >= 2, what="the retry after 503")
        assert ding[1]["at"] - ding[0]["at"] >= 0.9 and ding[1]["body"] == ding[0]["body"]  # backoff, same message
        for request in ding:
            query = request["query"]
            digest = hmac.new(SECRETS["dingtalk"].encode(), f"{query['timestamp']}\n{SECRETS['dingtalk']}".encode(),
                              hashlib.sha256).digest()
            assert query["sign"] == base64.b64encode(digest).decode() and query["access_token"] == "tok"

        assert receivers["wecom"].requests[0]["query"] == {"key": "k1"}
        hook = receivers["webhook"].requests[0]
        stamp = hook["headers"]["X-Controlroom-Timestamp"]
        expected = hmac.new(SECRETS["webhook"].encode(), f"{stamp}.".encode() + hook["body"], hashlib.sha256)
        assert hook["headers"]["X-Controlroom-Signature"] == "sha256=" + expected.hexdigest()
        notice = json.loads(hook["body"])["notices"][0]
        assert (notice["room"], notice["rule"], notice["level"], notice["playbook"]) == (
            room, "stream-interrupted", "red", "stream-interruption")

        # Nobody acknowledged it: escalated, and the message says how to acknowledge.
        text = wait_until(lambda: next((t for t in receivers["feishu"].texts() if "已升级" in t), None),
                        what="the escalation")
        assert "通知测试间" in text and "红" in text and "建议预案：stream-interruption" in text
        link = re.search(r"确认：(\S+)", text).group(1)
        assert link.startswith(live.url)
        path = link[len(live.url):]
        opened = admin.get(path + "&lang=zh_CN")
        assert opened.status_code == 200 and "断流/黑屏" in opened.text and 'class="ack big"' in opened.text
        assert admin.get(path[:-3] + "xyz").status_code == 404  # a link not signed for this alert
        alert_id = int(re.search(r"/alerts/(\d+)", path).group(1))
        acked = admin.post(f"/rooms/{room}/alerts/{alert_id}/ack", data={"csrftoken": csrf_of(admin, path)},
                           follow_redirects=False)
        assert acked.status_code == 303
        assert 'class="done"' in admin.get(path + "&lang=zh_CN").text  # acknowledged, by whom and when

        log = admin.get("/notifications?lang=zh_CN").text
        assert "重试中" in log and "已送达" in log and "HTTP 503" in log

        # A playbook started from the alert is news for the chats too.
        started = admin.post(f"/rooms/{room}/playbooks/stream-interruption/start",
                             data={"alert_id": str(alert_id), "csrftoken": csrf_of(admin)}, follow_redirects=False)
        assert started.status_code == 303
        wait_until(lambda: any("预案已启动" in t for t in receivers["wecom"].texts()), what="the playbook notice")

        # The test button: a message now, and the answer says how the platform took it.
        wecom_id = int(re.search(r'data-channel="(\d+)"[^>]*>\s*<h2>wecom', log).group(1))
        before = len(receivers["wecom"].requests)
        tested = admin.post(f"/notifications/{wecom_id}/test", data={"csrftoken": csrf_of(admin)},
                            headers={"hx-request": "true"})
        assert tested.status_code == 204
        assert len(receivers["wecom"].requests) == before + 1 and "测试消息" in receivers["wecom"].texts()[-1]
        receivers["wecom"].statuses.append(500)
        failed = admin.post(f"/notifications/{wecom_id}/test?lang=zh_CN", data={"csrftoken": csrf_of(admin)},
                            headers={"hx-request": "true"})
        assert failed.status_code == 409 and "平台未接受测试消息" in failed.text and "HTTP 500" in failed.text
    finally:
        live.terminate()
