"""Unit figures of the embedded SMAC simulator, with their sources and units, and SC2's clock.

The clock. StarCraft II runs 16 game loops per *Normal* game second; at the *Faster* speed
everyone plays (and Liquipedia quotes), that is 22.4 loops per real second. SMAC steps 8 loops
per agent step. The game's data files (SMAC's maps, SC2's WeaponData) hold *Normal* values, so
a Normal figure per second is ÷ 16 per loop, and a Faster figure per second is ÷ 22.4 per loop:

    loops = Normal seconds × 16 = Faster seconds × 22.4
    per loop = Normal per second / 16 = Faster per second / 22.4

Every figure below is a Normal value, written as the data file holds it, with its source:

- [M] SMAC's map files (``shared/data/smac_maps``, packaged in ``data/smac_maps.json``): the
  agents' passive "_RL" unit copies (HP, shields, armor, speed, sight, radius, regeneration,
  energy). These are read per map from the data file and override the stock figures below.
- [W] SC2 4.10's stock data (WeaponData/UnitData, the build SMAC's results use): weapons of
  every unit, and the stock units the enemy fields. Liquipedia's Faster figures are these
  divided by 1.4 (e.g. the marine's 0.8608 s period is Liquipedia's 0.61 s).
- [S] SMAC's ``starcraft2.py`` (``unit_max_cooldown``): the state's cooldown normalisers.

Unconfirmed mechanics (what the engine does with these figures) are chosen in ``choices.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Optional

import numpy as np

#: Game loops per Normal game second (SC2's clock); one SMAC step is ``step_mul`` = 8 loops.
LOOPS_PER_NORMAL_SECOND = 16.0
#: Game loops per real second at the Faster speed (= 16 × 1.4).
LOOPS_PER_FASTER_SECOND = 22.4


def loops(normal_seconds: float) -> float:
    """A duration in Normal game seconds as game loops."""
    return normal_seconds * LOOPS_PER_NORMAL_SECOND


def per_loop(normal_per_second: float) -> float:
    """A rate per Normal game second (speed, regeneration) as a rate per game loop."""
    return normal_per_second / LOOPS_PER_NORMAL_SECOND


@dataclass(frozen=True)
class UnitType:
    """Static figures of one unit type. Times in Normal game seconds, rates per Normal second."""

    name: str
    race: str  # "T", "P" or "Z"
    hp: float
    shield: float = 0.0
    armor: float = 0.0
    damage: float = 0.0
    bonus_armored: float = 0.0
    bonus_light: float = 0.0
    hits: int = 1
    period: float = 1.0  # weapon period (cooldown), Normal seconds
    range: float = 0.1  # edge-to-edge weapon range
    speed: float = 0.0  # map units per Normal second
    radius: float = 0.5
    sight: float = 9.0
    armored: bool = False
    light: bool = False
    biological: bool = False
    air: bool = False  # an air unit (targetable by anti-air weapons only)
    hits_air: bool = False  # its weapon can target air units
    kind: int = 0  # 0 weapon, 1 healer, 2 line splash (colossus), 3 kamikaze splash (baneling)
    max_cd: float = 15.0  # [S] the state's cooldown (or energy) normaliser, in loops
    regen: float = 0.0  # life regeneration per Normal second
    shield_regen: float = 0.0  # shield regeneration per Normal second ...
    shield_delay: float = 0.0  # ... after this many Normal seconds without damage
    energy_max: float = 0.0
    energy_start: float = 0.0
    energy_regen: float = 0.0  # per Normal second
    plane: int = 0  # units collide only within a plane: 0 ground, 1 air, 2 massive (colossus)
    cliff_walk: bool = False  # the Colossus mover: crosses cliffs
    static: bool = False  # a structure: never moves


KIND_WEAPON, KIND_HEAL, KIND_LINE, KIND_BANE = 0, 1, 2, 3
PLANE_GROUND, PLANE_AIR, PLANE_MASSIVE = 0, 1, 2

#: Protoss shields [M]: every "_RL" Protoss unit regenerates 2 shield per Normal second after
#: 10 Normal seconds without damage (ShieldRegenRate 2, ShieldRegenDelay 10); stock units too.
_PROTOSS_SHIELDS = {"shield_regen": 2.0, "shield_delay": 10.0}
#: Zerg life regeneration [M]: LifeRegenRate 0.2734 per Normal second (Hydralisk_RL,
#: Zergling_RL, Baneling_RL); stock Zerg units the same.
_ZERG_REGEN = 0.2734

#: Stock units, SC2 4.10 [W] (HP, armor, speed, radius, sight as in UnitData; weapons as in
#: WeaponData: damage, bonus, attacks per volley, Period in Normal seconds, Range).
STOCK: dict[str, UnitType] = {
    u.name: u
    for u in [
        # Marine: C-14 Gauss Rifle 6 dmg, period 0.8608, range 5; speed 2.25, radius 0.375.
        UnitType(
            "marine",
            "T",
            45,
            damage=6,
            period=0.8608,
            range=5,
            speed=2.25,
            radius=0.375,
            sight=9,
            light=True,
            biological=True,
            hits_air=True,
            max_cd=15,
        ),
        # Marauder: Punisher Grenades 10 (+10 armored), period 1.5, range 6; ground only.
        UnitType(
            "marauder",
            "T",
            125,
            armor=1,
            damage=10,
            bonus_armored=10,
            period=1.5,
            range=6,
            speed=2.25,
            radius=0.5625,
            sight=10,
            armored=True,
            biological=True,
            max_cd=25,
        ),
        # Medivac: heals (choices.py), energy 200 max, 50 at start, 0.5625/s; speed 2.5 (stock).
        UnitType(
            "medivac",
            "T",
            150,
            armor=1,
            range=4,
            speed=2.5,
            radius=0.75,
            sight=11,
            armored=True,
            air=True,
            kind=KIND_HEAL,
            max_cd=200,
            energy_max=200,
            energy_start=50,
            energy_regen=0.5625,
            plane=PLANE_AIR,
        ),
        # Stalker: Particle Disruptors 13 (+5 armored), period 1.87, range 6; speed 2.9531.
        UnitType(
            "stalker",
            "P",
            80,
            shield=80,
            armor=1,
            damage=13,
            bonus_armored=5,
            period=1.87,
            range=6,
            speed=2.9531,
            radius=0.625,
            sight=10,
            armored=True,
            hits_air=True,
            max_cd=35,
            **_PROTOSS_SHIELDS,
        ),
        # Zealot: Psi Blades 8 x2, period 1.2, melee range 0.1; speed 2.25 (no Charge).
        UnitType(
            "zealot",
            "P",
            100,
            shield=50,
            armor=1,
            damage=8,
            hits=2,
            period=1.2,
            range=0.1,
            speed=2.25,
            radius=0.5,
            sight=9,
            light=True,
            biological=True,
            max_cd=22,
            **_PROTOSS_SHIELDS,
        ),
        # Colossus: Thermal Lances 10 (+5 light) x2, period 1.5, range 7, line splash.
        UnitType(
            "colossus",
            "P",
            200,
            shield=150,
            armor=1,
            damage=10,
            bonus_light=5,
            hits=2,
            period=1.5,
            range=7,
            speed=2.25,
            radius=1.0,
            sight=10,
            armored=True,
            kind=KIND_LINE,
            max_cd=24,
            plane=PLANE_MASSIVE,
            cliff_walk=True,
            **_PROTOSS_SHIELDS,
        ),
        # Hydralisk: Needle Spines 12, period 0.83, range 5 (no upgrade); HP 90 stock (the
        # map's Hydralisk_RL has 80, which is what agents get).
        UnitType(
            "hydralisk",
            "Z",
            90,
            damage=12,
            period=0.83,
            range=5,
            speed=2.25,
            radius=0.625,
            sight=9,
            light=True,
            biological=True,
            hits_air=True,
            max_cd=10,
            regen=_ZERG_REGEN,
        ),
        # Zergling: Claws 5, period 0.696, melee range 0.1; speed 2.9531 (no Metabolic Boost).
        UnitType(
            "zergling",
            "Z",
            35,
            damage=5,
            period=0.696,
            range=0.1,
            speed=2.9531,
            radius=0.375,
            sight=8,
            light=True,
            biological=True,
            max_cd=11,
            regen=_ZERG_REGEN,
        ),
        # Baneling: Volatile Burst 16 (+19 light), splash radius 2.2 (choices.py); speed 2.5.
        UnitType(
            "baneling",
            "Z",
            30,
            damage=16,
            bonus_light=19,
            period=1.0,
            range=0.25,
            speed=2.5,
            radius=0.375,
            sight=8,
            biological=True,
            kind=KIND_BANE,
            max_cd=1,
            regen=_ZERG_REGEN,
        ),
        # Spine Crawler (rooted): Impaler Tentacle 25 (+5 armored), period 1.85, range 7.
        UnitType(
            "spine_crawler",
            "Z",
            300,
            armor=2,
            damage=25,
            bonus_armored=5,
            period=1.85,
            range=7,
            speed=0.0,
            radius=1.0,
            sight=11,
            armored=True,
            biological=True,
            max_cd=15,
            regen=_ZERG_REGEN,
            static=True,
        ),
    ]
}
TYPE_NAMES: list[str] = list(STOCK)
TYPE_INDEX: dict[str, int] = {n: i for i, n in enumerate(TYPE_NAMES)}

#: Unit names of SMAC's map files (stock and "_RL" copies) -> our type names. "Colosus_RL" is
#: the 1c3s5z map's own spelling.
MAP_UNIT_NAMES: dict[str, str] = {
    "Marine": "marine",
    "Marauder": "marauder",
    "Medivac": "medivac",
    "Stalker": "stalker",
    "Zealot": "zealot",
    "Colossus": "colossus",
    "Hydralisk": "hydralisk",
    "Zergling": "zergling",
    "Baneling": "baneling",
    "SpineCrawler": "spine_crawler",
    "Marine_RL": "marine",
    "Marauder_RL": "marauder",
    "Medivac_RL": "medivac",
    "Stalker_RL": "stalker",
    "Zealot_RL": "zealot",
    "Colossus_RL": "colossus",
    "Colosus_RL": "colossus",
    "Hydralisk_RL": "hydralisk",
    "Zergling_RL": "zergling",
    "Baneling_RL": "baneling",
}


def rl_unit(name: str, fields: Optional[dict[str, Any]]) -> UnitType:
    """The agents' "_RL" copy of a unit: the stock unit with the map's own figures [M].

    ``fields`` are the gameplay fields of the map's unit data entry (``data/smac_maps.json``);
    a field the entry leaves out keeps the stock value (e.g. Zealot_RL gives no Radius).
    """
    base = STOCK[name]
    if not fields:
        return base
    changes: dict[str, Any] = {}
    for field, attr in (
        ("LifeMax", "hp"),
        ("ShieldsMax", "shield"),
        ("LifeArmor", "armor"),
        ("Speed", "speed"),
        ("Sight", "sight"),
        ("Radius", "radius"),
        ("LifeRegenRate", "regen"),
        ("ShieldRegenRate", "shield_regen"),
        ("ShieldRegenDelay", "shield_delay"),
        ("EnergyMax", "energy_max"),
        ("EnergyStart", "energy_start"),
        ("EnergyRegenRate", "energy_regen"),
    ):
        if field in fields:
            changes[attr] = float(fields[field])
    return replace(base, **changes)


# Column indices of the per-unit parameter table used by the numba kernels (engine units:
# game loops, map units per loop).
(
    P_HP,
    P_SH,
    P_ARMOR,
    P_DMG,
    P_BARM,
    P_BLIGHT,
    P_HITS,
    P_CD,
    P_RANGE,
    P_SPEED,
    P_RADIUS,
    P_ARMORED,
    P_LIGHT,
    P_AIR,
    P_HITS_AIR,
    P_KIND,
    P_MAXCD,
    P_REGEN,
    P_EMAX,
    P_ESTART,
    P_PLANE,
    P_CLIFF,
    P_SCAN,
    P_CHASE,
    P_SIGHT,
    P_SHREGEN,
    P_SHDELAY,
    P_EREGEN,
    P_STATIC,
    P_BIO,
    P_VIEW,
    P_SHOOT,
) = range(32)
N_PARAMS = 32

#: SMAC v1's observation sight range and attack-mask range, the same for every unit
#: (``unit_sight_range`` 9, ``unit_shoot_range`` 6 in SMAC's ``starcraft2.py``); SMACv2's
#: per-type ranges replace them (``rllib_qmix.envs.smacv2``).
SMAC_VIEW_RANGE = 9.0
SMAC_SHOOT_RANGE = 6.0


def param_row(
    u: UnitType, min_scan_range: float, view: float = SMAC_VIEW_RANGE, shoot: float = SMAC_SHOOT_RANGE
) -> np.ndarray:
    """The unit's figures as a float64 row in engine units (game loops, distance per loop).

    ``view`` and ``shoot`` are the agent interface's ranges (centre to centre): the sight range
    of the unit's observation and the range within which its attack actions are available.
    """
    row = np.zeros(N_PARAMS, np.float64)
    row[P_HP], row[P_SH], row[P_ARMOR] = u.hp, u.shield, u.armor
    row[P_DMG], row[P_BARM], row[P_BLIGHT], row[P_HITS] = u.damage, u.bonus_armored, u.bonus_light, u.hits
    row[P_CD] = loops(u.period)
    row[P_RANGE], row[P_SPEED], row[P_RADIUS] = u.range, per_loop(u.speed), u.radius
    row[P_ARMORED], row[P_LIGHT], row[P_AIR], row[P_HITS_AIR] = u.armored, u.light, u.air, u.hits_air
    row[P_KIND], row[P_MAXCD], row[P_REGEN] = u.kind, u.max_cd, per_loop(u.regen)
    row[P_EMAX], row[P_ESTART], row[P_EREGEN] = u.energy_max, u.energy_start, per_loop(u.energy_regen)
    row[P_PLANE], row[P_CLIFF], row[P_STATIC], row[P_BIO] = u.plane, u.cliff_walk, u.static, u.biological
    row[P_SHREGEN], row[P_SHDELAY] = per_loop(u.shield_regen), loops(u.shield_delay)
    row[P_SCAN] = max(u.range, min_scan_range)
    row[P_CHASE] = u.sight
    row[P_SIGHT] = u.sight
    row[P_VIEW], row[P_SHOOT] = view, shoot
    return row
