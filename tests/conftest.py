"""Shared fixtures: one local Ray instance (on 127.0.0.1) for the tests that need one."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("RAY_DEDUP_LOGS", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


@pytest.fixture
def ray_local():
    """A local Ray, started on first use and shared by the session's tests.

    Function-scoped so that it starts Ray again after a test that shut it down (the
    multi-node cluster tests do); Ray is stopped at the end of the session.
    """
    import ray

    if not ray.is_initialized():
        ray.init(
            address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1"
        )
    yield ray


def pytest_sessionfinish(session, exitstatus):
    """Stops the session's Ray, if one is running."""
    import sys

    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        ray.shutdown()
