"""SC2's combat rules, each pinned by a battle computed by hand from the figures.

Sources: [P] pysc2 ``docs/environment.md`` "Determinism and Randomness" (random delay, update
order, auto-targeting); [D] SC2's data tables (``data/sc2_data.json``); [L] Liquipedia, Baneling
(a baneling bursts on death). The clock: 16 game loops per Normal second; battles run here with
``step_mul=1`` where a result is timed to the loop (step k plays loop k - 1... from 0).
"""

import json
import math
from importlib import resources

import numpy as np
import pytest

from rllib_qmix.envs.smac import BatchedStarCraft2Env, StarCraft2Env, custom_map, sim
from rllib_qmix.envs.smac.maps import ORDER_ATTACK_MOVE
from rllib_qmix.envs.smac.units import P_AIR, P_BSW, P_DLYMAX, P_DLYMIN, P_DP, P_MMAX, STOCK


def make(allies, enemies, step_mul=1, seed=0, **kw):
    """A custom battle on open ground: units at exactly their points, stock figures; the enemy
    holds position and fires at whatever is in weapon range unless given an order."""
    return StarCraft2Env(custom_map("t", allies, enemies, **kw), seed=seed, step_mul=step_mul)


def units(env):
    return env.engine.units()


def face(env, *targets):
    """Unit i faces unit targets[i]."""
    u = units(env)
    t = np.array(targets)
    env.engine.set_units(0, facing=np.arctan2(u["y"][t] - u["y"], u["x"][t] - u["x"]))


# ----------------------------------------------------------------------------- the data
def test_figures_come_from_sc2_data_tables():
    """[D] v4.6.2 (= v4.8.2): the baneling's burst is 20 (+15 light) (16 (+19) is 5.0's), the
    hydralisk's period 0.825, the spine crawler's radius 0.875; marine damage point 0.05 and
    backswing 0.75 s; the stalker's missile mover MissileDefault (max speed 18.75)."""
    data = json.loads(resources.files("rllib_qmix.envs.smac").joinpath("data/sc2_data.json").read_text())
    assert data["sources"]["gamedata"]["files"][0].startswith("v4.6.2.69232/")
    burst = [h for h in data["weapons"]["VolatileBurst"]["damage"] if h["name"] == "VolatileBurstU"][0]
    assert (burst["amount"], burst["bonus"]) == (20.0, {"Light": 15.0})
    b = STOCK["baneling"]
    assert (b.damage, b.bonus_light) == (20.0, 15.0)
    assert STOCK["hydralisk"].period == 0.825 and STOCK["spine_crawler"].radius == 0.875
    env = make([("marine", 1, (10, 16)), ("stalker", 1, (10, 18))], [("marine", 1, (20, 16))])
    P = env.engine.P
    assert P[0, P_DP] == pytest.approx(0.05 * 16) and P[0, P_BSW] == pytest.approx(0.75 * 16)
    assert P[1, P_MMAX] == pytest.approx(18.75 / 16)
    assert (P[0, P_DLYMIN], P[0, P_DLYMAX]) == pytest.approx((-1.0, 2.0))  # -0.0625..0.125 s [D, P]


# ----------------------------------------------------------------------------- randomness
def _hit_loops(seed, loops=2800):
    env = make([("marine", 1, (10.0, 16.0))], [("marine", 1, (14.0, 16.0))], seed=seed, limit=loops)
    env.reset()
    face(env, 1, 0)
    env.engine.set_units(0, health=np.array([1e6, 1e6]))
    hits, before = [], 1e6
    for loop in range(loops):
        env.step([6])
        now = units(env)["health"][1]
        if now < before:
            hits.append(loop)
        before = now
    return hits


def test_random_delay_of_minus_1_to_plus_2_loops_on_every_shot():
    """[P] "the time to a unit's next shot varies by -1 to +2 game loops"; [D] randomDelayMin
    -0.0625, Max 0.125 s. A marine's period is 13.77 loops: consecutive shots come 12 to 16
    loops apart, not always the same, on average 13.77 + 0.5 (a uniform delay's mean); one seed
    gives the same shots, another seed others."""
    hits = _hit_loops(seed=1)
    gaps = np.diff(hits)
    assert gaps.min() >= 12 and gaps.max() <= 16
    assert len(set(gaps.tolist())) >= 4
    mean = (hits[-1] - hits[0]) / (len(hits) - 1)
    assert abs(mean - (0.8608 * 16 + 0.5)) < 3 * 0.866 / math.sqrt(len(gaps)) + 1 / len(gaps)
    assert _hit_loops(seed=1) == hits
    assert _hit_loops(seed=2) != hits


def test_marine_duel_outcome_over_seeds_is_not_one_sided():
    """[P] "a fair matchup (eg 1v1 marine) will result in a random outcome": over 40 seeds each
    marine wins at least 10 times (the agent attacks whenever it can)."""
    wins = 0
    for seed in range(40):
        env = make([("marine", 1, (10.0, 16.0))], [("marine", 1, (14.5, 16.0))], seed=seed, step_mul=8)
        env.reset()
        done = False
        while not done:
            _, done, info = env.step([6] if env.get_avail_agent_actions(0)[6] else [1])
        wins += info["battle_won"]
    assert 10 <= wins <= 30


def test_one_seed_one_battle_on_both_env_classes_and_in_batches():
    """The weapon delays and the update order come from each battle's seeded stream: the same
    seed plays the same battle, bit for bit, alone or in a batch, whatever its neighbours."""
    seeds = [7, 8, 9]
    batch = BatchedStarCraft2Env("3s5z", 3, seed=seeds)
    single = StarCraft2Env("3s5z", seed=8)
    batch.reset()
    single.reset()
    rng = np.random.default_rng(0)
    for _ in range(40):
        avail = batch.get_avail_actions()
        actions = (rng.random(avail.shape) * avail).argmax(-1)
        batch.step(actions)
        single.step(actions[1])
        assert np.array_equal(batch.engine.F[1], single.engine.F[0])
        if single.engine.done[0]:
            break


def test_units_update_in_a_random_order_within_a_loop():
    """[P] "the update order is random": two zerglings and a marine that can all kill each other
    on the same loop; over seeds, who strikes first differs (so does who survives)."""
    survivors = set()
    for seed in range(30):
        env = make([("zergling", 1, (10.0, 16.0))], [("zergling", 1, (10.8, 16.0))], seed=seed)
        env.reset()
        face(env, 1, 0)
        env.engine.set_units(0, health=np.array([4.0, 4.0]))  # one hit kills either
        for _ in range(4):  # both strike on loop 3 (damage point 0.167 s)
            env.step([6] if env.get_avail_agent_actions(0)[6] else [0 if units(env)["health"][0] <= 0 else 1])
        survivors.add(tuple((units(env)["health"] > 0).tolist()))
    assert survivors == {(True, False), (False, True)}


# ----------------------------------------------------------------------------- weapon timing
def test_retreating_target_is_hit_within_range_plus_slop_not_beyond():
    """[D] GuassRifle range 5, rangeSlop 1: once it attacks, an enemy marine (holding position)
    keeps firing at a target out to 5 + 1 from edge to edge, and loses it beyond."""
    env = make([("marine", 1, (10.0, 16.0))], [("marine", 1, (15.7, 16.0))], step_mul=8, seed=3)
    env.reset()
    face(env, 1, 0)
    env.engine.set_units(0, health=np.array([1e6, 45.0]))
    env.step([1])  # in range (edge 4.95): the enemy attacks
    start = units(env)["health"][0]
    assert start < 1e6
    env.engine.set_units(0, x=np.array([10.0 - 0.8, 15.7]))  # edge 5.75: within range + slop
    for _ in range(4):
        env.step([1])
    hit_in_slop = units(env)["health"][0]
    assert hit_in_slop < start
    env.engine.set_units(0, x=np.array([10.0 - 1.5, 15.7]))  # edge 6.45: beyond
    for _ in range(4):
        env.step([1])
    assert units(env)["health"][0] == hit_in_slop
    assert units(env)["x"][1] == 15.7  # holding: it does not chase


def test_missile_in_flight_is_wasted_on_a_target_that_dies_first():
    """[D] Particle Disruptors is a missile (18.75 per Normal second): launched on loop 3, it is
    in the air until loop 7; the target dying meanwhile wastes it (nothing else is hit)."""
    env = make([("stalker", 1, (10.0, 16.0))], [("marine", 1, (14.0, 16.0)), ("marine", 1, (14.2, 16.8))])
    env.reset()
    env.engine.PE[:, :, P_DLYMIN] = env.engine.PE[:, :, P_DLYMAX] = 0.0
    face(env, 1, 0, 0)
    for _ in range(5):
        env.step([6])  # loops 0-4
    assert env.engine.I[0, 0, sim.HKIND] == 1  # in flight
    env.engine.set_units(0, health=np.array([80.0, 0.0, 45.0]))
    for _ in range(4):
        env.step([1])
    assert env.engine.I[0, 0, sim.HKIND] == 0
    assert units(env)["health"][2] == 45.0


def test_move_during_damage_point_cancels_the_shot_and_refunds_the_cooldown():
    """[D] Particle Disruptors' damage point is 0.167 s (2.7 loops): a move order on loop 1 cuts
    the attack before it; no missile flies and the weapon is ready again: an attack ordered on
    loop 2 starts at once, its missile in the air from loop 5."""
    env = make([("stalker", 1, (10.0, 16.0))], [("marine", 1, (14.0, 16.0))])
    env.reset()
    env.engine.PE[:, :, P_DLYMIN] = env.engine.PE[:, :, P_DLYMAX] = 0.0
    face(env, 1, 0)
    env.engine.set_units(0, health=np.array([1e6, 1e6]))
    env.step([6])  # loop 0: the attack starts
    assert env.engine.I[0, 0, sim.WPH] == sim.W_WINDUP and units(env)["cooldown"][0] > 0
    env.step([5])  # loop 1: move west
    assert env.engine.I[0, 0, sim.HKIND] == 0 and units(env)["cooldown"][0] <= 0
    env.step([6])  # loop 2
    env.step([6])
    env.step([6])
    assert env.engine.I[0, 0, sim.HKIND] == 0
    env.step([6])  # loop 5: launched (damage point 2.7 loops after loop 2)
    assert env.engine.I[0, 0, sim.HKIND] == 1


def test_backswing_holds_an_attacker_before_it_chases():
    """[D] Claws: damage point 0.167 s, backswing 0.5 s (8 loops). A zergling (attack-moving)
    strikes on loop 3; its target then leaves: it stands through the backswing, to loop 11,
    and only then chases."""
    env = make(
        [("marine", 1, (10.0, 16.0))],
        [("zergling", 1, (10.8, 16.0))],
        enemy_order=ORDER_ATTACK_MOVE,
        attack_point=(5.0, 16.0),
    )
    env.reset()
    env.engine.PE[:, :, P_DLYMIN] = env.engine.PE[:, :, P_DLYMAX] = 0.0
    face(env, 1, 0)
    env.engine.set_units(0, health=np.array([1e6, 35.0]))
    for _ in range(4):
        env.step([1])  # loops 0-3: the claw strikes on loop 3
    assert units(env)["health"][0] == 1e6 - 5
    env.engine.set_units(0, x=np.array([13.0, 10.8]))  # the marine steps away (out of reach)
    xs = []
    for _ in range(10):  # loops 4-13
        env.step([1])
        xs.append(units(env)["x"][1])
    assert xs[:7] == [10.8] * 7  # loops 4-10: backswing (3 + 8 = 11)
    assert xs[-1] > 10.8


def test_colossus_turns_720_degrees_a_second_and_fires_within_its_arc():
    """[D] Colossus turningRate 720 deg/s = 45 deg a loop; Thermal Lances arc 90 (+ arcSlop
    11.25): it may fire with the target 56.25 deg off its facing. Facing away (180 deg off) it
    starts its attack on loop 2 (45, 90, 135 deg turned); 90 deg off, at once (45 turned)."""
    for off, first in [(math.pi, 2), (math.pi / 2, 0)]:
        env = make([("colossus", 1, (10.0, 16.0))], [("zergling", 1, (15.0, 16.0))])
        env.reset()
        env.engine.set_units(0, facing=np.array([off, math.pi]), health=np.array([1e6, 1e6]))
        started = []
        for _ in range(5):
            env.step([6])
            started.append(env.engine.I[0, 0, sim.WPH] != sim.W_READY)
        assert started.index(True) == first


# ----------------------------------------------------------------------------- banelings
def test_killed_baneling_bursts_20_plus_15_light_within_2_2():
    """[L] a baneling bursts on death; [D] Volatile Burst 20 (+15 light), splash 2.2: killed by
    a marine's shot, an enemy baneling deals 35 to the two marines near it (their edges within
    2.2 of its centre) and nothing to the shooter 4 away. (Agents are numbered by x, as SMAC
    sorts them.)"""
    env = make(
        [("marine", 1, (12.0, 16.0)), ("marine", 1, (16.0, 17.5)), ("marine", 1, (17.2, 16.0))],
        [("baneling", 1, (16.0, 16.0))],
    )
    env.reset()
    face(env, 3, 3, 3, 0)
    env.engine.set_units(0, health=np.array([45.0, 45.0, 45.0, 1.0]))
    for _ in range(3):
        env.step([6, 1, 1] if env.get_avail_agent_actions(0)[6] else [1, 1, 1])
    assert units(env)["health"].tolist() == [45.0, 10.0, 10.0, 0.0]


def test_bursts_set_off_banelings_in_a_chain():
    """An agent's baneling killed next to an enemy baneling bursts and kills it; that one bursts
    in turn on the agent's marine: 35."""
    env = make(
        [("baneling", 1, (16.0, 16.0)), ("marine", 1, (18.4, 16.0))],
        [("baneling", 1, (17.4, 16.0)), ("marine", 1, (12.0, 16.0))],
    )
    env.reset()
    face(env, 3, 2, 1, 0)
    env.engine.set_units(0, health=np.array([1.0, 45.0, 20.0, 45.0]))
    for _ in range(3):  # the enemy marine shoots the agent baneling (edge 3.25)
        env.step([0 if units(env)["health"][a] <= 0 else 1 for a in range(2)])
    h = units(env)["health"]
    assert (h[0], h[2]) == (0.0, 0.0)
    assert h[1] == 10.0 and h[3] == 45.0


# ----------------------------------------------------------------------------- crowds
def test_a_dozen_zerglings_surround_a_zealot():
    """Twelve zerglings attack-moving onto one idle zealot on open ground: at least six are in
    melee contact (edge within Claws' range 0.1) at once, none overlapping."""
    env = make(
        [("zealot", 1, (16.0, 16.0))],
        [("zergling", 12, (24.0, 16.0))],
        enemy_order=ORDER_ATTACK_MOVE,
        attack_point=(16.0, 16.0),
        step_mul=8,
    )
    env.reset()
    xs, ys = 24.0 + (np.arange(12) % 4) * 0.8, 14.8 + (np.arange(12) // 4) * 0.8
    env.engine.set_units(0, x=np.r_[16.0, xs], y=np.r_[16.0, ys], health=np.r_[1e6, np.full(12, 35.0)])
    most = 0
    for _ in range(20):
        env.step([1])
        u = units(env)
        d = np.hypot(u["x"][1:] - u["x"][0], u["y"][1:] - u["y"][0]) - 0.5 - 0.375
        most = max(most, int((d <= 0.1 + 1e-6).sum()))
        gap = np.hypot(u["x"][1:, None] - u["x"][None, 1:], u["y"][1:, None] - u["y"][None, 1:])
        assert (gap[np.triu_indices(12, 1)] >= 0.75 - 1e-6).all()
    assert most >= 6


# ----------------------------------------------------------------------------- target choice
def test_units_with_weapons_rank_above_those_without():
    """[P] "any enemies with weapon a higher threat than those without": an enemy marine takes
    the agent marine 5 away before the agent medivac 2 away."""
    env = make([("marine", 1, (10.0, 16.0)), ("medivac", 1, (13.0, 16.0))], [("marine", 1, (15.0, 16.0))])
    env.reset()
    env.step([1, 1])
    assert units(env)["target"][2] == 0


def _enemy_choice(heal: bool, air: bool = False) -> int:
    """The target of an enemy marine holding at (15, 16) after two steps, with an agent marine
    out of its reach and two agent medivacs in it, the farther healing the marine if ``heal``."""
    env = make(
        [("marine", 1, (7.0, 16.0)), ("medivac", 1, (10.5, 16.0)), ("medivac", 1, (12.5, 16.5))],
        [("marine", 1, (15.0, 16.0))],
    )
    env.reset()
    env.engine.set_units(0, health=np.array([20.0, 150.0, 150.0, 45.0]))
    for _ in range(2):
        env.step([1, 6 if heal else 1, 1])
    return int(units(env)["target"][3])


def test_a_healing_medivac_ranks_above_an_idle_one():
    """[P] "a healer raises its priority when it is healing": of two agent medivacs in reach,
    the enemy marine takes the one healing, though the other is nearer; the nearer while
    neither heals."""
    assert _enemy_choice(heal=True) == 1
    assert _enemy_choice(heal=False) == 2


def _stalker_choice(air: bool) -> int:
    env = make(
        [("zealot", 1, (10.0, 16.0)), ("zealot", 1, (12.0, 18.0))],
        [("stalker", 1, (16.0, 18.0)), ("marine", 1, (10.9, 16.0))],
    )
    env.reset()
    env.engine.PE[0, 2, P_AIR] = float(air)
    env.engine.set_units(0, health=np.array([150.0, 150.0, 80.0, 1e6]))
    for _ in range(2):
        env.step([7, 1])  # zealot 0 attacks the marine (enemy 1); zealot 1 stands
    return int(units(env)["target"][2])


def test_call_for_help():
    """[P] a unit that can't return fire but attacks an ally "will trigger a call for help and
    increase the priority". Made an air unit (the agents' zealots, ground-only, can't hit it),
    the enemy stalker takes the zealot attacking its ally, the marine, not the nearer idle one;
    as the ground unit it is (both zealots could return fire), it takes the nearer."""
    assert _stalker_choice(air=True) == 0
    assert _stalker_choice(air=False) == 1
