"""Names of the CLI's algorithms and envs resolve whatever Ray has done in the process before."""

from __future__ import annotations

import pytest

from rllib_qmix.algorithm.qmix import QMIX
from rllib_qmix.cli.experiment import check_env, resolve_algorithm


@pytest.mark.integration
def test_names_resolve_after_a_ray_session_ended():
    """Tune's registry lives in the running Ray: after ``ray.shutdown()`` it is empty until the
    next ``ray.init``, and QMIX or the package's envs must still resolve then."""
    import ray

    was_running = ray.is_initialized()
    if not was_running:
        ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False)
    ray.shutdown()

    assert resolve_algorithm("QMIX") == (QMIX, QMIX)
    for env in ("smac", "two_step_game", "lbf"):
        check_env(env)  # raises CLIError if unknown
