"""``SMACv2Env``: SMACv2's API over the embedded simulator, and its ``capability_config``.

Two ways to name a battle generator:

    SMACv2Env("protoss_5_vs_5", seed=0)                         # one of the 15 scenarios
    StarCraftCapabilityEnvWrapper(map_name="10gen_protoss", capability_config={
        "n_units": 5, "n_enemies": 5,
        "team_gen": {"dist_type": "weighted_teams", "unit_types": ["stalker", "zealot", "colossus"],
                     "weights": [0.45, 0.45, 0.1], "observe": True},
        "start_positions": {"dist_type": "surrounded_and_reflect", "p": 0.5, "map_x": 32, "map_y": 32},
    }, seed=0)                                                   # upstream's constructor

Keyword options are SMAC's plus SMACv2's (``engine.SMACV2_OPTIONS``), defaulting to the values
of SMACv2's configs (``obs_own_pos``, ``use_unit_ranges``, ``min_attack_range=2``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rllib_qmix.envs.smac.env import StarCraft2Env

from .engine import SMACv2Engine
from .scenarios import (
    MAP_SIZE,
    RACE_EXCEPTIONS,
    RACE_UNITS,
    RACE_WEIGHTS,
    START_POSITIONS,
    Scenario,
    get_scenario,
    make_scenario,
)

#: upstream's map names of the three races (``smac_maps.py``)
GEN_MAPS = {"10gen_protoss": "protoss", "10gen_terran": "terran", "10gen_zerg": "zerg"}
_TEAM_KEYS = {"dist_type", "unit_types", "weights", "exception_unit_types", "observe", "n_units", "n_enemies"}
_START_KEYS = {"dist_type", "p", "map_x", "map_y", "n_units", "n_enemies"}


def scenario_from_capability_config(capability_config: dict[str, Any], map_name: str | None = None) -> Scenario:
    """A ``Scenario`` from upstream's ``capability_config`` (and ``map_name`` "10gen_<race>").

    Raises one ``ValueError`` naming the problem: a missing or unknown key, a distribution other
    than ``weighted_teams`` / ``fixed_team`` and ``surrounded_and_reflect`` / ``surrounded`` /
    ``reflect``, unit types of another race, weights that are not probabilities, a map size
    other than 32, or ``n_enemies < n_units``.
    """
    cfg = dict(capability_config)
    unknown = set(cfg) - {"n_units", "n_enemies", "team_gen", "start_positions"}
    if unknown:
        raise ValueError(
            f"capability_config keys {sorted(unknown)} are not supported (SMACv2's 'attack', 'health' and "
            "'enemy_mask' capabilities are not implemented); use n_units, n_enemies, team_gen, start_positions"
        )
    for key in ("n_units", "n_enemies", "team_gen"):
        if key not in cfg:
            raise ValueError(f"capability_config needs {key!r} (see SMACv2's sc2_gen_*.yaml configs)")
    n_units, n_enemies = cfg["n_units"], cfg["n_enemies"]
    team = dict(cfg["team_gen"])
    bad = set(team) - _TEAM_KEYS
    if bad:
        raise ValueError(f"team_gen keys {sorted(bad)} are unknown; valid: {sorted(_TEAM_KEYS)}")
    if team.get("observe", True) is not True:
        raise ValueError("team_gen observe=False (unit types hidden from the observation) is not implemented")
    types = [str(t) for t in team.get("unit_types", ())]
    race = GEN_MAPS.get(map_name or "")
    if map_name is not None and race is None:
        raise ValueError(f"unknown SMACv2 map {map_name!r}; use one of {sorted(GEN_MAPS)}")
    races = {r for r, units in RACE_UNITS.items() if types and set(types) <= set(units)}
    if types and not races:
        raise ValueError(f"team_gen unit_types {types} are not all units of one race: {dict(RACE_UNITS)}")
    if race is None:
        if not races:
            raise ValueError("give map_name ('10gen_<race>') or team_gen unit_types to choose the race")
        race = races.pop()
    elif types and race not in races:
        raise ValueError(f"team_gen unit_types {types} are not {race} units {list(RACE_UNITS[race])}")
    dist = team.get("dist_type", "weighted_teams")
    order = RACE_UNITS[race]
    weights, fixed = None, None
    if dist == "weighted_teams":
        if "weights" in team:
            if len(team["weights"]) != len(types):
                raise ValueError(f"team_gen has {len(types)} unit_types but {len(team['weights'])} weights")
            given = dict(zip(types, (float(w) for w in team["weights"])))
            weights = tuple(given.get(t, 0.0) for t in order)
        elif types:
            raise ValueError("team_gen weighted_teams needs weights beside unit_types")
    elif dist == "fixed_team":
        fixed = tuple(types)
    else:
        raise ValueError(f"team_gen dist_type {dist!r} is not available; use 'weighted_teams' or 'fixed_team'")
    exceptions = team.get("exception_unit_types")
    start = dict(cfg.get("start_positions", {"dist_type": "surrounded_and_reflect"}))
    bad = set(start) - _START_KEYS
    if bad:
        raise ValueError(f"start_positions keys {sorted(bad)} are unknown; valid: {sorted(_START_KEYS)}")
    for axis in ("map_x", "map_y"):
        if float(start.get(axis, MAP_SIZE)) != MAP_SIZE:
            raise ValueError(f"start_positions {axis}={start[axis]!r}: SMACv2's map 32x32_flat is 32 wide")
    mode = start.get("dist_type", "surrounded_and_reflect")
    if mode not in START_POSITIONS:
        raise ValueError(f"start_positions dist_type {mode!r} is not available; use one of {list(START_POSITIONS)}")
    return make_scenario(
        race,
        n_units,
        n_enemies,
        weights=weights,
        exceptions=None if exceptions is None else tuple(exceptions),
        start_positions=mode,
        p_reflect=float(start.get("p", 0.5)),
        fixed_team=fixed,
        name=f"{race}_{n_units}_vs_{n_enemies}",
    )


def capability_config(scenario: str | Scenario) -> dict[str, Any]:
    """Upstream's ``capability_config`` of a scenario (the inverse of ``scenario_from_capability_config``)."""
    s = get_scenario(scenario)
    team: dict[str, Any] = {"dist_type": "weighted_teams", "unit_types": list(s.unit_types), "observe": True}
    if s.fixed_team is not None:
        team = {"dist_type": "fixed_team", "unit_types": list(s.fixed_team), "observe": True}
    else:
        team["weights"] = list(s.weights)
    if s.exceptions:
        team["exception_unit_types"] = list(s.exceptions)
    return {
        "n_units": s.n_units,
        "n_enemies": s.n_enemies,
        "team_gen": team,
        "start_positions": {"dist_type": s.start_positions, "p": s.p_reflect, "map_x": 32, "map_y": 32},
    }


class SMACv2Env(StarCraft2Env):
    """SMACv2 on the embedded simulator: ``SMACv2Env(scenario, seed=..., **options)``.

    ``scenario`` is a name of ``SCENARIO_NAMES`` (e.g. "protoss_5_vs_5") or a ``Scenario``
    (``make_scenario``: other sizes, fixed teams, only surrounded or only reflect starts).
    The same seed gives the same episodes, teams and positions included. ``max_reward`` is
    recomputed every episode from that episode's enemies (SMACv2 keeps its first episode's).
    """

    def __init__(self, scenario: str | Scenario = "protoss_5_vs_5", seed: int | None = None, **kwargs: Any) -> None:
        self.scenario = get_scenario(scenario)
        super().__init__(self.scenario.name, seed=seed, **kwargs)
        self.race = self.scenario.race

    def _make_engine(self, map_name: Any, seed: int | None, kwargs: dict[str, Any]) -> SMACv2Engine:
        return SMACv2Engine(self.scenario, 1, [seed], **kwargs)

    @property
    def max_reward(self) -> float:  # type: ignore[override]
        """SMAC's ``max_reward`` of the current episode (its enemies' life and shields)."""
        return self._engine.battle_max_reward(0)

    @max_reward.setter
    def max_reward(self, value: float) -> None:  # the base class sets it once; it is per episode here
        pass

    @property
    def start_mode(self) -> str:
        """How the current episode started: "surrounded" or "reflect"."""
        return self._engine.start_modes[0]

    def unit_types(self) -> list[str]:
        """The current episode's unit types, agents (in id order) then enemies."""
        return list(self._engine.battle_unit_types(0))

    def get_capabilities(self) -> np.ndarray:
        """float32 [n_agents, 3]: each agent's unit-type one-hot (SMACv2's ``get_capabilities``)."""
        caps = np.zeros((self.n_agents, 3), np.float32)
        caps[np.arange(self.n_agents), self._engine.TIX[0, : self.n_agents]] = 1.0
        return caps

    def get_cap_size(self) -> int:
        return 3

    def get_env_info(self) -> dict[str, Any]:
        info = super().get_env_info()
        info["cap_shape"] = 3
        return info


class StarCraftCapabilityEnvWrapper(SMACv2Env):
    """Upstream's constructor: ``StarCraftCapabilityEnvWrapper(capability_config=..., map_name=...)``.

    ``map_name`` is "10gen_protoss", "10gen_terran" or "10gen_zerg" (or None: the race of the
    team's unit types); other keywords are ``SMACv2Env``'s.
    """

    def __init__(
        self,
        capability_config: dict[str, Any],
        map_name: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scenario_from_capability_config(capability_config, map_name), seed=seed, **kwargs)


__all__ = [
    "SMACv2Env",
    "StarCraftCapabilityEnvWrapper",
    "scenario_from_capability_config",
    "capability_config",
    "GEN_MAPS",
    "RACE_EXCEPTIONS",
    "RACE_WEIGHTS",
]
