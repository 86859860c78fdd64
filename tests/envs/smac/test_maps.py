"""Every SMAC map: sizes against the reference table, and a random-policy episode."""

import numpy as np
import pytest

from rllib_qmix.envs.smac import MAP_NAMES, StarCraft2Env

# map: (n_agents, n_enemies, n_actions, obs, state, episode_limit) - smac-reference.md §2
TABLE = {
    "3m": (3, 3, 9, 30, 48, 60),
    "8m": (8, 8, 14, 80, 168, 120),
    "25m": (25, 25, 31, 250, 950, 150),
    "5m_vs_6m": (5, 6, 12, 55, 98, 70),
    "8m_vs_9m": (8, 9, 15, 85, 179, 120),
    "10m_vs_11m": (10, 11, 17, 105, 243, 150),
    "27m_vs_30m": (27, 30, 36, 285, 1170, 180),
    "MMM": (10, 10, 16, 160, 290, 150),
    "MMM2": (10, 12, 18, 176, 322, 180),
    "2s3z": (5, 5, 11, 80, 120, 120),
    "3s5z": (8, 8, 14, 128, 216, 150),
    "3s5z_vs_3s6z": (8, 9, 15, 136, 230, 170),
    "1c3s5z": (9, 9, 15, 162, 270, 180),
    "3s_vs_3z": (3, 3, 9, 36, 54, 150),
    "3s_vs_4z": (3, 4, 10, 42, 61, 200),
    "3s_vs_5z": (3, 5, 11, 48, 68, 250),
    "2m_vs_1z": (2, 1, 7, 16, 26, 150),
    "2s_vs_1sc": (2, 1, 7, 17, 27, 300),
    "corridor": (6, 24, 30, 156, 282, 400),
    "6h_vs_8z": (6, 8, 14, 78, 140, 150),
    "so_many_baneling": (7, 32, 38, 202, 397, 100),
    "bane_vs_bane": (24, 24, 30, 336, 984, 200),
    "2c_vs_64zg": (2, 64, 70, 332, 342, 400),
}


def test_all_23_maps_registered():
    assert sorted(MAP_NAMES) == sorted(TABLE)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_sizes_and_random_episode(name):
    na, ne, nact, obs_size, state_size, limit = TABLE[name]
    env = StarCraft2Env(name, seed=0)
    info = env.get_env_info()
    assert (
        info["n_agents"],
        env.n_enemies,
        info["n_actions"],
        info["obs_shape"],
        info["state_shape"],
        info["episode_limit"],
    ) == TABLE[name]
    assert set(info) >= {
        "state_shape",
        "obs_shape",
        "n_actions",
        "n_agents",
        "episode_limit",
        "agent_features",
        "enemy_features",
    }
    assert (env.get_obs_size(), env.get_state_size(), env.get_total_actions()) == (obs_size, state_size, nact)
    obs, state = env.reset()
    assert len(obs) == na and all(o.shape == (obs_size,) and o.dtype == np.float32 for o in obs)
    assert state.shape == (state_size,) and state.dtype == np.float32
    avail = env.get_avail_actions()
    assert len(avail) == na and all(len(a) == nact for a in avail)
    rng = np.random.default_rng(0)
    for t in range(limit):  # noqa: B007 - t is read after the loop
        av = env.get_avail_actions_array()
        assert av.shape == (na, nact) and (av.sum(1) >= 1).all()
        reward, done, info = env.step((rng.random(av.shape) * av).argmax(1))
        assert isinstance(reward, float) and np.isfinite(reward) and reward >= 0
        assert {"battle_won", "dead_allies", "dead_enemies"} <= set(info)
        o, s = env.get_obs_array(), env.get_state()
        assert np.isfinite(o).all() and np.isfinite(s).all()
        assert np.abs(o).max() <= 1.5 and np.abs(s).max() <= 1.5
        if done:
            break
    assert done
    assert t + 1 <= limit
    assert info.get("episode_limit", False) == (t + 1 == limit and not info["battle_won"] and info["dead_allies"] < na)
    stats = env.get_stats()
    assert stats["battles_game"] == 1
    assert set(stats) == {"battles_won", "battles_game", "battles_draw", "win_rate", "timeouts", "restarts"}
