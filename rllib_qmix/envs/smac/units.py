"""Unit figures of the embedded SMAC simulator, with their sources and units, and SC2's clock.

The clock. StarCraft II runs 16 game loops per *Normal* game second; at the *Faster* speed
everyone plays (and Liquipedia quotes), that is 22.4 loops per real second. SMAC steps 8 loops
per agent step. The game's data files (SMAC's maps, SC2's data tables) hold *Normal* values, so
a Normal figure per second is ÷ 16 per loop, and a Faster figure per second is ÷ 22.4 per loop:

    loops = Normal seconds × 16 = Faster seconds × 22.4
    per loop = Normal per second / 16 = Faster per second / 22.4

Sources, named beside every figure the engine reads:

- [D] SC2's own data tables, ``data/sc2_data.json``, written by ``scripts/build_sc2_data.py``
  from noorus/sc2-gamedata ``v4.6.2.69232/units.json`` and ``weapons.json`` (the game version
  behind the SMAC paper; ``v4.8.2.71663``, the nearest to SMAC's 4.10, is identical for these
  units) and, for missile flight and the medivac's heal, SC2's XML catalogs (SC2Mapster/
  SC2GameData ``MoverData.xml``, ``EffectData.xml``, ``AbilData.xml``). The stock units, which
  SMAC's enemies are, and every weapon come from there, field by field (``_stock``).
- [M] SMAC's map files (oxwhirl/smac ``SMAC_Maps/*.SC2Map``, decoded into ``data/smac_maps.json``): the
  agents' passive "_RL" unit copies (HP, shields, armor, speed, sight, radius, regeneration,
  energy), read per map; they override the stock figures (``rl_unit``).
- [S] SMAC's ``starcraft2.py`` (``unit_max_cooldown``): the state's cooldown normalisers.

What the engine does with the figures, and what it approximates, is in ``choices.py``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
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


KIND_WEAPON, KIND_HEAL, KIND_LINE, KIND_BANE = 0, 1, 2, 3
PLANE_GROUND, PLANE_AIR, PLANE_MASSIVE = 0, 1, 2


@dataclass(frozen=True)
class UnitType:
    """Static figures of one unit type. Times in Normal game seconds, rates per Normal second,
    angles in degrees, distances in map units (weapon ranges edge to edge)."""

    name: str
    race: str  # "T", "P" or "Z"
    hp: float
    shield: float = 0.0
    armor: float = 0.0
    damage: float = 0.0  # per hit
    bonus_armored: float = 0.0
    bonus_light: float = 0.0
    hits: int = 1
    period: float = 1.0  # weapon period: from the start of one attack to the next
    range: float = 0.1
    speed: float = 0.0
    radius: float = 0.5
    sight: float = 9.0
    armored: bool = False
    light: bool = False
    biological: bool = False
    air: bool = False  # only anti-air weapons target it
    hits_air: bool = False  # its weapon targets air units
    kind: int = KIND_WEAPON
    max_cd: float = 15.0  # [S] the state's cooldown (or energy) normaliser, in loops
    regen: float = 0.0
    shield_regen: float = 0.0
    shield_delay: float = 0.0
    energy_max: float = 0.0
    energy_start: float = 0.0
    energy_regen: float = 0.0
    plane: int = PLANE_GROUND  # units collide only within a plane
    cliff_walk: bool = False  # the Colossus mover: crosses cliffs
    static: bool = False  # a structure: never moves
    priority: float = 20.0  # attackTargetPriority
    damage_point: float = 0.0  # from the start of an attack to its effect
    backswing: float = 0.0  # after the damage point, before the unit moves on
    range_slop: float = 0.0  # how far beyond range an attacked target may go
    min_scan: float = 0.0  # how far an idle or attack-moving unit looks for targets
    arc: float = 0.0  # the weapon's firing arc, degrees
    arc_slop: float = 11.25
    turn_rate: float = 999.8437  # degrees per Normal second
    delay_min: float = -0.0625  # random delay added to each period
    delay_max: float = 0.125
    missile_speed: float = 0.0  # launch speed of the weapon's missile (0 with acceleration ...
    missile_accel: float = 0.0  # ... 0 and max 0: no missile, the damage is instant)
    missile_max: float = 0.0
    first_hit: float = 0.0  # delay of the first hit after the damage point
    hit_gap: float = 0.0  # between the hits of one attack
    # A close-range weapon used instead when the target is within its range (the hydralisk's).
    melee_range: float = -1.0
    melee_period: float = 0.0
    melee_damage_point: float = 0.0
    melee_backswing: float = 0.0
    # Healers [D]: heal rate (life per second) and energy per life healed.
    heal_rate: float = 0.0
    heal_cost: float = 0.0
    splash: float = 0.0  # radius of a splash attack (the baneling's burst)


#: [S] SMAC's ``unit_max_cooldown`` normalisers of the state's cooldown feature, in loops (the
#: medivac's is its energy maximum).
MAX_CD = {
    "marine": 15,
    "marauder": 25,
    "medivac": 200,
    "stalker": 35,
    "zealot": 22,
    "colossus": 24,
    "hydralisk": 10,
    "zergling": 11,
    "baneling": 1,
    "spine_crawler": 15,
}

#: Our type names -> SC2's unit names [D].
SC2_NAMES = {
    "marine": "Marine",
    "marauder": "Marauder",
    "medivac": "Medivac",
    "stalker": "Stalker",
    "zealot": "Zealot",
    "colossus": "Colossus",
    "hydralisk": "Hydralisk",
    "zergling": "Zergling",
    "baneling": "Baneling",
    "spine_crawler": "SpineCrawler",
}
_RACES = {"terran": "T", "protoss": "P", "zerg": "Z"}


@lru_cache(maxsize=1)
def sc2_data() -> dict[str, Any]:
    """The packaged SC2 data tables (``data/sc2_data.json``), read once."""
    text = resources.files("rllib_qmix.envs.smac").joinpath("data/sc2_data.json").read_text()
    return json.loads(text)


def _weapon_fields(w: dict[str, Any], missiles: dict[str, Any]) -> dict[str, Any]:
    """The UnitType fields of a unit's main weapon [D weapons.json; missiles from MoverData]."""
    # The damage effects of one attack: one per hit (the baneling's second entry is its burst on
    # units; its first, 80, hits structures only and never meets a baneling here).
    hits = [h for h in w["damage"] if "structure" not in h["search_requires"]]
    first = hits[0]
    out: dict[str, Any] = dict(
        splash=first["splash"][0]["radius"] if first["splash"] else 0.0,
        damage=first["amount"],
        bonus_armored=first["bonus"].get("Armored", 0.0),
        bonus_light=first["bonus"].get("Light", 0.0),
        hits=len(hits),
        first_hit=hits[0]["delay"],
        hit_gap=hits[1]["delay"] - hits[0]["delay"] if len(hits) > 1 else 0.0,
        period=w["period"],
        range=w["range"],
        damage_point=w["damagePoint"],
        backswing=w["backSwing"],
        range_slop=w["rangeSlop"],
        min_scan=w["minScanRange"],
        arc=w["arc"],
        arc_slop=w["arcSlop"],
        delay_min=w["randomDelayMin"],
        delay_max=w["randomDelayMax"],
        hits_air="ground" not in w["filterRequires"],
    )
    if w["missile_effect"]:
        m = missiles[w["missile_effect"]]
        out.update(
            missile_speed=m.get("Speed", 0.0), missile_accel=m.get("Acceleration", 0.0), missile_max=m["MaxSpeed"]
        )
    return out


def _stock() -> dict[str, UnitType]:
    """SC2's stock units [D]: every field from the data tables, named per field below."""
    data = sc2_data()
    units, weapons, missiles = data["units"], data["weapons"], data["missiles"]
    out = {}
    for name, sc2 in SC2_NAMES.items():
        u = units[sc2]
        planes = u["planes"]
        f: dict[str, Any] = dict(
            race=_RACES[u["race"]],
            hp=u["lifeMax"],
            shield=u["shieldsMax"],
            armor=u["lifeArmor"],
            speed=u["speed"],
            radius=u["radius"],
            sight=u["sight"],
            armored=u["armored"],
            light=u["light"],
            biological=u["biological"],
            air="Ground" not in planes,
            regen=u["lifeRegenRate"],
            shield_regen=u["shieldRegenRate"],
            shield_delay=u["shieldRegenDelay"],
            energy_max=u["energyMax"],
            energy_start=u["energyStart"],
            energy_regen=u["energyRegenRate"],
            plane=PLANE_AIR if u["mover"] == "Fly" else PLANE_MASSIVE if u["mover"] == "Colossus" else PLANE_GROUND,
            cliff_walk=u["mover"] == "Colossus",
            static=u["structure"],
            priority=u["attackTargetPriority"],
            turn_rate=u["turningRate"],
            max_cd=MAX_CD[name],
        )
        main = [w for w in u["weapons"] if w not in ("VolatileBurstBuilding", "HydraliskMelee")]
        if main:
            f.update(_weapon_fields(weapons[main[0]], missiles))
            if weapons[main[0]]["suicide"]:
                f["kind"] = KIND_BANE
            elif name == "colossus":  # Thermal Lances: a beam across the target (choices.py)
                f["kind"] = KIND_LINE
        if "HydraliskMelee" in u["weapons"]:
            m = weapons["HydraliskMelee"]
            f.update(
                melee_range=m["range"],
                melee_period=m["period"],
                melee_damage_point=m["damagePoint"],
                melee_backswing=m["backSwing"],
            )
        if not u["weapons"] and name == "medivac":  # heals instead [D catalogs: MedivacHeal]
            heal = data["medivac_heal"]
            f.update(
                kind=KIND_HEAL,
                range=heal["range"],
                min_scan=heal["autocast_range"],
                heal_rate=heal["rate"],
                heal_cost=heal["energy_per_life"],
            )
        out[name] = UnitType(name, **f)
    return out


#: Stock units, SC2 4.6.2 = 4.8.2 [D].
STOCK: dict[str, UnitType] = _stock()
TYPE_NAMES: list[str] = list(STOCK)
TYPE_INDEX: dict[str, int] = {n: i for i, n in enumerate(TYPE_NAMES)}

#: Unit names of SMAC's map files (stock and "_RL" copies) -> our type names. "Colosus_RL" is
#: the 1c3s5z map's own spelling.
MAP_UNIT_NAMES: dict[str, str] = {
    **{sc2: ours for ours, sc2 in SC2_NAMES.items()},
    **{f"{sc2}_RL": ours for ours, sc2 in SC2_NAMES.items() if ours != "spine_crawler"},
    "Colosus_RL": "colossus",
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
# game loops, map units per loop; angles as cosines and sines).
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
    P_DP,
    P_BSW,
    P_SLOP,
    P_ARCCOS,
    P_TURNCOS,
    P_TURNSIN,
    P_MSPD,
    P_MACC,
    P_MMAX,
    P_HIT1,
    P_HITGAP,
    P_DLYMIN,
    P_DLYMAX,
    P_MRANGE,
    P_MCD,
    P_MDP,
    P_MBSW,
    P_PRIO,
    P_HEAL,
    P_HEALCOST,
    P_SPLASH,
) = range(53)
N_PARAMS = 53

#: SMAC v1's observation sight range and attack-mask range, the same for every unit
#: (``unit_sight_range`` 9, ``unit_shoot_range`` 6 in SMAC's ``starcraft2.py``); SMACv2's
#: per-type ranges replace them (``rllib_qmix.envs.smacv2``).
SMAC_VIEW_RANGE = 9.0
SMAC_SHOOT_RANGE = 6.0


def param_row(u: UnitType, view: float = SMAC_VIEW_RANGE, shoot: float = SMAC_SHOOT_RANGE) -> np.ndarray:
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
    row[P_SCAN] = max(u.range, u.min_scan)  # an acquiring unit looks at least as far as it shoots
    row[P_CHASE] = u.sight
    row[P_SIGHT] = u.sight
    row[P_VIEW], row[P_SHOOT] = view, shoot
    row[P_DP], row[P_BSW], row[P_SLOP] = loops(u.damage_point), loops(u.backswing), u.range_slop
    # Facing is a unit vector: the weapon's arc as the cosine of the largest angle off the
    # target, one loop's turn as a rotation.
    row[P_ARCCOS] = math.cos(math.radians(min(u.arc / 2.0 + u.arc_slop, 180.0)))
    turn = math.radians(min(per_loop(u.turn_rate), 180.0))
    row[P_TURNCOS], row[P_TURNSIN] = math.cos(turn), math.sin(turn)
    row[P_MSPD], row[P_MACC] = per_loop(u.missile_speed), u.missile_accel / LOOPS_PER_NORMAL_SECOND**2
    row[P_MMAX] = per_loop(u.missile_max)
    row[P_HIT1], row[P_HITGAP] = loops(u.first_hit), loops(u.hit_gap)
    row[P_DLYMIN], row[P_DLYMAX] = loops(u.delay_min), loops(u.delay_max)
    row[P_MRANGE], row[P_MCD] = u.melee_range, loops(u.melee_period)
    row[P_MDP], row[P_MBSW] = loops(u.melee_damage_point), loops(u.melee_backswing)
    row[P_PRIO] = u.priority
    row[P_HEAL], row[P_HEALCOST] = per_loop(u.heal_rate), u.heal_cost
    row[P_SPLASH] = u.splash
    return row
