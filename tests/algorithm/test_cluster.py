"""A real multi-node Ray cluster on one machine: env runners on different nodes, DDP learners.

``ray.cluster_utils.Cluster`` starts a head node and two worker nodes (separate raylets with
their own node ids). Each worker node offers one unit of the custom resource
``qmix_runner_slot`` and each env runner asks for one, so the two env runners must land on
the two worker nodes. Two data-parallel learners (``num_learners=2``, torch DDP over gloo on
CPU) share every update: ``QMIX._learner_batch`` gives each one half of the episodes.

The module tears down any Ray instance first and shuts the cluster down afterwards; the
``ray_local`` fixture (tests/conftest.py) starts a fresh local Ray for later tests.
"""

from __future__ import annotations

import numpy as np
import pytest
import ray
from ray.rllib.core import DEFAULT_MODULE_ID
from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch
from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME

from rllib_qmix.learning.replay import shard_episode_batch
from tests.algorithm.test_qmix import two_step_config

pytestmark = pytest.mark.integration

SLOT = "qmix_runner_slot"
ITERATIONS = 12


@pytest.fixture(scope="module")
def cluster_algo():
    """(cluster, algo, last result): QMIX with 2 env runners on 2 worker nodes and 2 learners."""
    from ray.cluster_utils import Cluster

    ray.shutdown()
    cluster = Cluster(initialize_head=True, connect=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    algo = None
    try:
        for _ in range(2):
            cluster.add_node(num_cpus=2, resources={SLOT: 1})
        cluster.wait_for_nodes()
        config = (
            two_step_config()
            .env_runners(num_env_runners=2, num_envs_per_env_runner=2, custom_resources_per_env_runner={SLOT: 1})
            .learners(num_learners=2, num_cpus_per_learner=1)
        )
        algo = config.build_algo()
        result = None
        for _ in range(ITERATIONS):
            result = algo.train()
        yield cluster, algo, result
    finally:
        if algo is not None:
            algo.stop()
        ray.shutdown()
        cluster.shutdown()


def _learner_weights(algo) -> list[dict[str, np.ndarray]]:
    results = algo.learner_group.foreach_learner(lambda learner: learner.module[DEFAULT_MODULE_ID].get_state())
    return [{k: np.asarray(v) for k, v in r.get().items()} for r in results]


def test_env_runners_run_on_different_nodes(cluster_algo):
    cluster, algo, _ = cluster_algo
    runner_nodes = algo.env_runner_group.foreach_env_runner(
        lambda r: ray.get_runtime_context().get_node_id(), local_env_runner=False
    )
    worker_nodes = {node.node_id for node in cluster.worker_nodes}
    assert len(worker_nodes) == 2 and cluster.head_node.node_id not in worker_nodes
    assert len(runner_nodes) == 2 and len(set(runner_nodes)) == 2
    assert set(runner_nodes) == worker_nodes
    assert len({n["NodeID"] for n in ray.nodes() if n["Alive"]}) == 3


def test_cluster_results_match_single_node_in_kind(cluster_algo):
    _, algo, result = cluster_algo
    runners = result["env_runners"]
    # 2 runners x 2 envs x 2 steps per iteration, all counted.
    assert runners[NUM_ENV_STEPS_SAMPLED_LIFETIME] == ITERATIONS * 2 * 2 * 2
    for key in ("episode_return_mean", "episode_len_mean", "epsilon"):
        assert np.isfinite(runners[key])
    assert runners["episode_len_mean"] == 2.0
    assert result["num_learner_updates_lifetime"] > 0
    assert np.isfinite(result["learners"][DEFAULT_MODULE_ID]["td_loss"])
    # Both remote runners act with the learners' weights.
    learner_w = _learner_weights(algo)[0]
    for runner_w in algo.env_runner_group.foreach_env_runner(lambda r: r.module.get_state(), local_env_runner=False):
        for k, v in runner_w.items():
            np.testing.assert_array_equal(np.asarray(v), learner_w[k])


def test_ddp_learners_stay_identical_and_equal_a_full_batch_update(cluster_algo):
    _, algo, _ = cluster_algo
    first, second = _learner_weights(algo)
    assert set(first) == set(second) and any(k.startswith("mixer.") for k in first)
    for k in first:  # several DDP updates ran: the replicas never drifted apart
        np.testing.assert_array_equal(first[k], second[k])

    # One more update on a known batch: shard it over the two learners (as QMIX does) and
    # compare with a single local learner that starts from the same state and sees the whole
    # batch. Cut some episodes of the first shard to one step, so the shards hold different
    # numbers of transitions: the shards' loss scales must still make DDP's averaged gradient
    # the gradient of the masked mean over the whole batch.
    start = algo.learner_group.get_state(components="learner")["learner"]
    data = algo.replay_buffer.sample(algo.config.episode_batch_size)
    assert (data["mask"].sum(1) == 2).all()
    data["mask"][:3, 1] = 0.0
    shards = shard_episode_batch(data, 2)
    assert shards[0]["mask"].sum() < shards[1]["mask"].sum()
    assert shards[0]["loss_scale"][0] < 1.0 < shards[1]["loss_scale"][0]

    def as_batch(d: dict) -> MultiAgentBatch:
        return MultiAgentBatch({DEFAULT_MODULE_ID: SampleBatch(d)}, env_steps=int(d["mask"].sum()))

    timesteps = {NUM_ENV_STEPS_SAMPLED_LIFETIME: 10_000}
    algo.learner_group.update(batches=[as_batch(s) for s in shards], timesteps=timesteps)
    ddp_first, ddp_second = _learner_weights(algo)

    local_config = algo.config.copy(copy_frozen=False).learners(num_learners=0)
    spaces = {DEFAULT_MODULE_ID: algo.spaces[DEFAULT_MODULE_ID]}

    def local_update(batch: dict) -> dict[str, np.ndarray]:
        learner = local_config.build_learner(spaces=spaces)
        learner.set_state(start)
        learner.update(batch=as_batch(batch), timesteps=timesteps)
        return {k: np.asarray(v) for k, v in learner.module[DEFAULT_MODULE_ID].get_state().items()}

    full = local_update(data)
    shard_only = local_update({k: v for k, v in shards[0].items() if k != "loss_scale"})
    before = start["rl_module"][DEFAULT_MODULE_ID]
    moved = max(float(np.abs(ddp_first[k] - np.asarray(before[k])).max()) for k in ddp_first)
    assert moved > 1e-5  # the update changed the weights
    for k in ddp_first:
        np.testing.assert_array_equal(ddp_first[k], ddp_second[k])
        np.testing.assert_allclose(ddp_first[k], full[k], rtol=0, atol=1e-6, err_msg=k)
    # Without gradient averaging a learner would follow its own shard, which differs.
    assert max(float(np.abs(shard_only[k] - full[k]).max()) for k in full) > 1e-5
