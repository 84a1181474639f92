"""A real three-master Redis Cluster for the tests of this folder, started from the
machine's redis-server (as CI has it) on free loopback ports, emptied before each test."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest
from redis.cluster import RedisCluster

from tests.support import free_port

MASTERS = 3


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory):
    """(ports, processes) of a running cluster with every slot covered."""
    if not (shutil.which("redis-server") and shutil.which("redis-cli")):
        reason = "redis-server and redis-cli are needed for the cluster tests (apt-get install redis-server)"
        if _in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("cluster")
    ports = [free_port() for _ in range(MASTERS)]
    processes = []
    try:
        for port in ports:
            directory = base / str(port)
            directory.mkdir()
            processes.append(subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-config-file", "nodes.conf", "--dir", str(directory), "--save", "", "--appendonly", "no",
                 "--cluster-node-timeout", "5000",
                 # The bus port is port + 10000 unless set: a free port above 55535 has none.
                 "--cluster-port", str(free_port())],
                stdout=(directory / "log").open("wb"), stderr=subprocess.STDOUT))
        for port in ports:
            _wait_for_ping(port)
        subprocess.run(["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports),
                        "--cluster-replicas", "0", "--cluster-yes"], check=True, capture_output=True, timeout=60)
        deadline = time.monotonic() + 30
        while not all(_cluster_ok(port) for port in ports):
            if time.monotonic() > deadline:
                raise RuntimeError("the cluster did not come up")
            time.sleep(0.2)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)


@pytest.fixture
def cluster_url(redis_cluster):
    """The cluster as controlroom is told of it, emptied for this test."""
    client = RedisCluster(host="127.0.0.1", port=redis_cluster[0])
    client.flushall(target_nodes=RedisCluster.PRIMARIES)
    client.close()
    return f"redis+cluster://127.0.0.1:{redis_cluster[0]}"


def _wait_for_ping(port: int) -> None:
    deadline = time.monotonic() + 15
    while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip() != "PONG":
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis-server on {port} did not start")
        time.sleep(0.1)


def _cluster_ok(port: int) -> bool:
    info = subprocess.run(["redis-cli", "-p", str(port), "cluster", "info"], capture_output=True, text=True).stdout
    return "cluster_state:ok" in info
