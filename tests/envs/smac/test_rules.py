"""Action availability, reward scaling, termination, one-hot order, determinism, bad input."""

import numpy as np
import pytest

from rllib_qmix.envs.smac import MAP_NAMES, StarCraft2Env, custom_map, sim


def make(allies, enemies, **kw):
    return StarCraft2Env(custom_map("t", allies, enemies, **kw), seed=0)


def random_actions(rng, avail):
    return (rng.random(avail.shape) * avail).argmax(-1)


def test_attack_only_in_range_and_dead_only_noop():
    # ally ids are sorted by (x, y): agent 0 is the marine at (10, 12)
    env = make(
        [("marine", 1, (10.0, 16.0)), ("marine", 1, (10.0, 12.0))],
        [("marine", 1, (15.9, 12.0)), ("marine", 1, (16.1, 16.0))],
        terrain="3m",
    )
    env.reset()
    # agent 0: enemy 0 at 5.9 (<= 6) available; agent 1: enemy 1 at 6.1 unavailable
    assert env.get_avail_agent_actions(0) == [0, 1, 1, 1, 1, 1, 1, 0]
    assert env.get_avail_agent_actions(1)[6:] == [0, 0]
    env.engine.set_units(0, health=np.array([45.0, 0.0, 45.0, 45.0]))
    assert env.get_avail_agent_actions(1) == [1, 0, 0, 0, 0, 0, 0, 0]
    assert not env.get_obs_agent(1).any()  # dead agents observe zeros


def test_moves_blocked_at_arena_edges():
    env = make(
        [("marine", 1, (5.0, 8.5)), ("marine", 1, (31.5, 23.5))], [("marine", 1, (20.0, 16.0))], terrain="3m"
    )  # 3m's band: pathable y 8-24
    env.reset()
    # north, south, east, west
    assert env.get_avail_agent_actions(0)[2:6] == [1, 0, 1, 1]
    assert env.get_avail_agent_actions(1)[2:6] == [0, 1, 0, 1]
    obs = env.get_obs_agent(0)
    assert list(obs[:4]) == [1, 0, 1, 1]  # move features mirror availability
    env.step([2, 3])
    u = env.engine.units()
    # marine speed 2.25 per Normal second [M]; one step = 8 loops = 0.5 Normal second
    assert u["y"][0] == pytest.approx(8.5 + 2.25 / 2)
    assert u["y"][1] == pytest.approx(23.5 - 2.25 / 2)


def test_step_rejects_unavailable_action_with_clear_error():
    env = StarCraft2Env("3m", seed=0)
    env.reset()
    with pytest.raises(ValueError, match=r"agent 0 .*unavailable action 6.*available actions"):
        env.step([6, 1, 1])  # enemies start far away: no attack available
    with pytest.raises(ValueError, match="agent 1"):
        env.step([1, 0, 1])  # no-op is only for dead agents


def test_unknown_map_lists_all_maps():
    with pytest.raises(ValueError) as err:
        StarCraft2Env("4m")
    for name in MAP_NAMES:
        assert name in str(err.value)
    with pytest.raises(TypeError, match="obs_last_acton"):
        StarCraft2Env("3m", obs_last_acton=True)


def _focus_policy(env):
    av = env.get_avail_actions_array()
    hp = env.engine.units()["health"][env.n_agents :]
    out = []
    for a in range(env.n_agents):
        att = np.flatnonzero(av[a, 6:])
        if av[a, 0]:
            out.append(0)
        elif len(att):
            out.append(6 + att[np.argmin(hp[att])])
        else:
            out.append(4)
    return out


def test_perfect_episode_reward_is_20():
    env = StarCraft2Env("3m", seed=0)
    env.reset()
    eng = env.engine
    eng.F[0, :3, sim.HP] = 1e6  # invulnerable allies: the enemies all die, allies never do
    total = 0.0
    for _ in range(env.episode_limit):
        r, done, info = env.step(_focus_policy(env))
        total += r
        if done:
            break
    assert info["battle_won"] and info["dead_enemies"] == 3 and info["dead_allies"] == 0
    assert total == pytest.approx(20.0, abs=1e-6)  # (3 x 45 + 3 x 10 + 200) / (365 / 20)
    assert env.get_stats()["battles_won"] == 1


def test_defeat_and_reward_defeat():
    env = StarCraft2Env("3m", seed=0, reward_defeat=-7, reward_scale=False, reward_only_positive=False)
    env.reset()
    env.engine.F[0, :3, sim.HP] = 1.0
    total = 0.0
    for _ in range(60):  # allies hold still and are shot
        r, done, info = env.step([0 if a[0] else 1 for a in env.get_avail_actions()])
        total += r
        if done:
            break
    assert done and not info["battle_won"] and info["dead_allies"] == 3
    # each ally death costs 0.5 x (1 HP + 10), then the defeat reward -7
    assert total == pytest.approx(-3 * 5.5 - 7)
    assert "episode_limit" not in info


def test_timeout_is_a_draw_marked_episode_limit():
    env = make([("marine", 1, (5.0, 16.0))], [("marine", 1, (25.0, 16.0))], limit=3)
    env.reset()
    for t in range(3):
        r, done, info = env.step([1])
        assert done == (t == 2)
    assert info["episode_limit"] is True and not info["battle_won"]
    stats = env.get_stats()
    assert stats["timeouts"] == stats["battles_draw"] == 1 and stats["battles_won"] == 0


def test_mmm_win_when_only_enemy_medivac_left():
    env = StarCraft2Env("MMM", seed=0)
    env.reset()
    eng = env.engine
    A = env.n_agents
    med = [i for i, t in enumerate(eng.unit_types) if t == "medivac"]
    assert med == [A - 1, 2 * A - 1]  # ally ids sorted by type order: marauder, marine, medivac
    eng.F[0, A : 2 * A - 1, sim.HP] = 0.0
    r, done, info = env.step([1] * A)
    assert done and info["battle_won"]


def test_type_one_hot_order_and_sz_quirk():
    env = StarCraft2Env("2s3z", seed=0)
    env.reset()
    info_types = env.engine.unit_types
    assert info_types == ["stalker"] * 2 + ["zealot"] * 3 + ["stalker"] * 2 + ["zealot"] * 3
    s = env.get_state()
    nf_al, nf_en = 4 + 1 + 2, 3 + 1 + 2
    ally = s[: 5 * nf_al].reshape(5, nf_al)
    enemy = s[5 * nf_al : 5 * nf_al + 5 * nf_en].reshape(5, nf_en)
    assert ally[:, -2:].tolist() == [[1, 0]] * 2 + [[0, 1]] * 3  # stalker 0, zealot 1
    assert enemy[:, -2:].tolist() == [[0, 1]] * 2 + [[1, 0]] * 3  # enemy: zealot 0, stalker 1
    own = env.get_obs_agent(0)[-4:]
    assert own.tolist() == [1, 1, 1, 0]  # health, shield, stalker one-hot


def test_ally_ids_sorted_by_type_x_y():
    env = StarCraft2Env("8m", seed=5)
    env.reset()
    u = env.engine.units()
    keys = list(zip(u["x"][:8], u["y"][:8]))
    assert keys == sorted(keys)


def test_spine_crawler_is_static():
    env = StarCraft2Env("2s_vs_1sc", seed=0)
    env.reset()
    p0 = env.engine.units()["x"][2], env.engine.units()["y"][2]
    rng = np.random.default_rng(0)
    for _ in range(20):
        _, done, _ = env.step(random_actions(rng, env.get_avail_actions_array()))
        if done:
            break
    assert (env.engine.units()["x"][2], env.engine.units()["y"][2]) == p0


def _trajectory(env, steps=150, seed=0):
    rng = np.random.default_rng(seed)
    out = [env.reset()[1]]
    for _ in range(steps):
        r, done, info = env.step(random_actions(rng, env.get_avail_actions_array()))
        out.append(np.r_[env.get_state(), env.get_obs_array().ravel(), r, done])
        if done:
            out.append(env.reset()[1])
    return np.concatenate(out)


@pytest.mark.parametrize("name", ["3m", "MMM2", "2m_vs_1z"])
def test_determinism(name):
    a = _trajectory(StarCraft2Env(name, seed=11))
    b = _trajectory(StarCraft2Env(name, seed=11))
    c = _trajectory(StarCraft2Env(name, seed=12))
    assert np.array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)
    env = StarCraft2Env(name, seed=1)
    env.seed(11)
    assert np.array_equal(_trajectory(env), a)


def test_optional_features_change_sizes_consistently():
    base = StarCraft2Env("3s5z", seed=0)
    opts = dict(
        obs_last_action=True,
        obs_pathing_grid=True,
        obs_terrain_height=True,
        obs_timestep_number=True,
        state_timestep_number=True,
    )
    env = StarCraft2Env("3s5z", seed=0, **opts)
    na, nact = env.n_agents, env.n_actions
    assert env.get_obs_size() == base.get_obs_size() + 8 + 9 + (na - 1) * nact + 1
    assert env.get_state_size() == base.get_state_size() + 1
    obs, state = env.reset()
    assert obs[0].shape == (env.get_obs_size(),) and state.shape == (env.get_state_size(),)
    rng = np.random.default_rng(0)
    env.step(random_actions(rng, env.get_avail_actions_array()))
    assert env.get_obs_agent(0)[-1] == pytest.approx(1 / env.episode_limit)
    assert env.get_state()[-1] == pytest.approx(1 / env.episode_limit)
    inst = StarCraft2Env("3s5z", seed=0, obs_instead_of_state=True)
    o, s = inst.reset()
    assert s.shape == (inst.n_agents * inst.get_obs_size(),)
    assert np.array_equal(s, np.concatenate(o))
    no_last = StarCraft2Env("3s5z", seed=0, state_last_action=False)
    assert no_last.get_state_size() == base.get_state_size() - na * nact
