"""Fixtures: replicas on 127.0.0.1 (the helpers the tests share are in helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal_crawler.replica import Replica, ReplicaConfig


@pytest.fixture
def replica_factory() -> Iterator:
    started: list[Replica] = []

    def start(**kwargs) -> Replica:
        replica = Replica(ReplicaConfig(**{"seed": 1, "host": "127.0.0.1", "port": 0, **kwargs}))
        replica.start()
        started.append(replica)
        return replica

    yield start
    for replica in started:
        replica.stop()
