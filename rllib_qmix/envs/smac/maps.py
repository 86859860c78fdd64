"""The 23 SMAC maps: armies, episode limits, spawns, the enemy's order and the terrain.

Each map joins two sources:

- SMAC's ``smac_maps.py`` (code): the episode limit and the ``map_type``, which fixes the unit
  type one-hot order of observations and state (and SMAC's stalker/zealot quirk for enemies).
- SMAC's ``.SC2Map`` files (``data/smac_maps.json``, see terrain.py): the armies as the map
  script creates them (unit, count, point), the enemy's order, the "_RL" unit figures of the
  agents' units, and the terrain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .terrain import map_data
from .units import MAP_UNIT_NAMES

#: The enemy's order: SMAC's map scripts attack-move to a point, give none, or attack the ally
#: unit group; SMACv2's map orders every enemy without an order to attack the closest agent unit.
ORDER_ATTACK_MOVE, ORDER_NONE, ORDER_HUNT, ORDER_CLOSEST_UNIT = 0, 1, 2, 3

Group = tuple[str, int, tuple[float, float]]  # (unit type, count, spawn point)


@dataclass(frozen=True)
class MapSpec:
    """Everything the engine needs to build one battle."""

    name: str
    allies: tuple[Group, ...]
    enemies: tuple[Group, ...]
    limit: int
    map_type: str
    terrain: str = "open"
    ally_type_order: tuple[str, ...] = ()
    enemy_type_order: tuple[str, ...] = ()
    enemy_order: int = ORDER_ATTACK_MOVE
    attack_point: tuple[float, float] = (9.0, 16.0)
    # attack-move to a point drawn at every reset on the segment between two points
    attack_segment: tuple[tuple[float, float], tuple[float, float]] | None = None
    #: The map's own figures of the agents' units, by type ("_RL" unit data fields).
    ally_fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Units created at exactly their points, no engine spread or jitter (custom scenarios).
    exact_spawn: bool = False

    @property
    def n_agents(self) -> int:
        return sum(g[1] for g in self.allies)

    @property
    def n_enemies(self) -> int:
        return sum(g[1] for g in self.enemies)

    @property
    def unit_type_bits(self) -> int:
        return len(self.ally_type_order)


MMM_T = ("marauder", "marine", "medivac")
SZ_T = ("stalker", "zealot")
SZ_ENEMY_T = ("zealot", "stalker")  # SMAC quirk: enemy one-hot swaps stalker/zealot on s&z maps
CSZ_T = ("colossus", "stalker", "zealot")
BANE_T = ("baneling", "zergling")

#: SMAC's smac_maps.py: episode limit and map_type of each map.
_SMAC_PARAMS: dict[str, tuple[int, str]] = {
    "3m": (60, "marines"),
    "8m": (120, "marines"),
    "25m": (150, "marines"),
    "5m_vs_6m": (70, "marines"),
    "8m_vs_9m": (120, "marines"),
    "10m_vs_11m": (150, "marines"),
    "27m_vs_30m": (180, "marines"),
    "MMM": (150, "MMM"),
    "MMM2": (180, "MMM"),
    "2s3z": (120, "stalkers_and_zealots"),
    "3s5z": (150, "stalkers_and_zealots"),
    "3s5z_vs_3s6z": (170, "stalkers_and_zealots"),
    "1c3s5z": (180, "colossi_stalkers_zealots"),
    "3s_vs_3z": (150, "stalkers"),
    "3s_vs_4z": (200, "stalkers"),
    "3s_vs_5z": (250, "stalkers"),
    "2m_vs_1z": (150, "marines"),
    "2s_vs_1sc": (300, "stalkers"),
    "corridor": (400, "zealots"),
    "6h_vs_8z": (150, "hydralisks"),
    "so_many_baneling": (100, "zealots"),
    "bane_vs_bane": (200, "bane"),
    "2c_vs_64zg": (400, "colossus"),
}
#: map_type -> (ally one-hot order, enemy one-hot order); no one-hot for single-type maps.
_TYPE_ORDERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "MMM": (MMM_T, MMM_T),
    "stalkers_and_zealots": (SZ_T, SZ_ENEMY_T),
    "colossi_stalkers_zealots": (CSZ_T, CSZ_T),
    "bane": (BANE_T, BANE_T),
}


def _groups(entries: list[dict]) -> tuple[Group, ...]:
    return tuple(
        (MAP_UNIT_NAMES[g["unit"]], int(g["count"]), (float(g["pos"][0]), float(g["pos"][1]))) for g in entries
    )


def _from_data(name: str) -> MapSpec:
    limit, map_type = _SMAC_PARAMS[name]
    data = map_data()["maps"][name]
    ally_order, enemy_order = _TYPE_ORDERS.get(map_type, ((), ()))
    order = data["order"]
    kind, point, segment = ORDER_NONE, (16.0, 16.0), None
    if order["type"] == "attack_move_point":
        kind, point = ORDER_ATTACK_MOVE, tuple(order["target"])
    elif order["type"] == "attack_move_random_point_between":
        (a, b) = (tuple(t["pos"]) for t in order["targets"])
        kind, point, segment = ORDER_ATTACK_MOVE, a, (a, b)
    elif order["type"] == "attack_unit_group":
        kind = ORDER_HUNT
    elif order["type"] != "none":
        raise ValueError(f"map {name}: unknown enemy order {order['type']!r}")
    return MapSpec(
        name=name,
        allies=_groups(data["allies"]),
        enemies=_groups(data["enemies"]),
        limit=limit,
        map_type=map_type,
        terrain=name,
        ally_type_order=ally_order,
        enemy_type_order=enemy_order,
        enemy_order=kind,
        attack_point=point,
        attack_segment=segment,
        ally_fields={MAP_UNIT_NAMES[u]: f for u, f in data["units"].items()},
    )


MAPS: dict[str, MapSpec] = {name: _from_data(name) for name in _SMAC_PARAMS}
MAP_NAMES: tuple[str, ...] = tuple(MAPS)


def get_map(name: str | MapSpec) -> MapSpec:
    """The map of that name (or the MapSpec itself); unknown names list all map names."""
    if isinstance(name, MapSpec):
        return name
    if name not in MAPS:
        raise ValueError(f"unknown SMAC map {name!r}; available maps: {', '.join(MAP_NAMES)}")
    return MAPS[name]


def custom_map(
    name: str,
    allies: list[Group],
    enemies: list[Group],
    limit: int = 100,
    terrain: str = "open",
    enemy_order: int = ORDER_NONE,
    attack_point: tuple[float, float] = (9.0, 16.0),
    map_type: str = "custom",
    ally_type_order: tuple[str, ...] = (),
    enemy_type_order: tuple[str, ...] = (),
) -> MapSpec:
    """A small scenario for tests and experiments: units at exactly their points, stock figures.

    ``terrain`` is a SMAC map's name (its ground) or ``"open"`` (the whole 32x32 map walkable).
    """
    return MapSpec(
        name,
        tuple(allies),
        tuple(enemies),
        limit,
        map_type,
        terrain,
        ally_type_order,
        enemy_type_order,
        enemy_order,
        attack_point,
        exact_spawn=True,
    )
