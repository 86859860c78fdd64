"""SMACv2's per-episode draws: the teams and the start positions, from one seeded generator.

What is drawn follows SMACv2's ``distributions.py`` (``WeightedTeamsDistribution``,
``SurroundedAndReflectPositionDistribution``);
unlike upstream (unseeded generators and Python's global ``random``), every draw comes from the
battle's own ``numpy.random.Generator``, so a seed fixes the whole episode.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .scenarios import RACE_UNITS, Scenario

#: Half the length of the segment from the centre toward each corner where no enemy group is
#: placed: groups sit on ``t * (centre +- OFFSET) + (1 - t) * corner``.
SURROUND_OFFSET = 2.0
#: Reflect starts: allies are drawn with x in [0, map/2 - REFLECT_GAP), so no ally starts in
#: the strip just left of the mirror line.
REFLECT_GAP = 1.0


@lru_cache(maxsize=64)
def _team_tables(s: Scenario) -> tuple[np.ndarray, np.ndarray, bool]:
    """The scenario's cumulative type weights, which types are exceptions, and whether any is."""
    cdf = np.cumsum(s.weights)
    cdf /= cdf[-1]
    exception = np.array([t in s.exceptions for t in RACE_UNITS[s.race]])
    return cdf, exception, bool(exception.any())


def _draw_group(rng: np.random.Generator, s: Scenario, n: int) -> np.ndarray:
    """``n`` i.i.d. unit types (indices into the race's types), redrawn while all are exception types."""
    cdf, exception, any_exception = _team_tables(s)
    while True:
        team = np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)
        if not any_exception or not exception[team].all():
            return team


def draw_team_indices(rng: np.random.Generator, s: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """(ally types, enemy types) as indices into the race's types: the enemy team is a copy of
    the allies plus ``n_enemies - n_units`` extra draws (themselves never only exception types)."""
    if s.fixed_team is not None:
        types = RACE_UNITS[s.race]
        allies = np.array([types.index(t) for t in s.fixed_team])
    else:
        allies = _draw_group(rng, s, s.n_units)
    if s.n_enemies > s.n_units:
        return allies, np.concatenate([allies, _draw_group(rng, s, s.n_enemies - s.n_units)])
    return allies, allies.copy()


def draw_teams(rng: np.random.Generator, s: Scenario) -> tuple[list[str], list[str]]:
    """(ally types, enemy types) by name (``draw_team_indices``)."""
    types = RACE_UNITS[s.race]
    allies, enemies = draw_team_indices(rng, s)
    return [types[i] for i in allies], [types[i] for i in enemies]


#: Corner and inner point of each of the four diagonals, as fractions of the map size and
#: multiples of SURROUND_OFFSET: (corner_x, corner_y, sign_x, sign_y).
_DIAGONALS = ((0.0, 0.0, -1.0, -1.0), (0.0, 1.0, -1.0, 1.0), (1.0, 1.0, 1.0, 1.0), (1.0, 0.0, 1.0, -1.0))


def surrounded(rng: np.random.Generator, s: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Allies all at the centre; enemies in 1-4 groups (sizes multinomial), each group at one
    point of its own diagonal between the centre's neighbourhood and a corner."""
    m = s.map_size
    allies = np.full((s.n_units, 2), m / 2.0)
    n_groups = int(rng.integers(1, 5))
    sizes = rng.multinomial(s.n_enemies, np.full(n_groups, 1.0 / n_groups))
    diagonals = rng.choice(4, size=n_groups, replace=False)
    enemies = np.empty((s.n_enemies, 2))
    k = 0
    for size, d in zip(sizes.tolist(), diagonals.tolist()):
        cx, cy, sx, sy = _DIAGONALS[d]
        t = rng.uniform()
        # t * inner + (1 - t) * corner, the inner point m/2 + s * SURROUND_OFFSET per axis
        enemies[k : k + size, 0] = t * (m / 2.0 + sx * SURROUND_OFFSET) + (1.0 - t) * (cx * m)
        enemies[k : k + size, 1] = t * (m / 2.0 + sy * SURROUND_OFFSET) + (1.0 - t) * (cy * m)
        k += size
    return allies, enemies


def reflect(rng: np.random.Generator, s: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Allies uniform on the left half; enemy i mirrors ally i across x = map/2; extra enemies
    uniform on the right half."""
    m, n = s.map_size, s.n_units
    allies = np.empty((n, 2))
    allies[:, 0] = rng.uniform(0.0, m / 2.0 - REFLECT_GAP, n)
    allies[:, 1] = rng.uniform(0.0, m, n)
    enemies = np.empty((s.n_enemies, 2))
    enemies[:n, 0] = m - allies[:, 0]
    enemies[:n, 1] = allies[:, 1]
    enemies[n:, 0] = rng.uniform(m / 2.0, m, s.n_enemies - n)
    enemies[n:, 1] = rng.uniform(0.0, m, s.n_enemies - n)
    return allies, enemies


def draw_positions(rng: np.random.Generator, s: Scenario) -> tuple[np.ndarray, np.ndarray, str]:
    """(ally points [n_units, 2], enemy points [n_enemies, 2], "surrounded" or "reflect").

    ``surrounded_and_reflect`` draws u ~ U(0, 1) and takes surrounded when u > p (p = 0.5).
    The points are where SMACv2 creates the units; the engine places each at the free spot
    nearest its point, as SC2 does."""
    mode = s.start_positions
    if mode == "surrounded_and_reflect":
        mode = "surrounded" if rng.uniform() > s.p_reflect else "reflect"
    allies, enemies = (surrounded if mode == "surrounded" else reflect)(rng, s)
    return allies, enemies, mode
