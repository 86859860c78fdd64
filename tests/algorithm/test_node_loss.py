"""A worker node lost mid-run: a 3-node ``ray.cluster_utils.Cluster``, one env runner per node slot,
a node that hosts a runner removed while training runs.

Training goes on with the surviving runner, the lost one is restarted on the remaining nodes
(``num_env_runner_restarts``), nothing already in the replay (on the driver) is lost, and the run
reaches its stop criterion. Prints the recovery figure for docs/faults.md.
"""

from __future__ import annotations

import time

import pytest
import ray

from rllib_qmix.algorithm.qmix import NUM_ENV_RUNNER_RESTARTS
from tests.algorithm.test_qmix import two_step_config

pytestmark = pytest.mark.integration

SLOT = "qmix_runner_slot"  # one per node: two runners never share a node
STOP_ITERATIONS = 40
RECOVERY_DEADLINE_S = 120.0


def _runner_nodes(algo) -> list[str]:
    return algo.env_runner_group.foreach_env_runner(
        lambda r: ray.get_runtime_context().get_node_id(), local_env_runner=False
    )


def test_lost_node_runner_restarts_elsewhere_and_run_finishes():
    from ray.cluster_utils import Cluster

    ray.shutdown()
    cluster = Cluster(
        initialize_head=True,
        connect=True,
        head_node_args={"num_cpus": 2, "resources": {SLOT: 1}, "include_dashboard": False},
    )
    algo = None
    try:
        workers = [cluster.add_node(num_cpus=1, resources={SLOT: 1}) for _ in range(2)]
        cluster.wait_for_nodes()
        config = (
            two_step_config(replay_capacity=100_000)
            .env_runners(
                num_env_runners=2,
                num_envs_per_env_runner=2,
                num_cpus_per_env_runner=0.5,
                custom_resources_per_env_runner={SLOT: 1},
            )
            .fault_tolerance(restart_failed_env_runners=True)
        )
        algo = config.build_algo()
        result = None
        for _ in range(5):
            result = algo.train()
        nodes = _runner_nodes(algo)
        assert len(set(nodes)) == 2  # spread: one slot per node
        victim = next(w for w in workers if w.node_id in nodes)
        stored_before = len(algo.replay_buffer)
        assert stored_before > 0

        cluster.remove_node(victim, allow_graceful=False)
        removed_at = time.monotonic()
        recovered_after = None
        iterations_degraded = 0
        sizes = [stored_before]
        while result["training_iteration"] < STOP_ITERATIONS:
            result = algo.train()  # never raises: no iteration is lost
            sizes.append(len(algo.replay_buffer))
            if recovered_after is None:
                if result[NUM_ENV_RUNNER_RESTARTS] >= 1:
                    recovered_after = time.monotonic() - removed_at
                else:
                    iterations_degraded += 1
                    assert time.monotonic() - removed_at < RECOVERY_DEADLINE_S, "the runner was not restarted"
                    time.sleep(0.2)
        assert recovered_after is not None, "the lost runner was not restarted before the stop criterion"
        assert result["training_iteration"] == STOP_ITERATIONS
        assert result[NUM_ENV_RUNNER_RESTARTS] == 1
        new_nodes = _runner_nodes(algo)
        assert len(new_nodes) == 2 and victim.node_id not in new_nodes and len(set(new_nodes)) == 2
        # The replay (capacity 100k episodes) only grew: nothing stored was lost.
        assert all(b >= a for a, b in zip(sizes, sizes[1:])) and sizes[-1] > stored_before
        # Both runners sample again after the restart: 2 runners x 2 envs x 2 steps per iteration.
        steps = result["env_runners"]["num_env_steps_sampled_lifetime"]
        result = algo.train()
        assert result["env_runners"]["num_env_steps_sampled_lifetime"] - steps == 8
        print(
            f"\nfigure: worker node lost | 0 iterations lost, {iterations_degraded} on one runner, "
            f"runner back on another node in {recovered_after:.1f} s"
        )
    finally:
        if algo is not None:
            algo.stop()
        ray.shutdown()
        cluster.shutdown()
