"""BatchedStarCraft2Env reproduces separate StarCraft2Env battles exactly."""

import numpy as np
import pytest

from rllib_qmix.envs.smac import BatchedStarCraft2Env, StarCraft2Env


@pytest.mark.parametrize("name", ["3m", "3s5z", "MMM", "corridor"])
def test_batched_equals_single(name):
    seeds = [3, 4, 5, 9]
    batch = BatchedStarCraft2Env(name, len(seeds), seed=seeds)
    singles = [StarCraft2Env(name, seed=s) for s in seeds]
    batch.reset()
    for env in singles:
        env.reset()
    rng = np.random.default_rng(0)
    finished = 0
    for _ in range(120):
        avail = batch.get_avail_actions()
        assert avail.dtype == np.bool_
        for i, env in enumerate(singles):
            assert np.array_equal(avail[i], env.get_avail_actions_array().astype(bool))
        actions = (rng.random(avail.shape) * avail).argmax(-1)
        rew, term, info = batch.step(actions)
        assert rew.dtype == np.float32 and term.dtype == np.bool_
        assert set(info) == {"battle_won", "timed_out", "dead_allies", "dead_enemies"}
        obs, state = batch.get_obs(), batch.get_state()
        for i, env in enumerate(singles):
            r, d, inf = env.step(actions[i])
            assert rew[i] == np.float32(r) and term[i] == d
            assert info["battle_won"][i] == inf["battle_won"]
            assert info["timed_out"][i] == inf.get("episode_limit", False)
            assert info["dead_allies"][i] == inf["dead_allies"]
            assert info["dead_enemies"][i] == inf["dead_enemies"]
            assert np.array_equal(obs[i], env.get_obs_array())
            assert np.array_equal(state[i], env.get_state())
            if d:
                env.reset()
                finished += 1
        batch.reset_done()
    assert finished > 0


def test_batched_shapes_int_seed_and_reset_envs():
    b = BatchedStarCraft2Env("8m", 5, seed=10)
    b.reset()
    assert b.get_obs().shape == (5, 8, 80)
    assert b.get_state().shape == (5, 168)
    assert b.get_avail_actions().shape == (5, 8, 14)
    single = StarCraft2Env("8m", seed=12)
    single.reset()
    assert np.array_equal(b.get_state()[2], single.get_state())  # seed + i
    before = b.get_state()
    b.step(np.ones((5, 8), int))
    mask = np.array([True, False, False, False, False])
    b.reset_envs(mask)
    after = b.get_state()
    assert not np.array_equal(after[0], before[0])  # a new battle, new jitter
    assert not np.array_equal(after[1], before[1])  # stepped, not reset
    info = b.get_env_info()
    assert info["n_agents"] == 8 and info["obs_shape"] == 80 and info["n_envs"] == 5


def test_batched_rejects_bad_actions():
    b = BatchedStarCraft2Env("3m", 2, seed=0)
    b.reset()
    with pytest.raises(ValueError, match="env 1: agent 2"):
        b.step(np.array([[1, 1, 1], [1, 1, 7]]))
