"""Reward standardisation: the running statistics, and how QMIX applies and checkpoints them."""

from __future__ import annotations

import numpy as np
import pytest
from ray.rllib.core import DEFAULT_MODULE_ID

from rllib_qmix import QMIXConfig
from rllib_qmix import keys as K
from rllib_qmix.learning.reward_stats import RunningMeanStd
from tests.algorithm.test_qmix import two_step_config


def test_running_stats_equal_the_stats_of_all_values_seen():
    rng = np.random.default_rng(0)
    chunks = [rng.normal(-3.0, 2.0, size=n) for n in (1, 25, 7, 0, 300)]
    stats = RunningMeanStd()
    for c in chunks:
        stats.update(c)
    every = np.concatenate(chunks)
    assert stats.count == every.size
    assert stats.mean == pytest.approx(every.mean(), abs=1e-12)
    assert stats.var == pytest.approx(every.var(), rel=1e-10)


def test_standardize_zeroes_padding_and_survives_constant_rewards():
    stats = RunningMeanStd(min_std=1e-4)
    stats.update(np.full(10, -2.0))  # std 0: divide by min_std, not by zero
    out = stats.standardize(np.array([[-2.0, -1.0, 5.0]]), np.array([[1.0, 1.0, 0.0]]))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.0, 1.0 / 1e-4, 0.0]])


def test_state_round_trip():
    a = RunningMeanStd()
    a.update(np.arange(10.0))
    b = RunningMeanStd()
    b.set_state(a.get_state())
    b.update(np.arange(5.0))
    a.update(np.arange(5.0))
    assert (a.count, a.mean, a.var) == (b.count, b.mean, b.var)


def test_qmix_standardizes_sampled_rewards_with_the_stats_of_stored_episodes(ray_local):
    algo = two_step_config(standardize_rewards=True).build_algo()
    try:
        for _ in range(6):
            algo.train()
        replay, stats = algo.replay_buffer, algo.reward_stats
        stored = np.concatenate([replay._data[K.REWARDS][i, : replay.lengths[i]] for i in range(len(replay))])
        assert stats.count == stored.size == 2 * replay.num_added  # capacity not reached: all still stored
        assert stats.mean == pytest.approx(stored.mean()) and stats.std == pytest.approx(stored.std())

        raw = replay.sample(4)
        replay.sample = lambda n: raw  # the next learner batch sees exactly these episodes
        got = algo._learner_batch()[DEFAULT_MODULE_ID][K.REWARDS]
        want = np.where(raw[K.MASK] > 0, (raw[K.REWARDS] - stats.mean) / stats.std, 0.0)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

        state = algo.get_state()
        assert state["qmix_reward_stats"]["count"] == stats.count
        result = algo.train()
        assert result["reward_standardize_std"] == pytest.approx(algo.reward_stats.std)
    finally:
        algo.stop()
    fresh = two_step_config(standardize_rewards=True).build_algo()
    try:
        fresh.set_state(state)
        assert fresh.reward_stats.get_state() == state["qmix_reward_stats"]
    finally:
        fresh.stop()


def test_rewards_untouched_by_default(ray_local):
    algo = two_step_config().build_algo()
    try:
        for _ in range(3):
            algo.train()
        assert algo.reward_stats is None
        raw = algo.replay_buffer.sample(4)
        algo.replay_buffer.sample = lambda n: raw
        np.testing.assert_array_equal(algo._learner_batch()[DEFAULT_MODULE_ID][K.REWARDS], raw[K.REWARDS])
    finally:
        algo.stop()


def test_standardize_rewards_must_be_a_bool():
    with pytest.raises(ValueError, match="`standardize_rewards` must be True or False"):
        QMIXConfig().environment("two_step_game").training(standardize_rewards="yes").validate()


def test_per_feature_stats_equal_numpy_and_round_trip_exactly():
    """Vector statistics (``normalize_obs`` / ``normalize_state``): per feature, over every row
    of every chunk, whatever the leading shape; the state restores bit for bit."""
    rng = np.random.default_rng(1)
    chunks = [rng.normal([0.0, 25.0, -3.0], [1.0, 10.0, 0.0], size=(n, 2, 3)) for n in (1, 9, 0, 40)]
    stats = RunningMeanStd(shape=(3,))
    for c in chunks:
        stats.update(c)
    every = np.concatenate(chunks).reshape(-1, 3)
    assert stats.count == len(every) == 100
    np.testing.assert_allclose(stats.mean, every.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.var, every.var(axis=0), rtol=1e-9, atol=1e-20)
    np.testing.assert_array_equal(stats.std[2], stats.min_std)  # a constant feature: the floor
    copy = RunningMeanStd(shape=(3,))
    copy.set_state(stats.get_state())
    for s in (stats, copy):
        s.update(chunks[1])
    assert copy.count == stats.count
    np.testing.assert_array_equal(copy.mean, stats.mean)
    np.testing.assert_array_equal(copy.var, stats.var)
    with pytest.raises(ValueError, match="shape"):
        RunningMeanStd(shape=(4,)).set_state(stats.get_state())
