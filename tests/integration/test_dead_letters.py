"""Every refused item is kept for tech staff with its reason: NDJSON lines that are not
JSON (with their line number), batches where nothing was valid, bodies that cannot be
read at all; and a binary frame on the ingest socket is refused with 1003."""

from __future__ import annotations

import httpx
import orjson
import pytest
import websockets

from tests.support import BASE_TS, comment


def _post(server, room, body: bytes, content_type: str) -> httpx.Response:
    return httpx.post(f"{server.url}/api/rooms/{room}/events", content=body,
                      headers={"content-type": content_type, "x-api-key": room.api_key})


def _dead(server, room) -> list[dict]:
    return server.admin.get(f"/api/rooms/{room}/dead-letters").json()


def test_a_broken_ndjson_line_is_dead_lettered_with_its_line_number_and_the_rest_kept(server, room):
    body = b'{"id":"n1","type":"comment","ts":%d,"user":{"id":"u"},"text":"one"}\n{"id": "n2", broken\n' \
           b'{"id":"n3","type":"comment","ts":%d,"user":{"id":"u"},"text":"three"}\n' % (BASE_TS, BASE_TS + 1)
    response = _post(server, room, body, "application/x-ndjson")
    assert response.status_code == 200 and response.json()["accepted"] == 2
    [letter] = _dead(server, room)
    assert letter["raw"] == '{"id": "n2", broken' and "line 2 is not valid JSON" in letter["reason"]
    assert server.wait_for_state(room, lambda s: s["comments"] == 2)["comments"] == 2


def test_a_batch_where_nothing_is_valid_still_keeps_every_item(server, room):
    body = b'[{"id":"x1","type":"like","ts":5,"user":{"id":"u"}}, {"type":"nope"}, 7]'
    response = _post(server, room, body, "application/json")
    assert response.status_code == 422 and response.json()["rejected"] == 3
    reasons = [d["reason"] for d in reversed(_dead(server, room))]
    assert len(reasons) == 3
    assert "ts: must be Unix time in milliseconds" in reasons[0] and "unknown event type 'nope'" in reasons[1]
    assert "must be a JSON object" in reasons[2]


@pytest.mark.parametrize("body", [b'[{"id": "a", "type": "comment"', b'{"id": "not-an-array"}'])
def test_a_body_that_cannot_be_read_is_refused_and_kept(server, room, body):
    response = _post(server, room, body, "application/json")
    assert response.status_code == 400
    [letter] = _dead(server, room)
    assert letter["raw"] == body.decode() and letter["reason"].startswith("(body): ")
    assert response.json()["detail"] in letter["reason"]


async def test_a_binary_frame_on_the_ingest_socket_is_refused_with_1003(server, room):
    async with websockets.connect(f"{server.ws_url}/ws/ingest/{room}", additional_headers={"x-api-key": room.api_key}) as ws:
        await ws.send(b'[{"id":"b1"}]')
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 1003 and "text frame" in closed.value.rcvd.reason
    # Text batches on a new socket still work.
    async with websockets.connect(f"{server.ws_url}/ws/ingest/{room}", additional_headers={"x-api-key": room.api_key}) as ws:
        await ws.send(orjson.dumps([comment("t1", "文本")]).decode())
        assert orjson.loads(await ws.recv())["accepted"] == 1
