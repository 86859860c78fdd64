"""SMACv2's battles on the embedded engine: units, tables and spawns drawn per episode.

``SMACv2Engine`` is the SMAC engine (``rllib_qmix.envs.smac.engine``) on the open 32x32 map
with SMACv2's enemy order (every enemy without an order attacks the closest agent unit), whose
``_draw_battle`` draws each new battle's teams and start points (``distributions.py``), places
the units as SC2 creates them, sorts the agents as SMACv2 does and writes the battle's unit
table, type bits and reward scale. Everything per battle comes from that battle's generator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from rllib_qmix.envs.smac import choices as C
from rllib_qmix.envs.smac._jit import njit
from rllib_qmix.envs.smac.engine import Engine
from rllib_qmix.envs.smac.kernels import EF_DIV
from rllib_qmix.envs.smac.maps import ORDER_CLOSEST_UNIT, MapSpec
from rllib_qmix.envs.smac.options import SMAC_DEFAULTS
from rllib_qmix.envs.smac.sim import HP, X, Y
from rllib_qmix.envs.smac.units import (
    KIND_HEAL,
    P_KIND,
    P_VIEW,
    SMAC_SHOOT_RANGE,
    SMAC_VIEW_RANGE,
    STOCK,
    param_row,
    rl_unit,
)

from .distributions import draw_positions, draw_team_indices
from .scenarios import RACE_UNITS, RL_FIELDS, SHOOT_RANGE, SIGHT_RANGE, SORT_KEY, Scenario, get_scenario

#: SMACv2's keyword options beyond SMAC's, at the values of SMACv2's configs (sc2_gen_*.yaml).
SMACV2_OPTIONS: dict[str, Any] = {
    **SMAC_DEFAULTS,
    "obs_own_pos": True,
    "use_unit_ranges": True,
    "min_attack_range": 2,
    "action_mask": True,
    "prob_obs_enemy": 1.0,
    "fully_observable": False,
    "conic_fov": False,
    "num_fov_actions": 12,
    "kill_unit_step_mul": 2,
    "obs_starcraft": True,
}


def _refused(opts: dict[str, Any]) -> list[str]:
    """One sentence per SMACv2 option the embedded simulator can't honour."""
    problems = []
    if opts["conic_fov"]:
        problems.append("conic_fov=True (SMACv2's field-of-view actions) is not implemented; leave it False.")
    if opts["num_fov_actions"] != 12 and not opts["conic_fov"]:
        problems.append("num_fov_actions only matters with conic_fov, which is not implemented; leave it at 12.")
    if opts["fully_observable"]:
        problems.append("fully_observable=True is not implemented; use obs_instead_of_state or the state.")
    if not opts["obs_starcraft"]:
        problems.append("obs_starcraft=False (observations without SC2 features) is not implemented.")
    if opts["kill_unit_step_mul"] != 2:
        problems.append(
            "kill_unit_step_mul only paces how SC2 removes units between episodes; the simulator has nothing to "
            "pace (leave it at 2)."
        )
    p = opts["prob_obs_enemy"]
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
        problems.append(f"prob_obs_enemy must be a probability in [0, 1], got {p!r}.")
    r = opts["min_attack_range"]
    if not isinstance(r, (int, float)) or isinstance(r, bool) or r < 0:
        problems.append(f"min_attack_range must be a non-negative number, got {r!r}.")
    return problems


@lru_cache(maxsize=1)
def _spiral(k: int = 14) -> np.ndarray:
    """Grid offsets (i, j) with |i|, |j| <= k, nearest first (then by angle)."""
    cand = sorted((i * i + j * j, np.arctan2(j, i), i, j) for i in range(-k, k + 1) for j in range(-k, k + 1))
    return np.array([(i, j) for _, _, i, j in cand], np.float64)


@njit
def _place(radius, air, plane, points, size, gap, offsets, out):
    """Compiled body of ``place_units``; returns the index of a unit with no room, or -1."""
    for n in range(points.shape[0]):
        r = radius[n]
        s = 2.0 * r + gap
        found = False
        for c in range(offsets.shape[0]):
            x, y = points[n, 0] + offsets[c, 0] * s, points[n, 1] + offsets[c, 1] * s
            if x < r or x >= size - r or y < r or y >= size - r:
                continue
            clear = True
            if not air[n]:
                for m in range(n):
                    if air[m] or plane[m] != plane[n]:
                        continue
                    rr = r + radius[m]
                    if (x - out[m, 0]) ** 2 + (y - out[m, 1]) ** 2 < rr * rr:
                        clear = False
                        break
            if clear:
                out[n, 0], out[n, 1] = x, y
                found = True
                break
        if not found:
            return n
    return -1


def place_units(
    radius: np.ndarray,
    air: np.ndarray,
    plane: np.ndarray,
    points: np.ndarray,
    size: float,
    name_of: Callable[[int], str],
) -> np.ndarray:
    """Where SC2 puts units created one by one at ``points``: each at the free spot nearest its
    point, on a square grid of spacing 2 x radius + ``SPAWN_GAP`` (``choices.py``), inside the
    map and clear of the ground units of its plane created before it (flying units anywhere).
    ``radius``, ``air`` and ``plane`` describe the units; ``name_of(i)`` names unit i in the error."""
    out = np.empty((len(radius), 2))
    pts = np.ascontiguousarray(points, np.float64)
    bad = _place(radius, air, plane, pts, float(size), C.SPAWN_GAP, _spiral(), out)
    if bad >= 0:
        raise RuntimeError(f"no room for unit {bad} ({name_of(bad)}) near {pts[bad, 0]:.1f}, {pts[bad, 1]:.1f}")
    return out


class SMACv2Engine(Engine):
    """E SMACv2 battles of one scenario (``scenarios.py``); see the module docstring."""

    OPTIONS = SMACV2_OPTIONS

    def __init__(
        self, scenario: str | Scenario, n_envs: int = 1, seeds: Sequence[int | None] | None = None, **kwargs: Any
    ) -> None:
        sc = get_scenario(scenario)
        types = RACE_UNITS[sc.race]
        centre = (sc.map_size / 2.0, sc.map_size / 2.0)
        spec = MapSpec(  # placeholders: every battle draws its own units (_draw_battle)
            name=sc.name,
            allies=((types[0], sc.n_units, centre),),
            enemies=((types[0], sc.n_enemies, centre),),
            limit=sc.limit,
            map_type=f"{sc.race}_gen",
            terrain="open",
            ally_type_order=types,
            enemy_type_order=types,
            enemy_order=ORDER_CLOSEST_UNIT,
            exact_spawn=True,
        )
        self.scenario = sc
        super().__init__(spec, n_envs, seeds, **kwargs)
        problems = _refused(self.opts)
        if problems:
            raise ValueError("SMACv2 options the embedded simulator can't honour: " + " ".join(problems))
        o = self.opts
        lo = float(o["min_attack_range"])
        ranges = {
            t: (SIGHT_RANGE[t], max(SHOOT_RANGE[t], lo))
            if o["use_unit_ranges"]
            else (SMAC_VIEW_RANGE, SMAC_SHOOT_RANGE)
            for t in types
        }
        # Agents: the map's "_RL" units; enemies: SC2's stock units (units.py). Tables by the
        # race's type index: unit rows, radius / air / plane (placement), life (reward scale).
        self._types = types
        ally_defs = [rl_unit(t, RL_FIELDS.get(t)) for t in types]
        enemy_defs = [STOCK[t] for t in types]
        self._rows = np.stack([param_row(u, *ranges[t]) for u, t in zip(ally_defs + enemy_defs, types + types)])
        both = ally_defs + enemy_defs
        self._radius = np.array([u.radius for u in both], np.float64)
        self._air = np.array([u.air for u in both], np.bool_)
        self._plane = np.array([u.plane for u in both], np.int64)
        self._life = np.array([u.hp + u.shield for u in enemy_defs], np.float64)
        self._sort_key = np.array([SORT_KEY[t] for t in types], np.int64)
        #: The start of each battle: "surrounded" or "reflect" ("" before the first reset).
        self.start_modes: list[str] = [""] * n_envs
        self._relax = not o["action_mask"]
        if self._relax:
            self.avail_true = np.zeros_like(self.avail)
        self._epo = float(o["prob_obs_enemy"]) < 1.0
        E, A, N = n_envs, self.n_agents, self.n_enemies
        self._spotter = np.full((E, N), -1, np.int64)
        self._seen = np.zeros((E, N, A), np.bool_)
        self._epo_rngs = [np.random.default_rng(0) for _ in range(E)]

    # ------------------------------------------------------------------ per-battle draws
    def _draw_battle(self, e: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        sc, o, n = self.scenario, self.opts, self.scenario.n_units
        allies, enemies = draw_team_indices(rng, sc)
        ally_pts, enemy_pts, mode = draw_positions(rng, sc)
        k = len(self._types)
        rows = np.concatenate([allies, enemies + k])  # table rows: agents' units, then stock units
        pos = place_units(
            self._radius[rows],
            self._air[rows],
            self._plane[rows],
            np.concatenate([ally_pts, enemy_pts]),
            sc.map_size,
            lambda i: self._types[int(rows[i]) % k],
        )
        order = np.lexsort((pos[:n, 1], pos[:n, 0], self._sort_key[allies]))  # (id, x, y)
        allies = allies[order]
        pos[:n] = pos[order]
        self.PE[e, :n] = self._rows[allies]
        self.PE[e, n:] = self._rows[enemies + k]
        self.TIX[e, :n] = allies
        self.TIX[e, n:] = enemies
        # SMAC's max_reward with this battle's enemies (SMACv2 fixes it from its first episode).
        max_reward = sc.n_enemies * o["reward_death_value"] + o["reward_win"] + float(self._life[enemies].sum())
        self.EF[e, EF_DIV] = self.reward_divisor(max_reward)
        self.start_modes[e] = mode
        if self._epo:
            self._spotter[e] = -1
            self._seen[e] = False
            self._epo_rngs[e] = np.random.default_rng(int(rng.integers(2**63)))
        return pos, self._sort_key[allies]

    def battle_unit_types(self, e: int = 0) -> list[str]:
        """Unit type names of battle e's current units, allies then enemies."""
        return [self._types[i] for i in self.TIX[e].tolist()]

    def battle_max_reward(self, e: int = 0) -> float:
        """SMAC's ``max_reward`` of battle e's current episode (its enemies' life and shields)."""
        div = self.EF[e, EF_DIV]
        return float(div * self.opts["reward_scale_rate"]) if self.opts["reward_scale"] else float("nan")

    # ------------------------------------------------------------------ masks and EPO
    def _after_masks(self, mask: np.ndarray) -> None:
        """Without action masks: keep the true masks for the observation, offer every live target."""
        if not self._relax:
            return
        self.avail_true[mask] = self.avail[mask]
        A, N = self.n_agents, self.n_enemies
        for e in np.flatnonzero(mask):
            P, F = self.PE[e], self.F[e]
            alive = F[:, HP] > 0
            for a in range(A):
                if not alive[a]:
                    continue
                if P[a, P_KIND] == KIND_HEAL:
                    k = min(A, N)
                    self.avail[e, a, 6 : 6 + k] = alive[:k] & (P[:k, P_KIND] != KIND_HEAL)
                else:
                    self.avail[e, a, 6 : 6 + N] = alive[A:]

    def reset(self, mask: np.ndarray | None = None) -> None:
        super().reset(mask)
        self._after_masks(self._all if mask is None else np.asarray(mask, np.bool_))

    def step(self, actions: np.ndarray, active: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        rew, term = super().step(actions, active)
        act = self._all if active is None else np.asarray(active, np.bool_)
        self._after_masks(act)
        if self._epo:
            self._forget(act)
        return rew, term

    def set_units(self, e: int = 0, **cols: np.ndarray) -> None:
        super().set_units(e, **cols)
        m = np.zeros(self.E, np.bool_)
        m[e] = True
        self._after_masks(m)

    def _forget(self, act: np.ndarray) -> None:
        """EPO: a dead enemy is forgotten; so are the enemies a dead agent had spotted."""
        A = self.n_agents
        for e in np.flatnonzero(act):
            alive = self.F[e, :, HP] > 0
            for j in range(self.n_enemies):
                s = self._spotter[e, j]
                if not alive[A + j] or (s >= 0 and not alive[s]):
                    if s >= 0 and not alive[s]:
                        self._seen[e, :, s] = False
                    self._spotter[e, j] = -1
                    self._seen[e, j] = False

    def obs(self) -> np.ndarray:
        fresh = not self._obs_ok.all()
        stale = ~self._obs_ok
        out = super().obs()
        if self._epo and fresh:
            self._spot_and_hide(out, stale)
        return out

    def _spot_and_hide(self, out: np.ndarray, envs: np.ndarray) -> None:
        """EPO (``prob_obs_enemy`` p < 1): the first agent (in a random order) to see an enemy
        spots it; each other agent then sees that enemy with probability p until the enemy or
        its spotter dies. An enemy an agent does not see has its own row zeroed, only its own
        (upstream zeroes the whole block, oxwhirl/smacv2#50)."""
        A, p = self.n_agents, float(self.opts["prob_obs_enemy"])
        width = self.obs_blocks["enemy"]
        move = self.obs_blocks["move"]
        for e in np.flatnonzero(envs):
            rng = self._epo_rngs[e]
            F, P = self.F[e], self.PE[e]
            alive = F[:, HP] > 0
            for i in rng.permutation(A):
                if not alive[i]:
                    continue
                d = np.hypot(F[A:, X] - F[i, X], F[A:, Y] - F[i, Y])
                for j in np.flatnonzero(alive[A:] & (d < P[i, P_VIEW])):
                    if self._spotter[e, j] < 0:
                        self._spotter[e, j] = i
                        self._seen[e, j] = rng.random(A) < p
                        self._seen[e, j, i] = True
            hidden = ~self._seen[e]  # [N, A]
            for i in range(A):
                for j in np.flatnonzero(hidden[:, i]):
                    out[e, i, move + j * width : move + (j + 1) * width] = 0.0


__all__ = ["SMACv2Engine", "SMACV2_OPTIONS", "place_units"]
