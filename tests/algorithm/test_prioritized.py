"""Prioritised replay in the algorithm: settings, beta's schedule, priorities that move with
the updates, and a checkpoint that restores them exactly."""

import numpy as np
import pytest

from rllib_qmix import QMIX, QMIXConfig
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


def test_data_parallel_learners_update_every_sampled_episode(ray_local):
    """With 2 learners the shards' statistics come back together: after every update, one
    finite statistic per sampled episode goes to the replay."""
    algo = (
        two_step_config(prioritized_replay=True)
        .training(episode_batch_size=8, learning_starts=8)
        .learners(num_learners=2)
        .build_algo()
    )
    try:
        seen = []
        original = algo.replay_buffer.update_priorities

        def spy(idx, statistics):
            seen.append((np.asarray(idx).copy(), np.asarray(statistics).copy()))
            original(idx, statistics)

        algo.replay_buffer.update_priorities = spy
        for _ in range(4):
            algo.train()
        assert seen
        for idx, statistics in seen:
            assert idx.shape == statistics.shape == (8,) and np.all(np.isfinite(statistics))
    finally:
        algo.stop()
