"""SMACv2 on the embedded simulator: sizes, draws, geometry, reproducibility, rules and bad input.

Expected values are computed here by hand from SMACv2's figures (oxwhirl/smacv2's code),
not read back from the implementation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from rllib_qmix.envs.smac.units import P_HP, P_SHOOT, P_SPEED, P_VIEW
from rllib_qmix.envs.smacv2 import (
    SCENARIO_NAMES,
    BatchedSMACv2Env,
    SMACv2Env,
    StarCraftCapabilityEnvWrapper,
    capability_config,
    get_scenario,
    make_scenario,
    scenario_from_capability_config,
)
from rllib_qmix.envs.smacv2.distributions import draw_positions, draw_teams, reflect, surrounded

SIZES = {"5_vs_5": (5, 5), "10_vs_10": (10, 10), "20_vs_20": (20, 20), "10_vs_11": (10, 11), "20_vs_23": (20, 23)}


def _random_episode(env, rng, max_steps=400):
    """Plays one episode with uniformly random available actions; returns everything seen."""
    obs, state = env.reset()
    seen = [np.array(obs), state]
    for _ in range(max_steps):
        avail = env.get_avail_actions_array()
        actions = [rng.choice(np.flatnonzero(row)) for row in avail]
        reward, done, info = env.step(actions)
        seen += [np.array(env.get_obs()), env.get_state(), np.array([reward]), avail]
        if done:
            break
    return seen, info


# ----------------------------------------------------------------------------- sizes
@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_sizes_follow_upstreams_formula(name):
    race, size = name.split("_", 1)
    n, m = SIZES[size]
    sh = 1 if race == "protoss" else 0
    # obs: 4 move flags; per enemy and per other ally: visible/shootable, dist, dx, dy, health,
    # (shield), 3 type bits; own: health, (shield), x, y, 3 type bits.
    obs = 4 + m * (5 + sh + 3) + (n - 1) * (5 + sh + 3) + (1 + sh + 2 + 3)
    # state: per ally health, cooldown, x, y, (shield), 3 bits; per enemy health, x, y,
    # (shield), 3 bits; then every agent's last action.
    n_actions = 6 + m
    state = n * (4 + sh + 3) + m * (3 + sh + 3) + n * n_actions
    env = SMACv2Env(name, seed=0)
    assert (env.n_agents, env.n_enemies, env.n_actions) == (n, m, n_actions)
    assert (env.get_obs_size(), env.get_state_size()) == (obs, state)
    assert env.episode_limit == 200
    obs_arr, st = env.reset()
    assert np.array(obs_arr).shape == (n, obs) and st.shape == (state,)


@pytest.mark.parametrize(
    "name, obs, state, n_actions",
    [
        ("protoss_5_vs_5", 92, 130, 11),
        ("terran_5_vs_5", 82, 120, 11),
        ("zerg_5_vs_5", 82, 120, 11),
        ("zerg_10_vs_11", 170, 306, 17),
        ("protoss_20_vs_23", 389, 901, 29),
    ],
)
def test_sizes_equal_upstreams_published_ones(name, obs, state, n_actions):
    info = SMACv2Env(name).get_env_info()
    assert (info["obs_shape"], info["state_shape"], info["n_actions"]) == (obs, state, n_actions)


# ----------------------------------------------------------------------------- draws
def _chi2(counts, probs):
    counts, probs = np.asarray(counts, float), np.asarray(probs, float)
    expected = counts.sum() * probs
    keep = expected > 0
    assert counts[~keep].sum() == 0, "a draw the distribution never makes"
    return float((((counts - expected) ** 2)[keep] / expected[keep]).sum())


# Chi-square critical values at alpha = 0.001 (df: value), from the standard table.
CHI2_999 = {1: 10.828, 2: 13.816, 3: 16.266, 4: 18.467, 5: 20.515}


def test_team_composition_follows_the_weights_and_the_exception_rule():
    s = get_scenario("terran_5_vs_5")
    rng = np.random.default_rng(1)
    n = 6000
    medivacs = np.zeros(6, int)
    marine_share = []
    for _ in range(n):
        allies, enemies = draw_teams(rng, s)
        assert enemies == allies  # 5 vs 5: the enemy team is a copy
        medivacs[allies.count("medivac")] += 1
        marine_share.append(allies.count("marine") / 5)
    # Binomial(5, 0.1) medivacs, conditioned on "not all 5" (an all-medivac team is redrawn).
    p = np.array([math.comb(5, k) * 0.1**k * 0.9 ** (5 - k) for k in range(6)])
    p[5] = 0.0
    p /= p.sum()
    assert _chi2(medivacs, p) < CHI2_999[4]
    # marines and marauders equally likely: 0.45 / (0.45 + 0.45 + 0.1) of the units
    assert abs(np.mean(marine_share) - 0.45) < 0.01


def test_enemies_copy_the_allies_plus_extra_draws_that_are_never_only_exceptions():
    s = get_scenario("zerg_10_vs_11")
    rng = np.random.default_rng(2)
    for _ in range(2000):
        allies, enemies = draw_teams(rng, s)
        assert enemies[:10] == allies and len(enemies) == 11
        assert enemies[10] != "baneling"  # a one-unit extra group of only banelings is redrawn
        assert allies.count("baneling") < 10


def test_protoss_may_field_an_all_colossus_team():
    s = make_scenario("protoss", 1, 1)
    rng = np.random.default_rng(3)
    counts = {t: 0 for t in ("stalker", "zealot", "colossus")}
    for _ in range(3000):
        counts[draw_teams(rng, s)[0][0]] += 1
    assert _chi2(list(counts.values()), [0.45, 0.45, 0.1]) < CHI2_999[2]


def test_start_modes_and_surround_groups_follow_their_distributions():
    s = get_scenario("protoss_10_vs_10")
    rng = np.random.default_rng(4)
    modes = {"surrounded": 0, "reflect": 0}
    groups = np.zeros(5, int)
    for _ in range(4000):
        _, enemies, mode = draw_positions(rng, s)
        modes[mode] += 1
        if mode == "surrounded":
            groups[len({tuple(p) for p in np.round(enemies, 9)})] += 1
    assert _chi2(list(modes.values()), [0.5, 0.5]) < CHI2_999[1]
    # 1-4 groups uniformly; a group of size 0 (multinomial) leaves fewer distinct points, so
    # only check that every count 1..4 occurs and none other.
    assert groups[0] == 0 and (groups[1:] > 0).all()
    only = make_scenario("protoss", 5, 5, start_positions="reflect")
    assert {draw_positions(rng, only)[2] for _ in range(50)} == {"reflect"}
    only = make_scenario("protoss", 5, 5, start_positions="surrounded")
    assert {draw_positions(rng, only)[2] for _ in range(50)} == {"surrounded"}


def test_surround_group_count_is_uniform():
    # With 23 enemies a group is empty with probability < 1% (multinomial), so the number of
    # distinct enemy points is the group count, 1..4 uniformly.
    s = get_scenario("zerg_20_vs_23")
    rng = np.random.default_rng(8)
    counts = np.zeros(4, int)
    for _ in range(4000):
        _, enemies = surrounded(rng, s)
        counts[len({tuple(p) for p in np.round(enemies, 9)}) - 1] += 1
    assert _chi2(counts, [0.25] * 4) < CHI2_999[3]


def test_surrounded_geometry():
    s = get_scenario("terran_20_vs_23")
    rng = np.random.default_rng(5)
    for _ in range(200):
        allies, enemies = surrounded(rng, s)
        assert np.all(allies == 16.0)
        off = enemies - 16.0
        # every enemy on a diagonal through the centre, at least 2 * sqrt(2) from it
        np.testing.assert_allclose(np.abs(off[:, 0]), np.abs(off[:, 1]), atol=1e-9)
        assert np.all(np.abs(off[:, 0]) >= 2.0 - 1e-9) and np.all(np.abs(off) <= 16.0 + 1e-9)
        # groups: one point each, on distinct diagonals (quadrants)
        points = {tuple(p) for p in np.round(enemies, 9)}
        quadrants = {(np.sign(x - 16), np.sign(y - 16)) for x, y in points}
        assert 1 <= len(points) <= 4 and len(quadrants) == len(points)


def test_reflect_geometry():
    s = get_scenario("protoss_10_vs_11")
    rng = np.random.default_rng(6)
    for _ in range(200):
        allies, enemies = reflect(rng, s)
        assert np.all((allies[:, 0] >= 0) & (allies[:, 0] < 15) & (allies[:, 1] >= 0) & (allies[:, 1] < 32))
        np.testing.assert_array_equal(enemies[:10, 0], 32 - allies[:, 0])
        np.testing.assert_array_equal(enemies[:10, 1], allies[:, 1])
        assert 16 <= enemies[10, 0] < 32 and 0 <= enemies[10, 1] < 32


def test_units_are_placed_apart_and_agents_sorted_by_type_then_position():
    env = SMACv2Env("zerg_20_vs_20", seed=7)
    order = {"baneling": 0, "hydralisk": 1, "zergling": 2}  # the map's "_RL" ids: alphabetical
    for _ in range(10):
        env.reset()
        u = env.engine.units()
        types = env.unit_types()
        keys = [(order[t], u["x"][i], u["y"][i]) for i, t in enumerate(types[:20])]
        assert keys == sorted(keys)
        x, y, r = u["x"], u["y"], u["radius"]
        d = np.hypot(x[:, None] - x[None], y[:, None] - y[None]) - r[:, None] - r[None]
        np.fill_diagonal(d, 1.0)
        assert d.min() >= -1e-9  # no two units overlap (no air units in zerg)
        assert np.all((x >= r) & (x <= 32 - r) & (y >= r) & (y <= 32 - r))
        if env.start_mode == "surrounded":  # the allies packed around the centre
            assert np.all(np.hypot(x[:20] - 16, y[:20] - 16) < 4.0)


def test_placement_with_no_room_names_the_unit():
    from rllib_qmix.envs.smacv2.engine import place_units

    # Two ground units of radius 1 on a 3x3 map: the first fits at the centre, the second
    # (same plane) has no spot at least 2 away from it inside the map.
    radius, air, plane = np.array([1.0, 1.0]), np.array([False, False]), np.array([0, 0])
    points = np.array([[1.5, 1.5], [1.5, 1.5]])
    names = ["zealot", "stalker"]
    with pytest.raises(RuntimeError, match=r"no room for unit 1 \(stalker\) near 1\.5, 1\.5"):
        place_units(radius, air, plane, points, 3.0, names.__getitem__)
    # A flying second unit may sit on top of the first.
    pos = place_units(radius, np.array([False, True]), plane, points, 3.0, names.__getitem__)
    assert np.allclose(pos, [[1.5, 1.5], [1.5, 1.5]])


# ----------------------------------------------------------------------------- seeds
def test_same_seed_same_episodes_bit_for_bit():
    for name in ("protoss_5_vs_5", "terran_10_vs_11"):
        a, b = SMACv2Env(name, seed=11), SMACv2Env(name, seed=11)
        for _ in range(3):
            ea, ia = _random_episode(a, np.random.default_rng(0))
            eb, ib = _random_episode(b, np.random.default_rng(0))
            assert a.unit_types() == b.unit_types() and a.start_mode == b.start_mode
            assert len(ea) == len(eb) and ia == ib
            for x, y in zip(ea, eb):
                np.testing.assert_array_equal(x, y)


def test_different_seeds_draw_different_battles():
    teams = set()
    for seed in range(12):
        env = SMACv2Env("protoss_5_vs_5", seed=seed)
        env.reset()
        teams.add((tuple(env.unit_types()), env.start_mode, tuple(np.round(env.engine.units()["x"], 6))))
    assert len(teams) == 12


def test_batched_battles_equal_single_envs():
    batch = BatchedSMACv2Env("zerg_5_vs_5", n_envs=3, seed=20)
    singles = [SMACv2Env("zerg_5_vs_5", seed=20 + i) for i in range(3)]
    batch.reset()
    for env in singles:
        env.reset()
    rng = np.random.default_rng(0)
    for _ in range(30):
        avail = batch.get_avail_actions()
        for i, env in enumerate(singles):
            np.testing.assert_array_equal(avail[i], env.get_avail_actions_array().astype(bool))
            np.testing.assert_array_equal(batch.get_obs()[i], env.get_obs_array())
            np.testing.assert_array_equal(batch.get_state()[i], env.get_state())
        actions = np.array([[rng.choice(np.flatnonzero(r)) for r in env_avail] for env_avail in avail])
        rew, term, _ = batch.step(actions)
        for i, env in enumerate(singles):
            if not env.engine.done[0]:
                r, _, _ = env.step(actions[i])
                assert rew[i] == np.float32(r)
        if term.all():
            break


# ----------------------------------------------------------------------------- figures and rules
def test_unit_figures_and_interface_ranges():
    env = SMACv2Env(make_scenario("zerg", 3, 3, fixed_team=("hydralisk", "zergling", "baneling")), seed=0)
    env.reset()
    P, types = env.engine.PE[0], env.unit_types()
    hp = dict(zip(types[:3], P[:3, P_HP]))
    assert hp == {"baneling": 30, "hydralisk": 80, "zergling": 35}  # Hydralisk_RL: 80 (stock 90)
    enemy_hp = dict(zip(types[3:], P[3:, P_HP]))
    assert enemy_hp["hydralisk"] == 90
    view = dict(zip(types[:3], P[:3, P_VIEW]))
    shoot = dict(zip(types[:3], P[:3, P_SHOOT]))
    assert view == {"baneling": 8, "hydralisk": 9, "zergling": 8}
    assert shoot == {"baneling": 2, "hydralisk": 5, "zergling": 2}  # melee raised to min_attack_range 2
    # Medivac_RL moves 2.75 per Normal second = 2.75 / 16 per game loop
    t = SMACv2Env(make_scenario("terran", 2, 2, fixed_team=("medivac", "marine")), seed=0)
    t.reset()
    med = t.unit_types().index("medivac")
    assert t.engine.PE[0, med, P_SPEED] == pytest.approx(2.75 / 16)
    assert t.engine.PE[0, 2 + t.unit_types()[2:].index("medivac"), P_SPEED] == pytest.approx(2.5 / 16)


def test_unit_ranges_off_gives_smacs_ranges():
    env = SMACv2Env("zerg_5_vs_5", seed=0, use_unit_ranges=False)
    env.reset()
    assert set(env.engine.PE[0, :5, P_VIEW]) == {9.0} and set(env.engine.PE[0, :5, P_SHOOT]) == {6.0}


def test_reward_scale_comes_from_the_episodes_enemies():
    env = SMACv2Env(make_scenario("protoss", 5, 5, fixed_team=("stalker",) * 5), seed=0)
    env.reset()
    assert env.max_reward == 5 * 10 + 200 + 5 * (80 + 80)  # 1050
    env = SMACv2Env(make_scenario("protoss", 2, 2, fixed_team=("colossus", "zealot")), seed=0)
    env.reset()
    assert env.max_reward == 2 * 10 + 200 + (200 + 150) + (100 + 50)  # 720


def _duel(**kwargs):
    """Two marines a side on the open map, units placed by hand."""
    env = SMACv2Env(make_scenario("terran", 2, 2, fixed_team=("marine", "marine")), seed=0, **kwargs)
    env.reset()
    env.engine.set_units(0, x=np.array([10.0, 20.0, 11.0, 19.0]), y=np.array([10.0, 10.0, 20.0, 20.0]))
    return env


def test_enemies_attack_the_closest_agent_unit():
    env = _duel()
    env.step([1, 1])  # agents stop; each enemy is ordered onto its closest agent
    u = env.engine.units()
    assert list(u["target"][2:]) == [0, 1]
    # out of range (5 + radii 0.75 < 10.05), each walks 8 loops x 2.25 / 16 = 1.125 toward it
    assert math.hypot(u["x"][2] - 10.0, u["y"][2] - 10.0) == pytest.approx(math.hypot(1, 10) - 1.125, abs=1e-9)
    # its target dead, enemy 0 takes the closest agent left at the next step
    env.engine.set_units(0, health=np.array([0.0, 45.0, 45.0, 45.0]))
    env.step([0, 1])
    assert list(env.engine.units()["target"][2:]) == [1, 1]


def test_terran_side_of_only_medivacs_loses():
    env = SMACv2Env(make_scenario("terran", 2, 2, fixed_team=("medivac", "marine")), seed=0)
    env.reset()
    types = env.unit_types()
    health = np.array([150.0 if t == "medivac" else 0.0 for t in types[:2]] + [45.0, 150.0])
    if types[2] == "medivac":
        health[2:] = [150.0, 45.0]
    env.engine.set_units(0, health=health)
    _, done, info = env.step([1 if h > 0 else 0 for h in health[:2]])
    assert done and not info["battle_won"]


def test_obs_normalises_by_the_agents_own_sight_and_shows_own_position():
    env = SMACv2Env(make_scenario("protoss", 2, 2, fixed_team=("stalker", "zealot")), seed=0)
    env.reset()
    types = env.unit_types()  # agents sorted: stalker (id 6) before zealot (id 7)
    assert types[:2] == ["stalker", "zealot"]
    env.engine.set_units(0, x=np.array([10.0, 13.0, 15.0, 25.0]), y=np.array([10.0, 10.0, 10.0, 10.0]))
    obs = env.get_obs_array()
    width = 4 + 1 + 1 + 3  # per enemy: shootable, dist, dx, dy, health, shield, 3 bits
    e0 = obs[0, 4 : 4 + width]  # stalker (sight 10, shoot 6) sees the enemy 5 away
    enemy_type = env.unit_types()[2]
    bit = ["stalker", "zealot", "colossus"].index(enemy_type)
    np.testing.assert_allclose(e0[:6], [1.0, 0.5, 0.5, 0.0, 1.0, 1.0])
    assert e0[6 + bit] == 1.0 and e0[6:].sum() == 1.0
    e0_zealot = obs[1, 4 : 4 + width]  # zealot (sight 9): 2 away, shoot range max(0.1, 2) = 2
    np.testing.assert_allclose(e0_zealot[:4], [1.0, 2 / 9, 2 / 9, 0.0])
    assert np.all(obs[0, 4 + width : 4 + 2 * width] == 0)  # the enemy 15 away: out of sight
    own = obs[0, -7:]  # health, shield, x / 32, y / 32, 3 bits (stalker)
    np.testing.assert_allclose(own, [1.0, 1.0, 10 / 32, 10 / 32, 1.0, 0.0, 0.0])


def test_without_action_masks_every_live_target_is_offered_and_far_orders_do_nothing():
    env = _duel(action_mask=False)
    avail = env.get_avail_actions_array()
    assert list(avail[0, 6:]) == [1, 1]  # both enemies, although 10 and 13.5 away
    obs = env.get_obs_array()
    assert obs[0, 4] == 0.0  # the "can attack" feature keeps the true range
    env.step([6, 1])  # agent 0 orders an attack out of range: no order is given
    assert env.engine.units()["order"][0] == 0


def test_epo_hides_only_the_unseen_enemys_row():
    env = _duel(prob_obs_enemy=0.0)
    # enemy 0 near agent 0 only; enemy 1 out of everyone's sight (unspotted)
    env.engine.set_units(0, x=np.array([10.0, 20.0, 12.0, 30.0]), y=np.array([10.0, 10.0, 10.0, 30.0]))
    obs = env.get_obs_array()
    width = 8
    assert obs[0, 4] == 1.0 and obs[0, 5] == pytest.approx(2 / 9)  # agent 0 spotted enemy 0: seen
    assert np.all(obs[0, 4 + width : 4 + 2 * width] == 0)
    # agent 1 (8 away from enemy 0, within sight 9) is not the spotter: with p = 0 it sees nothing
    assert np.all(obs[1, 4 : 4 + width] == 0)
    no_epo = _duel()
    no_epo.engine.set_units(0, x=np.array([10.0, 20.0, 12.0, 30.0]), y=np.array([10.0, 10.0, 10.0, 30.0]))
    assert no_epo.get_obs_array()[1, 4] == 0.0 and no_epo.get_obs_array()[1, 5] == pytest.approx(8 / 9)


def test_epo_with_p_one_is_the_plain_observation():
    a, b = SMACv2Env("terran_5_vs_5", seed=3, prob_obs_enemy=1.0), SMACv2Env("terran_5_vs_5", seed=3)
    ea, _ = _random_episode(a, np.random.default_rng(1))
    eb, _ = _random_episode(b, np.random.default_rng(1))
    for x, y in zip(ea, eb):
        np.testing.assert_array_equal(x, y)


# ----------------------------------------------------------------------------- API
def test_capability_config_round_trip_and_upstream_constructor():
    for name in ("protoss_5_vs_5", "terran_10_vs_11", "zerg_20_vs_23"):
        cfg = capability_config(name)
        s = scenario_from_capability_config(cfg, f"10gen_{name.split('_')[0]}")
        assert s == get_scenario(name)
    upstream_zerg = {
        "n_units": 5,
        "n_enemies": 5,
        "team_gen": {
            "dist_type": "weighted_teams",
            "unit_types": ["zergling", "baneling", "hydralisk"],
            "weights": [0.45, 0.1, 0.45],
            "exception_unit_types": ["baneling"],
            "observe": True,
        },
        "start_positions": {"dist_type": "surrounded_and_reflect", "p": 0.5, "map_x": 32, "map_y": 32},
    }
    env = StarCraftCapabilityEnvWrapper(capability_config=upstream_zerg, map_name="10gen_zerg", seed=4)
    ref = SMACv2Env("zerg_5_vs_5", seed=4)
    ea, _ = _random_episode(env, np.random.default_rng(2))
    eb, _ = _random_episode(ref, np.random.default_rng(2))
    for x, y in zip(ea, eb):
        np.testing.assert_array_equal(x, y)
    assert env.get_capabilities().shape == (5, 3) and env.get_env_info()["cap_shape"] == 3


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: SMACv2Env("protoss_6_vs_6"), "unknown SMACv2 scenario"),
        (lambda: SMACv2Env("elf_5_vs_5"), "unknown race 'elf'"),
        (lambda: make_scenario("terran", 5, 4), "n_enemies"),
        (lambda: make_scenario("zerg", 5, 5, weights=(0.5, 0.5, 0.5)), "summing to 1"),
        (lambda: make_scenario("terran", 5, 5, weights=(0, 0, 1)), "exception"),
        (lambda: make_scenario("terran", 2, 2, fixed_team=("medivac", "medivac")), "only exception"),
        (lambda: make_scenario("zerg", 2, 2, fixed_team=("marine", "zergling")), "fixed_team"),
        (lambda: make_scenario("protoss", 5, 5, p_reflect=1.5), "probability"),
        (
            lambda: scenario_from_capability_config(
                {
                    "n_units": 5,
                    "n_enemies": 5,
                    "team_gen": {"unit_types": ["marine", "zergling"], "weights": [0.5, 0.5]},
                }
            ),
            "one race",
        ),
        (
            lambda: scenario_from_capability_config({"n_units": 5, "n_enemies": 5, "team_gen": {}, "attack": {}}),
            "not supported",
        ),
        (lambda: SMACv2Env("zerg_5_vs_5", conic_fov=True), "conic_fov"),
        (lambda: SMACv2Env("zerg_5_vs_5", prob_obs_enemy=2.0), "prob_obs_enemy"),
        (lambda: SMACv2Env("zerg_5_vs_5", difficulty="3"), "difficulty"),
    ],
)
def test_bad_input_gets_one_clear_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_unknown_option_is_refused_by_name():
    with pytest.raises(TypeError, match="obs_own_position"):
        SMACv2Env("zerg_5_vs_5", obs_own_position=True)


@pytest.mark.parametrize("name", ["protoss_5_vs_5", "terran_5_vs_5", "zerg_5_vs_5"])
def test_render_a_battle_to_a_gif(name, tmp_path):
    from PIL import Image

    from rllib_qmix.envs.smac import save_gif

    path = save_gif(SMACv2Env(name, seed=1), tmp_path / f"{name}.gif", max_steps=6)
    with Image.open(path) as im:
        assert im.n_frames >= 2 and im.size[0] > 100


def test_threads_step_the_same_battles():
    one = BatchedSMACv2Env("protoss_5_vs_5", n_envs=8, seed=30)
    two = BatchedSMACv2Env("protoss_5_vs_5", n_envs=8, seed=30, n_threads=2)
    one.reset()
    two.reset()
    rng = np.random.default_rng(0)
    try:
        for _ in range(60):
            avail = one.get_avail_actions()
            np.testing.assert_array_equal(avail, two.get_avail_actions())
            actions = np.array([[rng.choice(np.flatnonzero(r)) for r in env_avail] for env_avail in avail])
            r1, t1, _ = one.step(actions)
            r2, t2, _ = two.step(actions)
            np.testing.assert_array_equal(r1, r2)
            np.testing.assert_array_equal(t1, t2)
            np.testing.assert_array_equal(one.get_obs(), two.get_obs())
            np.testing.assert_array_equal(one.get_state(), two.get_state())
            one.reset_done()
            two.reset_done()
        with pytest.raises(ValueError, match="took unavailable action"):  # checked before any battle moves
            two.step(np.full((8, 5), 6 + 4))
    finally:
        two.close()
    with pytest.raises(ValueError, match="n_threads"):
        BatchedSMACv2Env("protoss_5_vs_5", n_envs=2, n_threads=0)


def test_medivac_heal_slots_are_allies_in_range_never_medivacs():
    env = SMACv2Env(make_scenario("terran", 3, 3, fixed_team=("medivac", "medivac", "marine")), seed=0)
    env.reset()
    types = env.unit_types()
    assert types[:3] == ["marine", "medivac", "medivac"]  # "_RL" ids: marine before medivac
    # marine at (12, 10); medivacs at (10, 10) and (10, 13); enemies far away
    env.engine.set_units(
        0,
        x=np.array([12.0, 10.0, 10.0, 30.0, 30.0, 30.0]),
        y=np.array([10.0, 10.0, 13.0, 2.0, 5.0, 8.0]),
    )
    avail = env.get_avail_actions_array()
    # medivac 1: slot 0 = the marine, 2 away (heal range 4): available; slot 2 = a medivac: never
    assert list(avail[1, 6:9]) == [1, 0, 0]
    # medivac 2: the marine is sqrt(4 + 9) = 3.6 away: in range
    assert list(avail[2, 6:9]) == [1, 0, 0]
    env.engine.set_units(0, x=np.array([15.0, 10.0, 10.0, 30.0, 30.0, 30.0]))
    assert list(env.get_avail_actions_array()[1, 6:9]) == [0, 0, 0]  # 5 away: out of range


def test_epo_is_seeded_and_observing_does_not_change_later_battles():
    a, b = SMACv2Env("zerg_5_vs_5", seed=5, prob_obs_enemy=0.5), SMACv2Env("zerg_5_vs_5", seed=5, prob_obs_enemy=0.5)
    ea, _ = _random_episode(a, np.random.default_rng(3))
    eb, _ = _random_episode(b, np.random.default_rng(3))
    for x, y in zip(ea, eb):
        np.testing.assert_array_equal(x, y)
    # battles drawn after an episode observed every step equal those after one never observed
    c, d = SMACv2Env("zerg_5_vs_5", seed=6, prob_obs_enemy=0.5), SMACv2Env("zerg_5_vs_5", seed=6, prob_obs_enemy=0.5)
    _random_episode(c, np.random.default_rng(4))  # observes every step
    d.reset()
    rng = np.random.default_rng(4)
    while True:  # the same actions, never asking for observations
        avail = d.get_avail_actions_array()
        if d.step([rng.choice(np.flatnonzero(row)) for row in avail])[1]:
            break
    c.reset()
    d.reset()
    assert c.unit_types() == d.unit_types()
    np.testing.assert_array_equal(c.engine.units()["x"], d.engine.units()["x"])
