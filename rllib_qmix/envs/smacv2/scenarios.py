"""SMACv2's races, unit figures, interface ranges and the 15 scenarios, with their sources.

Sources (read from oxwhirl/smacv2; facts only):

- [C] ``smacv2/examples/configs/sc2_gen_{protoss,terran,zerg}.yaml``: unit types and weights,
  exception types, ``n_units``/``n_enemies``, ``surrounded_and_reflect`` with p = 0.5 on a
  32x32 map, the observation options (``obs_own_pos``, ``use_unit_ranges``,
  ``min_attack_range`` 2, ``state_last_action``).
- [E] ``smacv2/env/starcraft2/starcraft2.py``: ``unit_sight_range`` / ``unit_shoot_range``
  (the per-type ranges below), ``get_unit_type_id`` (the type-bit order, the same for both
  sides), ``init_units`` (agents sorted by their "_RL" unit id, which the map numbers in
  alphabetical order, then x, then y), ``unit_max_cooldown`` (units.py's ``max_cd``).
- [D] ``smacv2/env/starcraft2/maps/smac_maps.py``: map ``32x32_flat``, limit 200, 3 type bits.
- [M] The map's "_RL" units (the reference's table): Normal speeds and HP/shields; a figure
  not listed there is SC2's stock value (``rllib_qmix.envs.smac.units``, from SC2 4.6.2 = 4.8.2's data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Race -> unit types in type-bit order [E] and their draw weights [C].
RACE_UNITS: dict[str, tuple[str, ...]] = {
    "protoss": ("stalker", "zealot", "colossus"),
    "terran": ("marine", "marauder", "medivac"),
    "zerg": ("zergling", "hydralisk", "baneling"),
}
RACE_WEIGHTS: dict[str, tuple[float, ...]] = {
    "protoss": (0.45, 0.45, 0.1),
    "terran": (0.45, 0.45, 0.1),
    "zerg": (0.45, 0.45, 0.1),
}
#: Types a team may not consist of only [C] (protoss has none: an all-colossus team is possible).
RACE_EXCEPTIONS: dict[str, tuple[str, ...]] = {"protoss": (), "terran": ("medivac",), "zerg": ("baneling",)}
#: SC2's race letter of each race (units.py's ``UnitType.race``).
RACE_LETTER = {"protoss": "P", "terran": "T", "zerg": "Z"}

#: Observation sight range and attack-action range of each unit type [E] (``use_unit_ranges``),
#: centre to centre, before ``min_attack_range`` raises the attack range.
SIGHT_RANGE: dict[str, float] = {
    "stalker": 10,
    "zealot": 9,
    "colossus": 10,
    "zergling": 8,
    "baneling": 8,
    "hydralisk": 9,
    "marine": 9,
    "marauder": 10,
    "medivac": 11,
}
SHOOT_RANGE: dict[str, float] = {
    "stalker": 6,
    "zealot": 0.1,
    "colossus": 7,
    "zergling": 0.1,
    "baneling": 0.25,
    "hydralisk": 5,
    "marine": 5,
    "marauder": 6,
    "medivac": 4,
}
#: The agents' "_RL" units where they differ from SC2's stock units [M] (units.py field names
#: of the map data): Hydralisk_RL has 80 HP (stock 90), Medivac_RL moves 2.75 (stock 2.5).
RL_FIELDS: dict[str, dict[str, Any]] = {"hydralisk": {"LifeMax": 80}, "medivac": {"Speed": 2.75}}

#: The agents' order key [E]: the map numbers its "_RL" types alphabetically, and SMACv2 sorts
#: the agents by that id, then x, then y.
SORT_KEY: dict[str, int] = {name: i for i, name in enumerate(sorted(SIGHT_RANGE))}

MAP_SIZE = 32.0  # [C] map_x = map_y = 32 (map 32x32_flat, open ground)
EPISODE_LIMIT = 200  # [D]
SIZES: dict[str, tuple[int, int]] = {
    "5_vs_5": (5, 5),
    "10_vs_10": (10, 10),
    "20_vs_20": (20, 20),
    "10_vs_11": (10, 11),
    "20_vs_23": (20, 23),
}


@dataclass(frozen=True)
class Scenario:
    """One SMACv2 battle generator: race, team sizes and the distributions to draw from.

    ``weights`` and ``exceptions`` give the team draw; ``start_positions`` is
    ``"surrounded_and_reflect"`` (surrounded with probability ``1 - p_reflect``),
    ``"surrounded"`` or ``"reflect"``; ``fixed_team`` (a tuple of ``n_units`` type names) replaces
    the ally draw (enemies are then its copy plus draws), for ablations.
    """

    name: str
    race: str
    n_units: int
    n_enemies: int
    weights: tuple[float, ...]
    exceptions: tuple[str, ...] = ()
    start_positions: str = "surrounded_and_reflect"
    p_reflect: float = 0.5
    fixed_team: tuple[str, ...] | None = None
    limit: int = EPISODE_LIMIT
    map_size: float = MAP_SIZE
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def unit_types(self) -> tuple[str, ...]:
        """The race's unit types in type-bit order."""
        return RACE_UNITS[self.race]


START_POSITIONS = ("surrounded_and_reflect", "surrounded", "reflect")


def _check(s: Scenario) -> Scenario:
    """The scenario itself, or one ValueError naming what is wrong with it."""
    if s.race not in RACE_UNITS:
        raise ValueError(f"unknown SMACv2 race {s.race!r}; use one of {sorted(RACE_UNITS)}")
    types = RACE_UNITS[s.race]
    if not isinstance(s.n_units, int) or s.n_units < 1:
        raise ValueError(f"n_units must be a positive int, got {s.n_units!r}")
    if not isinstance(s.n_enemies, int) or s.n_enemies < s.n_units:
        raise ValueError(
            f"n_enemies ({s.n_enemies!r}) must be an int >= n_units ({s.n_units}): SMACv2's enemy team is a "
            "copy of the ally team plus extra units"
        )
    if len(s.weights) != len(types) or any(w < 0 for w in s.weights) or abs(sum(s.weights) - 1.0) > 1e-6:
        raise ValueError(
            f"weights {list(s.weights)} must be {len(types)} non-negative probabilities of {list(types)} summing to 1"
        )
    bad = [t for t in s.exceptions if t not in types]
    if bad:
        raise ValueError(f"exception unit types {bad} are not {s.race} units {list(types)}")
    if all(w == 0 or t in s.exceptions for t, w in zip(types, s.weights)):
        raise ValueError(
            f"every unit type with a non-zero weight is an exception type {list(s.exceptions)}: no team can be drawn"
        )
    if s.start_positions not in START_POSITIONS:
        raise ValueError(f"unknown start_positions {s.start_positions!r}; use one of {list(START_POSITIONS)}")
    if not 0.0 <= s.p_reflect <= 1.0:
        raise ValueError(f"p (the probability of the reflect start) must be in [0, 1], got {s.p_reflect!r}")
    if s.fixed_team is not None:
        team = tuple(s.fixed_team)
        if len(team) != s.n_units or any(t not in types for t in team):
            raise ValueError(f"fixed_team {list(team)} must be {s.n_units} {s.race} unit types from {list(types)}")
        if s.exceptions and all(t in s.exceptions for t in team):
            raise ValueError(f"fixed_team {list(team)} has only exception units {list(s.exceptions)}")
    return s


def make_scenario(
    race: str,
    n_units: int,
    n_enemies: int,
    *,
    weights: tuple[float, ...] | None = None,
    exceptions: tuple[str, ...] | None = None,
    start_positions: str = "surrounded_and_reflect",
    p_reflect: float = 0.5,
    fixed_team: tuple[str, ...] | None = None,
    name: str | None = None,
) -> Scenario:
    """A checked scenario: the race's weights and exceptions [C] unless overridden."""
    return _check(
        Scenario(
            name=name or f"{race}_{n_units}_vs_{n_enemies}",
            race=race,
            n_units=n_units,
            n_enemies=n_enemies,
            weights=tuple(float(w) for w in (RACE_WEIGHTS.get(race, ()) if weights is None else weights)),
            exceptions=tuple(RACE_EXCEPTIONS.get(race, ()) if exceptions is None else exceptions),
            start_positions=start_positions,
            p_reflect=float(p_reflect),
            fixed_team=None if fixed_team is None else tuple(fixed_team),
        )
    )


#: The 15 scenarios of SMACv2's paper and configs: race x size.
SCENARIOS: dict[str, Scenario] = {
    f"{race}_{size}": make_scenario(race, n, m, name=f"{race}_{size}")
    for race in RACE_UNITS
    for size, (n, m) in SIZES.items()
}
SCENARIO_NAMES: tuple[str, ...] = tuple(SCENARIOS)


def get_scenario(name: str | Scenario) -> Scenario:
    """The scenario of that name (or the Scenario itself); an unknown name lists all names."""
    if isinstance(name, Scenario):
        return _check(name)
    if name not in SCENARIOS:
        race = str(name).split("_")[0]
        hint = "" if race in RACE_UNITS else f" (unknown race {race!r}; races: {', '.join(RACE_UNITS)})"
        raise ValueError(f"unknown SMACv2 scenario {name!r}{hint}; scenarios: {', '.join(SCENARIO_NAMES)}")
    return SCENARIOS[name]
