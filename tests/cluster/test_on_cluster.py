"""controlroom on a real three-master Redis Cluster (`redis+cluster://`): rooms spread
over the shards; ingest, the worker and the alert engine; two web processes both
pushing a room's update; two workers sharing the rooms; kill -9 of a worker mid-show
with every total exact afterwards."""

from __future__ import annotations

import asyncio
import random
import time

import websockets
from redis.cluster import RedisCluster

from controlroom.bus import keys
from tests.integration.test_live_push import _tile
from tests.integration.test_worker_crash import _show_events
from tests.support import BASE_TS, LiveServer, Process, cookie_header, create_room, frames_until, server_env, wait_until

ROOMS = 4


def _shards(cluster_url: str, rooms: list[str]) -> set[str]:
    """The nodes that own the rooms' keys."""
    host, port = cluster_url.removeprefix("redis+cluster://").split(":")
    client = RedisCluster(host=host, port=int(port))
    try:
        return {client.get_node_from_key(keys.stream(room)).name for room in rooms}
    finally:
        client.close()


def _shard_listeners(cluster_url: str, room: str) -> tuple[int, int]:
    """(subscribers of the room's updates on its shard, pattern subscriptions on all nodes)."""
    host, port = cluster_url.removeprefix("redis+cluster://").split(":")
    client = RedisCluster(host=host, port=int(port))
    try:
        channel = keys.updates_channel(room)
        shard = client.get_node_from_key(channel)
        [(_, listeners)] = client.pubsub_shardnumsub(channel, target_nodes=shard)
        patterns = client.execute_command("PUBSUB NUMPAT", target_nodes=RedisCluster.ALL_NODES)
        return int(listeners), sum(patterns.values()) if isinstance(patterns, dict) else int(patterns)
    finally:
        client.close()


def _state(server: LiveServer, room: str) -> dict:
    return server.admin.get(f"/api/rooms/{room}/state").json()


async def test_ingest_alerts_and_two_web_processes_on_a_cluster(cluster_url, database_url, tmp_path):
    env = server_env(redis_url=cluster_url, database_url=database_url, data_dir=tmp_path,
                     CONTROLROOM_AUTO_MIGRATE="false", CONTROLROOM_PANEL_IDLE_REFRESH_S="60")
    with_worker = await asyncio.to_thread(LiveServer(env, tmp_path / "a.log", worker=True).start)
    web_only = await asyncio.to_thread(LiveServer(env, tmp_path / "b.log", worker=False).start)
    try:
        rooms = [create_room(database_url, cluster_url) for _ in range(ROOMS)]
        assert len(_shards(cluster_url, rooms)) >= 2, "the rooms should live on more than one shard"
        admin_a = await asyncio.to_thread(lambda: with_worker.admin)
        admin_b = await asyncio.to_thread(lambda: web_only.admin)
        room = rooms[0]
        async with websockets.connect(f"{with_worker.ws_url}/ws/rooms/{room}?lang=en",
                                      additional_headers=cookie_header(admin_a)) as ws_a, \
                   websockets.connect(f"{web_only.ws_url}/ws/rooms/{room}?lang=en",
                                      additional_headers=cookie_header(admin_b)) as ws_b:
            await ws_a.recv()
            await ws_b.recv()
            accepted = await asyncio.to_thread(
                web_only.post_events, room, [{"id": "v1", "type": "viewers", "ts": BASE_TS, "online": 54321}])
            assert accepted.json()["accepted"] == 1
            for ws in (ws_a, ws_b):  # pushed by both web processes, each from its own subscription
                frame = await frames_until(ws, lambda f: "54,321" in f, timeout=10)
                assert _tile(frame, "online") == "54,321"
            # Over sharded pub/sub: both processes listen on the room's own shard, and no
            # node carries a pattern subscription (a PUBLISH would be copied to every node).
            assert await asyncio.to_thread(_shard_listeners, cluster_url, room) == (2, 0)

        # Every room, whichever shard holds it, is applied; a repeat is dropped.
        for number, each in enumerate(rooms):
            batch = [{"id": f"c{number}-{i}", "type": "comment", "ts": BASE_TS + i, "user": {"id": f"u{i}"},
                      "text": f"第{i}条"} for i in range(number + 3)]
            await asyncio.to_thread(web_only.post_events, each, batch + batch[:1])
        for number, each in enumerate(rooms):
            await asyncio.to_thread(wait_until, lambda each=each, n=number: _state(web_only, each)["comments"] == n + 3,
                                    15, f"room {each} applied")

        # The alert engine on the cluster: an interrupted stream raises its red alert.
        now = int(time.time() * 1000)
        await asyncio.to_thread(web_only.post_events, rooms[1],
                                [{"id": f"cut-{now}", "type": "stream", "ts": now, "status": "interrupted"}])

        def interrupted():
            alerts = web_only.admin.get(f"/api/rooms/{rooms[1]}/alerts").json()
            return next((a for a in alerts if a["rule"] == "stream-interrupted" and a["level"] == "red"), None)

        await asyncio.to_thread(wait_until, interrupted, 20, "the stream-interrupted alert")
    finally:
        await asyncio.to_thread(web_only.terminate)
        await asyncio.to_thread(with_worker.terminate)


def test_two_workers_share_the_rooms_and_kill_9_loses_nothing_on_a_cluster(cluster_url, database_url, tmp_path):
    env = server_env(redis_url=cluster_url, database_url=database_url, data_dir=tmp_path)
    web = LiveServer(env, tmp_path / "web.log", worker=False).start()
    workers = [Process(["worker"], env, tmp_path / f"worker{n}.log").start() for n in range(2)]
    try:
        rooms = [create_room(database_url, cluster_url) for _ in range(ROOMS)]
        shows = {room: _show_events(600, random.Random(number)) for number, room in enumerate(rooms)}

        def holders() -> set[str]:
            host, port = cluster_url.removeprefix("redis+cluster://").split(":")
            client = RedisCluster(host=host, port=int(port))
            try:
                return {value.decode() for room in rooms if (value := client.get(keys.lease(room)))}
            finally:
                client.close()

        # Both workers hold rooms: the rooms are shared out between them.
        wait_until(lambda: len(holders()) == 2, 20, "both workers holding rooms")
        half = {room: len(events) // 2 for room, (events, _) in shows.items()}
        for room, (events, _) in shows.items():
            for start in range(0, half[room], 100):
                assert web.post_events(room, events[start:min(start + 100, half[room])]).status_code == 200
        doomed = workers[0]
        doomed.kill()  # kill -9, whatever it was doing
        for room, (events, _) in shows.items():
            for start in range(half[room], len(events), 100):
                assert web.post_events(room, events[start:start + 100]).status_code == 200
        for room, (_, totals) in shows.items():
            wait_until(lambda room=room, totals=totals: {name: _state(web, room)[name] for name in totals} == totals,
                       30, f"room {room}'s totals exact after the kill")
        taken = [line for line in workers[1].log_text().splitlines() if "worker.room_taken" in line]
        assert len(taken) == ROOMS or len(taken) >= 2  # the survivor took the dead worker's rooms over
    finally:
        for worker in workers:
            worker.terminate()
        web.terminate()
