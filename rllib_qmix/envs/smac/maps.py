"""The 23 SMAC maps: armies, limits, spawn points, enemy orders and pathable arenas.

Numbers come from smac-reference.md §2. An arena is a 32x32 boolean grid indexed ``[x, y]``
(cell ``(int(x), int(y))`` holds the point ``(x, y)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np

from . import choices as C

ORDER_ATTACK_MOVE, ORDER_NONE, ORDER_HUNT = 0, 1, 2

Group = tuple[str, int, tuple[float, float]]  # (unit type, count, spawn point)


@dataclass(frozen=True)
class MapSpec:
    """Everything the engine needs to build one battle."""

    name: str
    allies: tuple[Group, ...]
    enemies: tuple[Group, ...]
    limit: int
    map_type: str
    arena: str = "band"
    ally_type_order: tuple[str, ...] = ()
    enemy_type_order: tuple[str, ...] = ()
    enemy_order: int = ORDER_ATTACK_MOVE
    attack_point: tuple[float, float] = (9.0, 16.0)
    # attack point drawn uniformly on the segment between two points at each reset
    attack_segment: tuple[tuple[float, float], tuple[float, float]] | None = None
    extra: dict = field(default_factory=dict)

    @property
    def n_agents(self) -> int:
        return sum(g[1] for g in self.allies)

    @property
    def n_enemies(self) -> int:
        return sum(g[1] for g in self.enemies)

    @property
    def unit_type_bits(self) -> int:
        return len(self.ally_type_order)


# ----------------------------------------------------------------------------- arenas
def _octagon(x0: int, x1: int, y0: int, y1: int, cut: int) -> np.ndarray:
    g = np.zeros((32, 32), bool)
    for x in range(x0, x1):
        for y in range(y0, y1):
            dx, dy = min(x - x0, x1 - 1 - x), min(y - y0, y1 - 1 - y)
            g[x, y] = dx + dy >= cut
    return g


def _band() -> np.ndarray:
    g = np.zeros((32, 32), bool)
    g[:, 8:24] = True
    return g


def _corridor() -> np.ndarray:
    g = np.zeros((32, 32), bool)
    g[15:31, 15:31] = True  # upper-right room
    g[2:10, 2:10] = True  # lower-left room
    for k in range(9, 16):  # 3-wide diagonal staircase passage near (12-14, 12-14)
        g[k, k] = g[k + 1, k] = g[k, k + 1] = True
    return g


def _strip() -> np.ndarray:
    x, y = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
    return (abs(x - y) <= 5) & (x >= 2) & (x < 30) & (y >= 2) & (y < 30)


def _ravine() -> tuple[np.ndarray, np.ndarray]:
    g = np.zeros((32, 32), bool)
    g[:, 6:20] = True
    cliff = np.zeros((32, 32), bool)
    cliff[2:30, 11:15] = True  # cliff wall inside the ravine; ends open at x 0-2 and 30-32
    return g & ~cliff, cliff


@cache
def arena(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pathable, cliff, height) 32x32 grids of an arena; cliff cells are walkable by colossi."""
    cliff = np.zeros((32, 32), bool)
    plateau = False
    if name == "band":
        g = _band()
    elif name == "whole":
        g = np.ones((32, 32), bool)
    elif name == "octagon":
        g = _octagon(6, 26, 6, 26, 4)
    elif name == "plateau_2s1sc":
        g, plateau = _octagon(8, 20, 8, 24, 3), True
    elif name == "plateau_6h8z":
        g, plateau = _octagon(8, 22, 8, 20, 2), True
    elif name == "corridor":
        g = _corridor()
    elif name == "strip":
        g = _strip()
    elif name == "ravine":
        g, cliff = _ravine()
    else:
        raise ValueError(f"unknown arena {name!r}")
    h = np.full((32, 32), C.HEIGHT_OUTSIDE)
    h[g] = C.HEIGHT_PLATEAU if plateau else C.HEIGHT_ARENA
    h[cliff] = C.HEIGHT_PLATEAU
    for a in (g, cliff, h):
        a.setflags(write=False)
    return g, cliff, h


# ----------------------------------------------------------------------------- maps
MMM_T = ("marauder", "marine", "medivac")
SZ_T = ("stalker", "zealot")
SZ_ENEMY_T = ("zealot", "stalker")  # SMAC quirk: enemy one-hot swaps stalker/zealot on s&z maps
CSZ_T = ("colossus", "stalker", "zealot")
BANE_T = ("baneling", "zergling")
A0, E0 = (9.0, 16.0), (23.0, 16.0)


def _same(name, a, e, limit, mtype, order=(), eorder=None, arena_name="band"):
    return MapSpec(
        name,
        tuple((t, n, A0) for t, n in a),
        tuple((t, n, E0) for t, n in e),
        limit,
        mtype,
        arena_name,
        order,
        order if eorder is None else eorder,
    )


def _marines(name: str, na: int, ne: int, limit: int) -> MapSpec:
    return _same(name, [("marine", na)], [("marine", ne)], limit, "marines")


_MAPS: list[MapSpec] = [
    _marines("3m", 3, 3, 60),
    _marines("8m", 8, 8, 120),
    _marines("25m", 25, 25, 150),
    _marines("5m_vs_6m", 5, 6, 70),
    _marines("8m_vs_9m", 8, 9, 120),
    _marines("10m_vs_11m", 10, 11, 150),
    _marines("27m_vs_30m", 27, 30, 180),
    _same(
        "MMM",
        [("marauder", 2), ("marine", 7), ("medivac", 1)],
        [("marauder", 2), ("marine", 7), ("medivac", 1)],
        150,
        "MMM",
        MMM_T,
    ),
    _same(
        "MMM2",
        [("marauder", 2), ("marine", 7), ("medivac", 1)],
        [("marauder", 3), ("marine", 8), ("medivac", 1)],
        180,
        "MMM",
        MMM_T,
    ),
    _same(
        "2s3z",
        [("stalker", 2), ("zealot", 3)],
        [("stalker", 2), ("zealot", 3)],
        120,
        "stalkers_and_zealots",
        SZ_T,
        SZ_ENEMY_T,
    ),
    _same(
        "3s5z",
        [("stalker", 3), ("zealot", 5)],
        [("stalker", 3), ("zealot", 5)],
        150,
        "stalkers_and_zealots",
        SZ_T,
        SZ_ENEMY_T,
    ),
    _same(
        "3s5z_vs_3s6z",
        [("stalker", 3), ("zealot", 5)],
        [("stalker", 3), ("zealot", 6)],
        170,
        "stalkers_and_zealots",
        SZ_T,
        SZ_ENEMY_T,
    ),
    _same(
        "1c3s5z",
        [("colossus", 1), ("stalker", 3), ("zealot", 5)],
        [("colossus", 1), ("stalker", 3), ("zealot", 5)],
        180,
        "colossi_stalkers_zealots",
        CSZ_T,
    ),
    _same("3s_vs_3z", [("stalker", 3)], [("zealot", 3)], 150, "stalkers", arena_name="whole"),
    _same("3s_vs_4z", [("stalker", 3)], [("zealot", 4)], 200, "stalkers", arena_name="whole"),
    _same("3s_vs_5z", [("stalker", 3)], [("zealot", 5)], 250, "stalkers", arena_name="whole"),
    MapSpec(
        "2m_vs_1z",
        (("marine", 1, (13.0, 12.0)), ("marine", 1, (19.0, 12.0))),
        (("zealot", 1, (16.0, 19.0)),),
        150,
        "marines",
        "octagon",
        attack_point=(16.0, 12.0),
        attack_segment=((13.0, 12.0), (19.0, 12.0)),
    ),
    MapSpec(
        "2s_vs_1sc",
        (("stalker", 1, (11.12, 10.34)), ("stalker", 1, (16.98, 10.37))),
        (("spine_crawler", 1, (13.92, 20.04)),),
        300,
        "stalkers",
        "plateau_2s1sc",
        enemy_order=ORDER_NONE,
    ),
    MapSpec(
        "corridor",
        (("zealot", 6, (19.04, 19.12)),),
        (("zergling", 24, (27.91, 28.24)),),
        400,
        "zealots",
        "corridor",
        attack_point=(4.47, 4.33),
    ),
    MapSpec(
        "6h_vs_8z",
        (("hydralisk", 6, (14.60, 9.49)),),
        (("zealot", 8, (14.41, 16.76)),),
        150,
        "hydralisks",
        "plateau_6h8z",
        attack_point=(14.60, 9.49),
    ),
    MapSpec(
        "so_many_baneling",
        (("zealot", 7, (11.47, 12.02)),),
        (("baneling", 32, (27.91, 28.24)),),
        100,
        "zealots",
        "strip",
        attack_point=(4.47, 4.33),
    ),
    MapSpec(
        "bane_vs_bane",
        (("zergling", 20, (16.0, 11.0)), ("baneling", 4, (16.0, 8.0))),
        (("zergling", 20, (16.0, 21.0)), ("baneling", 4, (16.0, 24.0))),
        200,
        "bane",
        "octagon",
        BANE_T,
        BANE_T,
        attack_point=(16.0, 8.0),
    ),
    MapSpec(
        "2c_vs_64zg",
        (("colossus", 2, (16.0, 16.0)),),
        (("zergling", 64, (16.0, 9.0)),),
        400,
        "colossus",
        "ravine",
        enemy_order=ORDER_HUNT,
        attack_point=(16.0, 16.0),
    ),
]

MAPS: dict[str, MapSpec] = {m.name: m for m in _MAPS}
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
    arena_name: str = "whole",
    enemy_order: int = ORDER_NONE,
    attack_point: tuple[float, float] = (9.0, 16.0),
    map_type: str = "custom",
    ally_type_order: tuple[str, ...] = (),
    enemy_type_order: tuple[str, ...] = (),
) -> MapSpec:
    """A small scenario for tests and experiments (no spawn jitter is applied to it)."""
    return MapSpec(
        name,
        tuple(allies),
        tuple(enemies),
        limit,
        map_type,
        arena_name,
        ally_type_order,
        enemy_type_order,
        enemy_order,
        attack_point,
        extra={"exact_spawn": True},
    )
