"""Prioritised replay in the algorithm: settings, beta's schedule, priorities that move with
the updates, and a checkpoint that restores them exactly."""

import numpy as np
import pytest
from ray.rllib.core import DEFAULT_MODULE_ID
from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch
from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME

from rllib_qmix import QMIX, QMIXConfig
from rllib_qmix import keys as K
from tests.algorithm.test_qmix import two_step_config


@pytest.mark.parametrize(
    "training,match",
    [
        ({"prioritized_replay_alpha": -0.5}, r"`prioritized_replay_alpha` must be >= 0, got -0.5"),
        ({"prioritized_replay_beta": 1.5}, r"`prioritized_replay_beta` must be in \[0, 1\], got 1.5"),
        ({"prioritized_replay_beta": -0.1}, r"`prioritized_replay_beta` must be in \[0, 1\], got -0.1"),
        ({"prioritized_replay_eps": 0.0}, r"`prioritized_replay_eps` must be > 0"),
        ({"prioritized_replay_beta_anneal_steps": -1}, "prioritized_replay_beta_anneal_steps"),
        ({"prioritized_replay": "yes"}, "`prioritized_replay` must be True or False"),
        ({"prioritized_replay": True, "train_batch_env_steps": 64}, "set `train_batch_env_steps` to None"),
    ],
)
def test_bad_prioritized_settings(training, match):
    with pytest.raises(ValueError, match=match):
        QMIXConfig().environment("two_step_game").training(**training).validate()


def test_priorities_move_beta_anneals_and_a_checkpoint_restores_them(ray_local, tmp_path):
    algo = (
        two_step_config(
            prioritized_replay=True,
            prioritized_replay_beta=0.4,
            prioritized_replay_beta_anneal_steps=1000,
            store_replay_buffer_in_checkpoints=True,
        )
        .training(episode_batch_size=8, learning_starts=8)
        .build_algo()
    )
    try:
        for _ in range(10):
            result = algo.train()
        assert result["num_learner_updates_lifetime"] > 0
        steps = result["env_runners"]["num_env_steps_sampled_lifetime"]
        assert algo.prioritized_replay_beta() == pytest.approx(min(1.0, 0.4 + 0.6 * steps / 1000))
        buf = algo.replay_buffer
        priorities = buf.priorities[: buf.size].copy()
        assert len(np.unique(priorities)) > 2 and np.all(priorities > 0)  # updated from the TD errors
        assert buf.max_priority == pytest.approx(priorities.max())

        path = algo.save_to_path(str(tmp_path / "checkpoint"))
        restored = QMIX.from_checkpoint(path)
        try:
            other = restored.replay_buffer
            assert np.array_equal(other.priorities[: other.size], priorities)
            assert other.max_priority == buf.max_priority
            (b1, i1), (b2, i2) = buf.sample_prioritized(8, 0.7), other.sample_prioritized(8, 0.7)
            assert np.array_equal(i1, i2) and np.array_equal(b1["per_weights"], b2["per_weights"])
        finally:
            restored.stop()
    finally:
        algo.stop()


def test_data_parallel_statistics_reach_the_episodes_they_were_computed_on(ray_local):
    """With 2 learners each shard's statistics come back in batch order: they equal what one
    learner, holding the same weights, computes on the whole sampled batch, episode by episode,
    and they go to the slots that batch was sampled from."""
    algo = (
        two_step_config(prioritized_replay=True)
        .training(episode_batch_size=8, learning_starts=8)
        .learners(num_learners=2)
        .build_algo()
    )
    try:
        group, buf = algo.learner_group, algo.replay_buffer
        updates, priority_updates = [], []
        original_update, original_priorities = group.update, buf.update_priorities

        def spy_update(*, batches=None, **kwargs):
            shards = [b.policy_batches[DEFAULT_MODULE_ID] for b in batches]
            updates.append((group.get_weights(), shards, algo._sampled_slots.copy()))
            return original_update(batches=batches, **kwargs)

        def spy_priorities(idx, statistics):
            priority_updates.append((np.asarray(idx).copy(), np.asarray(statistics).copy()))
            original_priorities(idx, statistics)

        group.update, buf.update_priorities = spy_update, spy_priorities
        for _ in range(4):
            algo.train()
        assert updates and len(updates) == len(priority_updates)

        spaces = {DEFAULT_MODULE_ID: (algo.env_runner.module.observation_space, algo.env_runner.module.action_space)}
        local = algo.config.copy(copy_frozen=False).learners(num_learners=0).build_learner(spaces=spaces)
        for (weights, shards, slots), (idx, statistics) in zip(updates, priority_updates):
            assert [len(s[K.MASK]) for s in shards] == [4, 4]  # two shards of 4 episodes
            whole = {k: np.concatenate([s[k] for s in shards]) for k in shards[0].keys() if k != K.LOSS_SCALE}
            local.module[DEFAULT_MODULE_ID].set_state(weights[DEFAULT_MODULE_ID])
            local.update(
                batch=MultiAgentBatch({DEFAULT_MODULE_ID: SampleBatch(whole)}, env_steps=int(whole[K.MASK].sum())),
                timesteps={NUM_ENV_STEPS_SAMPLED_LIFETIME: 0},
            )
            assert idx.shape == statistics.shape == (8,) and np.all(np.isfinite(statistics))
            assert np.array_equal(idx, slots)
            np.testing.assert_allclose(statistics, local.td_statistics(), rtol=1e-5, atol=1e-6)
            assert len(np.unique(statistics)) > 1  # a swapped shard would not go unseen
    finally:
        algo.stop()
