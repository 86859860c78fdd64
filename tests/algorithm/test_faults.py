"""Fault tolerance: an env runner whose process is killed mid-training is restarted by Ray.

With ``fault_tolerance(restart_failed_env_runners=True)`` RLlib creates the env runner actors
with unlimited restarts and takes a failed one out of service; ``QMIX.restore_env_runners``
(run before each training step) brings it back with the learner's weights and the global
env-step count, and counts the restart in the results (``num_env_runner_restarts``).
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
from ray.rllib.core import DEFAULT_MODULE_ID

from rllib_qmix.algorithm.qmix import NUM_ENV_RUNNER_RESTARTS
from tests.algorithm.test_qmix import two_step_config

pytestmark = pytest.mark.integration

RESTART_DEADLINE_S = 90.0


def _runner_pids(algo) -> list[int]:
    return algo.env_runner_group.foreach_env_runner(lambda r: os.getpid(), local_env_runner=False)


def test_killed_env_runner_is_restarted_and_training_finishes(ray_local):
    config = (
        two_step_config()
        .env_runners(num_env_runners=2, num_envs_per_env_runner=2, num_cpus_per_env_runner=0.5)
        .fault_tolerance(restart_failed_env_runners=True)
    )
    algo = config.build_algo()
    try:
        for _ in range(3):
            result = algo.train()
        assert result[NUM_ENV_RUNNER_RESTARTS] == 0
        pids = _runner_pids(algo)
        assert len(set(pids)) == 2 and os.getpid() not in pids
        os.kill(pids[0], signal.SIGKILL)
        killed_at = time.monotonic()

        # Training goes on with the surviving runner until Ray has restarted the dead one.
        deadline = time.monotonic() + RESTART_DEADLINE_S
        iterations_while_down = 0
        while result[NUM_ENV_RUNNER_RESTARTS] == 0 and time.monotonic() < deadline:
            result = algo.train()
            iterations_while_down += 1
            time.sleep(0.2)
        assert result[NUM_ENV_RUNNER_RESTARTS] == 1, "the killed env runner was not restored in time"
        assert iterations_while_down >= 1
        print(
            f"\nfigure: env runner killed | 0 iterations lost, {iterations_while_down} on one runner, "
            f"back in {time.monotonic() - killed_at:.1f} s"
        )
        new_pids = _runner_pids(algo)
        assert len(new_pids) == 2 and pids[0] not in new_pids and pids[1] in new_pids

        # Both runners sample again: each iteration adds 2 runners x 2 envs x 2 steps.
        steps_before = result["env_runners"]["num_env_steps_sampled_lifetime"]
        for _ in range(4):
            result = algo.train()
        assert result["env_runners"]["num_env_steps_sampled_lifetime"] == steps_before + 4 * 8
        assert result[NUM_ENV_RUNNER_RESTARTS] == 1
        assert result["num_learner_updates_lifetime"] > 0
        assert np.isfinite(result["learners"][DEFAULT_MODULE_ID]["td_loss"])

        # The restarted runner acts with the learner's current weights.
        learner_w = algo.learner_group.get_state(components="learner/rl_module", inference_only=True)["learner"][
            "rl_module"
        ][DEFAULT_MODULE_ID]
        for runner_w in algo.env_runner_group.foreach_env_runner(
            lambda r: r.module.get_state(), local_env_runner=False
        ):
            for k, v in runner_w.items():
                np.testing.assert_array_equal(np.asarray(v), np.asarray(learner_w[k]))
        # Each runner explores with its own RNG: weight syncs never broadcast one runner's RNG.
        rngs = algo.env_runner_group.foreach_env_runner(
            lambda r: r._rng.bit_generator.state["state"]["state"], local_env_runner=False
        )
        assert len(set(rngs)) == 2
        # The restart count is part of the algorithm's state (and so of checkpoints).
        assert algo.get_state()["qmix_counters"]["num_restarts"] == 1
    finally:
        algo.stop()
