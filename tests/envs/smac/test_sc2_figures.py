"""SC2's figures, computed by hand, against the simulator.

Each test names its source: [M] SMAC's map files (the agents' "_RL" unit data), [D] SC2's data
tables (``data/sc2_data.json``: SC2 4.6.2 = 4.8.2's units.json and weapons.json, and the missile
movers of SC2's MoverData; Normal game seconds, Liquipedia's Faster figures are these / 1.4),
[S] SMAC's code. The clock: 16 game loops per Normal second, so a period of P Normal seconds is
16 P loops and a speed of v per Normal second is v / 16 per loop, v / 2 per SMAC step (8 loops).
Battles run here with ``step_mul=1`` where a result is timed to the game loop: step k plays
loop k - 1.
"""

import math

import numpy as np
import pytest

from rllib_qmix.envs.smac import StarCraft2Env, custom_map, sim
from rllib_qmix.envs.smac.maps import ORDER_ATTACK_MOVE
from rllib_qmix.envs.smac.terrain import fits, terrain
from rllib_qmix.envs.smac.units import P_DLYMAX, P_DLYMIN, P_HITS

ZERG_REGEN_PER_LOOP = 0.2734 / 16  # [M] LifeRegenRate 0.2734 per Normal second


def make(allies, enemies, step_mul=8, **kw):
    """A custom battle on open ground: units at exactly their points, stock figures; the enemy
    holds position and fires at whatever is in weapon range (no order)."""
    return StarCraft2Env(custom_map("t", allies, enemies, **kw), seed=0, step_mul=step_mul)


def units(env):
    return env.engine.units()


# ----------------------------------------------------------------------------- clock, movement
@pytest.mark.parametrize(
    "unit, speed",
    [  # [D] stock Speed, Normal: map units per Normal second
        ("marine", 2.25),
        ("marauder", 2.25),
        ("medivac", 2.5),
        ("stalker", 2.9531),
        ("zealot", 2.25),
        ("colossus", 2.25),
        ("hydralisk", 2.25),
        ("zergling", 2.9531),
        ("baneling", 2.5),
    ],
)
def test_distance_per_move_step(unit, speed):
    env = make([(unit, 1, (10.0, 16.0))], [("marine", 1, (30.0, 16.0))])
    env.reset()
    env.step([4])  # move east by 2 (SMAC's move_amount): farther than one step goes
    assert units(env)["x"][0] - 10.0 == pytest.approx(speed * 8 / 16, abs=1e-9)


def test_marine_moves_1_125_per_step_the_issue_figure():
    """SC2: 3.15 per Faster second = 2.25 per Normal second [M]; 8 loops = 2.25 / 2 = 1.125
    (the old 1.4x-fast clock moved it 1.575)."""
    env = StarCraft2Env("3m", seed=0)
    env.reset()
    x0 = units(env)["x"][0]
    env.step([4, 1, 1])
    assert units(env)["x"][0] - x0 == pytest.approx(1.125)


@pytest.mark.parametrize(
    "map_name, unit, speed",
    [("MMM", "medivac", 2.75), ("6h_vs_8z", "hydralisk", 2.25), ("bane_vs_bane", "baneling", 2.5)],
)
def test_agents_move_at_their_map_data_speed(map_name, unit, speed):
    """[M] Medivac_RL Speed 2.75 (stock 2.5), Hydralisk_RL 2.25, Baneling_RL 2.5, Normal."""
    env = StarCraft2Env(map_name, seed=0)
    env.reset()
    u0 = units(env)
    mine = [i for i in range(env.n_agents) if env.engine.unit_types[i] == unit]
    a = max(mine, key=lambda i: u0["x"][i])  # the easternmost: nothing of its own in the way
    actions = [1] * env.n_agents
    actions[a] = 4
    env.step(actions)
    moved = math.hypot(units(env)["x"][a] - u0["x"][a], units(env)["y"][a] - u0["y"][a])
    assert moved == pytest.approx(speed / 2, abs=1e-6)


def test_episode_limit_covers_smacs_game_time():
    """[S] 3m's limit is 60 steps of 8 loops: 480 loops = 30 Normal seconds."""
    env = StarCraft2Env("3m")
    assert env.episode_limit * env.engine.opts["step_mul"] == 480


# ----------------------------------------------------------------------------- weapons
def face_off(env):
    """Every unit faces the first unit of the other side (no turning before the first shot)."""
    u, A = units(env), env.n_agents
    dx = np.r_[u["x"][A] - u["x"][:A], u["x"][0] - u["x"][A:]]
    dy = np.r_[u["y"][A] - u["y"][:A], u["y"][0] - u["y"][A:]]
    env.engine.set_units(0, facing=np.arctan2(dy, dx))


def no_random_delay(env):
    """SC2's random delay of each attack pinned to 0 (its draw is tested in test_sc2_combat.py),
    so that shot times can be computed by hand."""
    env.engine.PE[:, :, P_DLYMIN] = 0.0
    env.engine.PE[:, :, P_DLYMAX] = 0.0


def _shot_loops(env, target, loops):
    """Loops on which ``target``'s health drops (a shot landed), over ``loops`` loops."""
    hits, before = [], units(env)["health"][target]
    for loop in range(loops):
        env.step([6] * env.n_agents)
        now = units(env)["health"][target]
        if now < before:
            hits.append(loop)
        before = now
    return hits


def _missile_loops(distance: float, speed: float, accel: float, top: float) -> int:
    """Loops a missile flies to a target ``distance`` away (to its edge): each loop its speed
    grows by ``accel`` up to ``top`` (per loop), then it moves, or hits if that reaches."""
    v, n = speed, 0
    while True:
        n += 1
        v = min(v + accel, top)
        if distance <= v:
            return n
        distance -= v


@pytest.mark.parametrize(
    "unit, period, damage_point, flight, gap",
    [  # [D] WeaponData: period, damagePoint (Normal s); flight: missile loops at this gap [D movers]
        ("marine", 0.8608, 0.05, 0, 4.0),  # C-14 Gauss Rifle: instant
        ("zergling", 0.696, 0.167, 0, 0.8),  # Claws: instant
        ("stalker", 1.87, 0.167, _missile_loops(4.0 - 0.375, 0.0, 3200 / 256, 18.75 / 16), 4.0),
        ("marauder", 1.5, 0.0, _missile_loops(4.0 - 0.375, 0.0, 3200 / 256, 20 / 16), 4.0),
        ("hydralisk", 0.825, 0.208, _missile_loops(4.0 - 0.375, 40 / 16, 0.0, 40 / 16), 4.0),
    ],
)
def test_loops_between_shots(unit, period, damage_point, flight, gap):
    """The k-th attack starts on loop ceil(16 k period) (the cooldown carries its fraction),
    strikes ceil(16 damagePoint) loops later, and a missile then flies ``flight`` loops: its
    speed from MoverData (stalker 18.75, marauder 20 per Normal second, both accelerating at
    3200; hydralisk 40), to the target's edge."""
    env = make([(unit, 1, (10.0, 16.0))], [("marine", 1, (10.0 + gap, 16.0))], step_mul=1)
    env.reset()
    no_random_delay(env)
    face_off(env)
    env.engine.set_units(0, health=np.array([1e6, 1e6]))  # nobody dies
    hits = _shot_loops(env, 1, 100)
    starts = [math.ceil(16 * period * k - 1e-9) for k in range(12)]
    expected = [s + math.ceil(16 * damage_point) + flight for s in starts]
    assert hits == [h for h in expected if h < 100]


def test_stalker_fires_every_30_loops_the_issue_figure():
    """SC2: 1.34 Faster seconds x 22.4 = 1.87 Normal seconds x 16 = 29.9 loops (the old clock:
    ~21); each shot lands 7 loops after the attack starts: its damage point, 0.167 s, ends on
    the 3rd loop, then the missile (18.75 per Normal second) flies 3.625 to the marine's edge in
    4 loops."""
    env = make([("stalker", 1, (10.0, 16.0))], [("marine", 1, (14.0, 16.0))], step_mul=1)
    env.reset()
    no_random_delay(env)
    face_off(env)
    env.engine.set_units(0, health=np.array([1e6, 1e6]))
    hits = _shot_loops(env, 1, 100)
    assert hits == [7, 37, 67, 97]


def test_spine_crawler_fires_every_1_85_normal_seconds():
    """[D] Impaler Tentacle 25 (+5 armored), period 1.85 (29.6 loops), damage point 0.3332 s
    (6 loops), range 7; the tentacle (mover: speed 12, acceleration 140, per Normal second)
    reaches a marine 6 away (5.625 to its edge) in 4 loops. The crawler acts on its own: the
    enemy's default behaviour, no order."""
    env = make([("marine", 1, (10.0, 16.0))], [("spine_crawler", 1, (16.0, 16.0))], step_mul=1)
    env.reset()
    no_random_delay(env)
    face_off(env)
    env.engine.set_units(0, health=np.array([1e6, 1e6]))
    assert _missile_loops(5.625, 12 / 16, 140 / 256, 200 / 16) == 4
    before, hits = units(env)["health"][0], []
    for loop in range(100):
        env.step([1])
        now = units(env)["health"][0]
        if now < before:
            hits.append(loop)
            assert before - now == 25.0  # marine: light, no armor
        before = now
    assert hits == [10, 40, 70, 99]  # ceil(k x 29.6) + 6 + 4


# ----------------------------------------------------------------------------- damage
def hit_once(attacker, target, shield=None):
    """Every hit of one attack of ``attacker`` on ``target`` (``sim.hit`` applies one)."""
    env = make([(attacker, 1, (10.0, 16.0))], [(target, 1, (20.0, 16.0))])
    env.reset()
    eng = env.engine
    if shield is not None:
        eng.F[0, 1, sim.SH] = shield
    queue = np.zeros(2, np.int64)
    for _ in range(int(eng.P[0, P_HITS])):
        sim.hit(eng.F, eng.I, eng.P, 0, 1, 0, queue, 0)
    return eng.F[0, 1, sim.HP], eng.F[0, 1, sim.SH]


def test_plain_damage_and_armor():
    """[D] damage minus the target's armor per hit: marine 6; zealot armor 1, crawler armor 2."""
    assert hit_once("marine", "marine") == (39.0, 0.0)  # 6, no armor
    assert hit_once("marine", "zealot", shield=0.0) == (95.0, 0.0)  # 6 - 1 armor
    assert hit_once("marine", "spine_crawler") == (296.0, 0.0)  # 6 - 2 armor


def test_bonus_damage():
    """[D] bonus damage against attributes: marauder +10 armored, colossus +5 light."""
    assert hit_once("marauder", "marine") == (35.0, 0.0)  # 10, marine is light
    assert hit_once("marauder", "marauder") == (106.0, 0.0)  # 10 + 10 armored - 1 armor
    assert hit_once("colossus", "zergling") == (5.0, 0.0)  # 2 x (10 + 5 light)
    assert hit_once("zealot", "marauder") == (111.0, 0.0)  # 2 x (8 - 1)


def test_stalker_shield_then_health():
    """Shields take damage first and have no armor; the rest loses the unit's armor [D]."""
    env = make([("stalker", 1, (10.0, 16.0))], [("stalker", 1, (20.0, 16.0))])
    env.reset()
    eng = env.engine
    hp_sh = []
    queue = np.zeros(2, np.int64)
    for _ in range(6):
        sim.hit(eng.F, eng.I, eng.P, 0, 1, 0, queue, 0)
        hp_sh.append((eng.F[0, 1, sim.HP], eng.F[0, 1, sim.SH]))
    # 18 per hit (13 + 5 armored): 80 shield lasts 4 hits + 8, then 10 - 1 armor reaches health
    assert hp_sh[:4] == [(80, 62), (80, 44), (80, 26), (80, 8)]
    assert hp_sh[4] == (71, 0)  # 8 absorbed, 10 left - 1 armor
    assert hp_sh[5] == (54, 0)  # 18 - 1


# ----------------------------------------------------------------------------- duels
def _duel(allies, enemies, who_dies, max_loops=400):
    """Plays a duel loop by loop (the agent attacking enemy 0, the random delay pinned to 0,
    both facing each other); returns the loop on which unit ``who_dies`` died and the units."""
    env = make(allies, enemies, step_mul=1, limit=max_loops)
    env.reset()
    no_random_delay(env)
    face_off(env)
    for loop in range(max_loops):
        env.step([6] if units(env)["health"][0] > 0 else [0])
        if units(env)["health"][who_dies] <= 0:
            return loop, units(env)
    raise AssertionError("nobody died")


def test_marine_vs_zergling():
    """Marine 6 per 13.77 loops, striking 1 loop after each start [D], vs zergling 35 HP
    regenerating 0.017 per loop from its first wound [M]: six hits (36 by loop 70) fall 0.18
    short of 35 + 69 loops of regeneration, so the 7th, on loop ceil(6 x 13.7728) + 1 = 84,
    kills. The zergling's 5 per 11.136 loops strikes 3 loops after each start (its damage
    point, 0.167 s): loops 3, 15, 26, 37, 48, 59, 70, 81: 8 hits, the marine keeps 45 - 40 = 5."""
    loop, u = _duel([("marine", 1, (10.0, 16.0))], [("zergling", 1, (10.8, 16.0))], who_dies=1)
    assert loop == 84
    assert u["health"][0] == 5.0


def test_marauder_vs_stalker():
    """Marauder 10 (+10 armored) per 24 loops, its grenade flying 4 loops (20 per Normal second
    over 4.375 to the stalker's edge): hits on loops 4, 28, ..., 4 take the 80 shields, then 19 a
    hit (armor 1): the 9th, on loop 196, kills. The stalker's 13 (+5 armored) - 1 armor = 17 per
    29.92 loops lands 7 loops after each start (3 to its damage point, 4 of flight): loops 7,
    37, ..., 187: 7 hits by loop 196, 125 - 119 = 6 left [D]."""
    loop, u = _duel([("marauder", 1, (10.0, 16.0))], [("stalker", 1, (15.0, 16.0))], who_dies=1)
    assert loop == 196
    assert u["health"][0] == 6.0


def test_colossus_line_splash_on_a_row_of_zerglings():
    """Thermal Lances 2 x (10 + 5 light) = 30 to every zergling on the beam: a segment across the
    attack direction through the target, 2.8 long (choices.py); the one off the beam is untouched.
    [D] damage point 0.0832 s (loop 2), then the two hits 0.09 s (1.44 loops) apart: loops 4, 5."""
    env = make(
        [("colossus", 1, (10.0, 16.0))],
        [
            ("zergling", 1, (16.0, 16.0)),
            ("zergling", 1, (16.0, 17.0)),
            ("zergling", 1, (16.0, 14.9)),
            ("zergling", 1, (16.0, 18.5)),
        ],
        step_mul=1,
    )
    env.reset()
    no_random_delay(env)
    face_off(env)
    for _ in range(5):  # loops 0-4: the first hit on loop 4
        env.step([6])
    assert units(env)["health"][1:].tolist() == [20.0, 20.0, 20.0, 35.0]
    env.step([6])  # loop 5: the second, after one loop of regeneration
    assert units(env)["health"][1:] == pytest.approx([5.0 + ZERG_REGEN_PER_LOOP] * 3 + [35.0])


def test_baneling_splash_on_clumped_marines():
    """Volatile Burst 20 (+15 light) = 35 to every marine within the 2.2 splash [D, v4.6.2], then
    the baneling is gone; a marine farther away keeps its 45."""
    env = make(
        [("baneling", 1, (10.0, 16.0))],
        [
            ("marine", 1, (10.95, 16.0)),
            ("marine", 1, (10.5, 17.5)),
            ("marine", 1, (9.0, 17.0)),
            ("marine", 1, (13.5, 16.0)),
        ],
        step_mul=1,
    )
    env.reset()
    face_off(env)
    r, done, info = env.step([6])
    hp = units(env)["health"]
    assert hp[0] == 0.0
    assert hp[1:].tolist() == [10.0, 10.0, 10.0, 45.0]


# ----------------------------------------------------------------------------- regeneration, heal
def test_shield_regeneration_after_its_delay():
    """[M] ShieldRegenDelay 10, ShieldRegenRate 2 (Normal): nothing for 160 loops without damage,
    then 2 / 16 = 0.125 a loop."""
    env = make([("zealot", 1, (10.0, 16.0))], [("zealot", 1, (20.0, 16.0))], step_mul=1, limit=400)
    env.reset()
    env.engine.set_units(0, shield=np.array([10.0, 50.0]))
    for _ in range(159):
        env.step([1])
    assert units(env)["shield"][0] == 10.0
    env.step([1])  # the 160th loop without damage
    assert units(env)["shield"][0] == pytest.approx(10.125)
    for _ in range(8):
        env.step([1])
    assert units(env)["shield"][0] == pytest.approx(10.0 + 9 * 0.125)


def test_zerg_regeneration():
    """[M] LifeRegenRate 0.2734 per Normal second: 0.1367 per step."""
    env = make([("zergling", 1, (10.0, 16.0))], [("marine", 1, (25.0, 16.0))])
    env.reset()
    env.engine.set_units(0, health=np.array([10.0, 45.0]))
    env.step([1])
    assert units(env)["health"][0] == pytest.approx(10.0 + 8 * ZERG_REGEN_PER_LOOP)


def test_medivac_heal_per_step_and_energy():
    """Heal 9 HP per Normal second (= 12.6 per Faster second), 0.33 energy per HP [D MedivacHeal];
    energy regenerates 0.5625 per Normal second [M]: one step heals 4.5 and costs 1.485 energy."""
    env = make([("marine", 1, (10.0, 16.0)), ("medivac", 1, (11.0, 16.0))], [("marine", 1, (25.0, 16.0))])
    env.reset()
    env.engine.set_units(0, health=np.array([20.0, 150.0, 45.0]))
    assert env.get_avail_agent_actions(1) == [0, 1, 1, 1, 1, 1, 1]  # 6 = heal ally 0
    env.step([1, 6])
    u = units(env)
    assert u["health"][0] == pytest.approx(24.5)
    assert u["energy"][1] == pytest.approx(50 + 8 * 0.5625 / 16 - 4.5 * 0.33)


def test_cooldown_feature_spans_smacs_normalisers():
    """[S] max_cd (loops): marine 15, marauder 25, stalker 35, zealot 22, colossus 24. Right after
    a shot the state's cooldown is the weapon's period in loops over max_cd: most of [0, 1]."""
    for unit, max_cd, period in [
        ("marine", 15, 0.8608),
        ("marauder", 25, 1.5),
        ("stalker", 35, 1.87),
        ("zealot", 22, 1.2),
        ("colossus", 24, 1.5),
    ]:
        gap = 0.9 if unit == "zealot" else 4.0
        env = make([(unit, 1, (10.0, 16.0))], [("marine", 1, (10.0 + gap, 16.0))], step_mul=1)
        env.reset()
        no_random_delay(env)
        face_off(env)
        env.step([6])  # attacks on loop 0
        cd = env.get_state()[1]
        assert cd == pytest.approx(period * 16 / max_cd)
        assert 0.75 < cd <= 1.0, unit


# ----------------------------------------------------------------------------- orders and AI
def test_agents_are_passive_and_enemies_acquire_targets():
    """[M] the "_RL" units: DefaultAcquireLevel Passive, Response Nothing: an agent with no order
    never fires. The enemy, a stock unit told to attack-move, acquires and shoots it."""
    env = make(
        [("marine", 1, (10.0, 16.0))],
        [("marine", 1, (14.0, 16.0))],
        enemy_order=ORDER_ATTACK_MOVE,
        attack_point=(5.0, 16.0),
    )
    env.reset()
    env.engine.set_units(0, health=np.array([1e6, 45.0]))
    for _ in range(5):
        env.step([1])
    u = units(env)
    assert u["health"][1] == 45.0  # the agent never fired
    assert u["health"][0] < 1e6  # the enemy did


def test_ground_weapon_ordered_on_air_unit_has_no_effect():
    """SMAC's mask allows the attack by distance; SC2 refuses the order: the marauder goes on
    with what it was doing (here: nothing), and the medivac is untouched."""
    env = make([("marauder", 1, (10.0, 16.0))], [("medivac", 1, (13.0, 16.0))])
    env.reset()
    assert env.get_avail_agent_actions(0)[6] == 1
    for _ in range(3):
        env.step([6])
    u = units(env)
    assert u["health"][1] == 150.0 and (u["x"][0], u["y"][0]) == (10.0, 16.0)
    assert env.engine.I[0, 0, sim.ORD] == sim.O_IDLE
    env.step([4])  # a move order, then the refused attack: the move goes on
    env.step([6])
    assert units(env)["x"][0] == pytest.approx(10.0 + 2.0)


# ----------------------------------------------------------------------------- solid units, terrain
def test_enemies_block_and_are_not_pushed():
    """A marine moving into an enemy marine stops at contact (0.75 apart); the enemy stays put."""
    env = make([("marine", 1, (10.0, 16.0))], [("marine", 1, (12.0, 16.0))])
    env.reset()
    env.engine.set_units(0, health=np.array([1e6, 1e6]))
    env.step([4])  # move east by 2: onto the enemy
    u = units(env)
    assert (u["x"][1], u["y"][1]) == (12.0, 16.0)
    assert math.hypot(u["x"][0] - 12.0, u["y"][0] - 16.0) >= 0.75 - 1e-6


def test_own_idle_units_make_way():
    env = make([("marine", 1, (10.0, 16.0)), ("marine", 1, (11.0, 16.0))], [("marine", 1, (30.0, 16.0))])
    env.reset()
    env.step([4, 1])  # agent 0 walks east through where its idle neighbour stands
    u = units(env)
    assert u["x"][0] == pytest.approx(10.0 + 1.125)
    assert math.hypot(u["x"][0] - u["x"][1], u["y"][0] - u["y"][1]) >= 0.75 - 1e-6
    assert u["x"][1] > 11.0  # pushed aside


def test_colossus_steps_over_small_units():
    env = make([("colossus", 1, (10.0, 16.0))], [("zergling", 1, (11.0, 16.0))])
    env.reset()
    env.engine.set_units(0, health=np.array([1e6, 1e6]))
    env.step([4])
    u = units(env)
    assert u["x"][0] == pytest.approx(11.125) and (u["x"][1], u["y"][1]) == (11.0, 16.0)


def test_radius_decides_what_fits_corridors_choke():
    """corridor's rooms meet through a diagonal choke (the cells touch at corners only): a zealot
    (radius 0.5) fits through it, a unit of radius 0.75 would not."""
    shapes = terrain("corridor").shapes
    assert fits(shapes, 0, 12.0, 12.0, 0.5) and fits(shapes, 0, 13.0, 13.0, 0.5)
    assert not fits(shapes, 0, 12.0, 12.0, 0.75)


def test_colossus_crosses_cliffs_zergling_does_not():
    """2c_vs_64zg: the plateau (level 2) and the lower band (level 1) are parted by a cliff wall
    at y 12-13 that the Colossus mover crosses; a zergling must take a ramp."""
    t = terrain("2c_vs_64zg")
    assert not t.walk[16, 12] and t.cliff[16, 12] and t.cliff[16, 13]
    allies = [("colossus", 1, (16.0, 15.9)), ("zergling", 1, (20.0, 15.9))]
    env = StarCraft2Env(
        custom_map("t", allies, [("marine", 1, (20.0, 10.0))], terrain="2c_vs_64zg"), seed=0, step_mul=16
    )
    env.reset()
    env.engine.set_units(0, health=np.array([1e6, 1e6, 1e6]))
    env.step([3, 3])  # both told to move 2 south (SMAC's mask reads the cell 1 south: pathable)
    u = units(env)
    assert u["y"][0] == pytest.approx(13.9)  # the colossus stands on the cliff wall
    assert u["y"][1] >= 14.375 - 1e-9  # the zergling stops at the wall (its radius 0.375)
    env.step([1, 6])  # the zergling attacks the marine 5.9 below: its route runs to a ramp
    env.step([1, 6])
    u = units(env)
    assert u["y"][1] >= 14.0 and u["x"][1] > 22.0  # along the plateau toward the ramp at x 25-27
