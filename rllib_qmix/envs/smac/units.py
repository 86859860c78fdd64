"""Unit statistics of the embedded SMAC simulator.

All times and speeds are SC2 "Faster" game speed values (smac-reference.md §3); the engine
runs 16 game loops per second, so a cooldown of ``c`` seconds is ``16 * c`` loops and a speed of
``v`` per second is ``v / 16`` per loop. Unconfirmed values are chosen in ``choices.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import choices as C

LOOPS_PER_SECOND = 16.0


@dataclass(frozen=True)
class UnitType:
    """Static statistics of one unit type (Faster-speed units)."""

    name: str
    race: str  # "T", "P" or "Z"
    hp: float
    shield: float = 0.0
    armor: float = 0.0
    damage: float = 0.0
    bonus_armored: float = 0.0
    bonus_light: float = 0.0
    hits: int = 1
    cooldown: float = 1.0  # seconds
    range: float = 0.1  # edge-to-edge weapon range
    speed: float = 0.0  # map units per second
    radius: float = 0.5
    sight: float = 9.0
    armored: bool = False
    light: bool = False
    air: bool = False
    hits_air: bool = False
    kind: int = 0  # 0 weapon, 1 healer, 2 line splash (colossus), 3 kamikaze splash (baneling)
    max_cd: float = 15.0  # SMAC's state normaliser for cooldown (or energy)
    regen: float = 0.0  # health per second
    energy_max: float = 0.0
    energy_start: float = 0.0
    plane: int = 0  # units collide only with units of the same plane (0 ground, 1 air, 2 massive)
    cliff_walk: bool = False


KIND_WEAPON, KIND_HEAL, KIND_LINE, KIND_BANE = 0, 1, 2, 3

UNIT_TYPES: dict[str, UnitType] = {
    u.name: u
    for u in [
        UnitType(
            "marine",
            "T",
            45,
            armor=0,
            damage=6,
            cooldown=0.61,
            range=5,
            speed=3.15,
            radius=0.375,
            light=True,
            hits_air=True,
            max_cd=15,
        ),
        UnitType(
            "marauder",
            "T",
            125,
            armor=1,
            damage=10,
            bonus_armored=10,
            cooldown=1.07,
            range=6,
            speed=3.15,
            radius=0.5625,
            sight=10,
            armored=True,
            hits_air=False,
            max_cd=25,
        ),
        UnitType(
            "medivac",
            "T",
            150,
            armor=1,
            range=C.MEDIVAC_HEAL_RANGE,
            speed=C.MEDIVAC_SPEED,
            radius=0.75,
            sight=11,
            armored=True,
            air=True,
            kind=KIND_HEAL,
            max_cd=200,
            energy_max=200,
            energy_start=50,
            plane=1,
        ),
        UnitType(
            "stalker",
            "P",
            80,
            shield=80,
            armor=1,
            damage=13,
            bonus_armored=5,
            cooldown=1.34,
            range=6,
            speed=4.13,
            radius=0.625,
            sight=10,
            armored=True,
            hits_air=True,
            max_cd=35,
        ),
        UnitType(
            "zealot",
            "P",
            100,
            shield=50,
            armor=1,
            damage=8,
            hits=2,
            cooldown=0.86,
            range=0.1,
            speed=3.15,
            radius=0.5,
            light=True,
            max_cd=22,
        ),
        UnitType(
            "colossus",
            "P",
            200,
            shield=150,
            armor=1,
            damage=10,
            bonus_light=5,
            hits=2,
            cooldown=1.07,
            range=7,
            speed=3.15,
            radius=1.0,
            sight=10,
            armored=True,
            kind=KIND_LINE,
            max_cd=24,
            plane=2,
            cliff_walk=True,
        ),
        UnitType(
            "hydralisk",
            "Z",
            80,
            damage=12,
            cooldown=0.59,
            range=5,
            speed=3.15,
            radius=0.625,
            hits_air=True,
            max_cd=10,
            regen=C.ZERG_REGEN,
        ),
        UnitType(
            "zergling",
            "Z",
            35,
            damage=5,
            cooldown=0.497,
            range=0.1,
            speed=4.13,
            radius=0.375,
            sight=8,
            light=True,
            max_cd=11,
            regen=C.ZERG_REGEN,
        ),
        UnitType(
            "baneling",
            "Z",
            30,
            damage=C.BANELING_DAMAGE,
            bonus_light=C.BANELING_BONUS_LIGHT,
            cooldown=1.0,
            range=0.25,
            speed=C.BANELING_SPEED,
            radius=0.375,
            sight=8,
            kind=KIND_BANE,
            max_cd=1,
            regen=C.ZERG_REGEN,
        ),
        UnitType(
            "spine_crawler",
            "Z",
            300,
            armor=2,
            damage=25,
            bonus_armored=5,
            cooldown=1.32,
            range=7,
            speed=0.0,
            radius=C.SPINE_RADIUS,
            sight=11,
            armored=True,
            max_cd=15,
            regen=C.ZERG_REGEN,
        ),
    ]
}
TYPE_NAMES: list[str] = list(UNIT_TYPES)
TYPE_INDEX: dict[str, int] = {n: i for i, n in enumerate(TYPE_NAMES)}

# Column indices of the per-unit parameter table used by the numba kernels.
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
) = range(25)
N_PARAMS = 25


def param_row(u: UnitType) -> np.ndarray:
    """The unit's statistics as a float64 row in engine units (loops, distance per loop)."""
    row = np.zeros(N_PARAMS, np.float64)
    row[P_HP], row[P_SH], row[P_ARMOR] = u.hp, u.shield, u.armor
    row[P_DMG], row[P_BARM], row[P_BLIGHT], row[P_HITS] = (u.damage, u.bonus_armored, u.bonus_light, u.hits)
    row[P_CD] = u.cooldown * LOOPS_PER_SECOND
    row[P_RANGE], row[P_SPEED], row[P_RADIUS] = u.range, u.speed / LOOPS_PER_SECOND, u.radius
    row[P_ARMORED], row[P_LIGHT], row[P_AIR], row[P_HITS_AIR] = (u.armored, u.light, u.air, u.hits_air)
    row[P_KIND], row[P_MAXCD], row[P_REGEN] = u.kind, u.max_cd, u.regen / LOOPS_PER_SECOND
    row[P_EMAX], row[P_ESTART], row[P_PLANE], row[P_CLIFF] = (u.energy_max, u.energy_start, u.plane, u.cliff_walk)
    row[P_SCAN] = max(u.range, C.MIN_SCAN_RANGE)
    row[P_CHASE] = u.sight
    row[P_SIGHT] = u.sight
    return row
