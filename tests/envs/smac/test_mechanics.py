"""Combat mechanics worked out by hand on tiny custom scenarios."""

import math

import numpy as np
import pytest

from rllib_qmix.envs.smac import StarCraft2Env, custom_map, sim
from rllib_qmix.envs.smac.units import UNIT_TYPES


def make(allies, enemies, **kw):
    """Env of a custom scenario; groups are (type, count, (x, y)); enemies hold position."""
    return StarCraft2Env(custom_map("t", allies, enemies, **kw), seed=0)


def hit_once(attacker, target, shield=None):
    env = make([(attacker, 1, (10.0, 16.0))], [(target, 1, (20.0, 16.0))])
    env.reset()
    eng = env.engine
    if shield is not None:
        eng.F[0, 1, sim.SH] = shield
    sim.hit(eng.F, eng.I, eng.P, 0, 1, 0)
    return eng.F[0, 1, sim.HP], eng.F[0, 1, sim.SH]


def test_plain_damage_and_armor():
    assert hit_once("marine", "marine") == (39.0, 0.0)  # 6, no armor
    assert hit_once("marine", "zealot", shield=0.0) == (95.0, 0.0)  # 6 - 1 armor
    assert hit_once("marine", "spine_crawler") == (296.0, 0.0)  # 6 - 2 armor


def test_bonus_damage():
    assert hit_once("marauder", "marine") == (35.0, 0.0)  # 10, marine is light
    assert hit_once("marauder", "marauder") == (106.0, 0.0)  # 10 + 10 armored - 1 armor
    assert hit_once("colossus", "zergling") == (5.0, 0.0)  # 2 x (10 + 5 light)
    assert hit_once("zealot", "marauder") == (111.0, 0.0)  # 2 x (8 - 1)


def test_stalker_shield_then_health():
    env = make([("stalker", 1, (10.0, 16.0))], [("stalker", 1, (20.0, 16.0))])
    env.reset()
    eng = env.engine
    hp_sh = []
    for _ in range(6):
        sim.hit(eng.F, eng.I, eng.P, 0, 1, 0)
        hp_sh.append((eng.F[0, 1, sim.HP], eng.F[0, 1, sim.SH]))
    # 18 per hit (13 + 5 armored): 80 shield lasts 4 hits + 8, then 10 - 1 armor reaches health
    assert hp_sh[:4] == [(80, 62), (80, 44), (80, 26), (80, 8)]
    assert hp_sh[4] == (71, 0)  # 8 absorbed, 10 left - 1 armor
    assert hp_sh[5] == (54, 0)  # 18 - 1


def test_marine_duel_time_to_kill_and_cooldown():
    # both in range (centre 5.5 <= 5 + 2 x 0.375): shots on loops ceil(k * 9.76)
    env = make([("marine", 1, (10.0, 16.0))], [("marine", 1, (15.5, 16.0))])
    env.reset()
    cd = 0.61 * 16
    shots = [math.ceil(k * cd - 1e-9) for k in range(8)]
    assert shots == [0, 10, 20, 30, 40, 49, 59, 69]
    for step in range(1, 9):
        r, done, info = env.step([6])
        end = 8 * step - 1
        n = sum(s <= end for s in shots)
        u = env.engine.units()
        assert u["health"][0] == u["health"][1] == 45 - 6 * n
        assert not done
        if step == 1:  # after the first shot cooldown = 9.76 - 7 loops; state shows it / 15
            assert u["cooldown"][0] == pytest.approx(cd - 7)
            assert env.get_state()[1] == pytest.approx((cd - 7) / 15, abs=1e-6)
    r, done, info = env.step([6])  # shot 8 lands on loop 69 (step 9): both die
    assert done and not info["battle_won"]
    assert info["dead_allies"] == 1 and info["dead_enemies"] == 1
    assert "episode_limit" not in info


def test_medivac_heal_uses_energy():
    env = make([("marine", 1, (10.0, 16.0)), ("medivac", 1, (11.0, 16.0))], [("marine", 1, (25.0, 16.0))])
    env.reset()
    eng = env.engine
    eng.set_units(0, health=np.array([20.0, 150.0, 45.0]))
    assert env.get_avail_agent_actions(1) == [0, 1, 1, 1, 1, 1, 1]  # 6 = heal ally 0
    env.step([1, 6])
    u = eng.units()
    rate, regen = 12.6 / 16, 0.7875 / 16
    assert u["health"][0] == pytest.approx(20 + 8 * rate)
    assert u["energy"][1] == pytest.approx(50 + 8 * regen - 8 * rate / 3)


def test_colossus_line_splash():
    env = make(
        [("colossus", 1, (10.0, 16.0))],
        [
            ("zergling", 1, (16.0, 16.0)),
            ("zergling", 1, (16.0, 17.0)),
            ("zergling", 1, (16.0, 14.9)),
            ("zergling", 1, (16.0, 18.5)),
        ],
    )
    env.reset()
    env.step([6])  # attack the zergling at (16, 16): the beam is the segment x=16, y 14.6-17.4
    hp = env.engine.units()["health"][1:]
    regen = 7 * 0.38 / 16  # zerg regeneration after the shot on loop 0
    assert hp[:3] == pytest.approx([5 + regen] * 3)  # 2 x 15
    assert hp[3] == 35.0


def test_baneling_explodes_and_dies():
    env = make(
        [("baneling", 1, (10.0, 16.0))],
        [("zergling", 1, (11.2, 16.0)), ("zergling", 1, (12.0, 17.0)), ("zergling", 1, (16.0, 16.0))],
    )
    env.reset()
    r, done, info = env.step([6])
    hp = env.engine.units()["health"]
    assert hp[0] == 0.0  # the baneling died in its explosion
    assert hp[1] == 0.0 and hp[2] == 0.0  # 16 + 19 light = 35 kills both zerglings in 2.2
    assert hp[3] == 35.0
    assert done and info["dead_allies"] == 1 and info["dead_enemies"] == 2


def test_shield_regenerates_after_ten_seconds():
    env = make([("zealot", 1, (10.0, 16.0))], [("zealot", 1, (20.0, 16.0))])
    env.reset()
    env.engine.set_units(0, shield=np.array([10.0, 50.0]))
    for _ in range(20):  # 20 steps = 160 loops = 10 s: no regeneration yet
        env.step([1])
    assert env.engine.units()["shield"][0] == pytest.approx(10.0 + 2.0 / 16)
    env.step([1])
    assert env.engine.units()["shield"][0] == pytest.approx(10.0 + 9 * 2.0 / 16)


def test_melee_walks_into_range_then_hits():
    env = make([("zealot", 1, (10.0, 16.0))], [("marine", 1, (14.0, 16.0))])
    env.reset()
    # zealot must cover 4 - 0.875 - 0.1 = 3.025 at 3.15/16 per loop: 16 loops, hit on loop 16
    env.step([6])
    env.step([6])
    assert env.engine.units()["health"][1] == 45.0
    env.step([6])
    assert env.engine.units()["health"][1] == 45.0 - 16.0


def test_unit_speed_per_step():
    env = make([("stalker", 1, (10.0, 16.0))], [("zealot", 1, (25.0, 16.0))])
    env.reset()
    env.step([4])  # move east 2: stalker covers 4.13 * 0.5 = 2.065 > 2 -> arrives
    assert env.engine.units()["x"][0] == pytest.approx(12.0)
    env2 = make([("marine", 1, (10.0, 16.0))], [("zealot", 1, (25.0, 16.0))])
    env2.reset()
    env2.step([4])
    assert env2.engine.units()["x"][0] == pytest.approx(10.0 + 3.15 / 2)
    assert UNIT_TYPES["marine"].speed == 3.15
