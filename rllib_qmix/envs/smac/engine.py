"""Vectorised battle engine: E battles of one map as arrays, stepped by compiled kernels.

``StarCraft2Env`` is this engine with E=1, ``BatchedStarCraft2Env`` with E=N: one
implementation, so a batch reproduces separate envs exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from . import choices as C
from ._jit import njit
from .features import (
    F_ALL_HEALTH,
    F_BITS,
    F_HEIGHT,
    F_LAST_ACTION,
    F_LIMIT,
    F_OWN_HEALTH,
    F_OWN_POS,
    F_PATH,
    F_S_LAST,
    F_S_TIME,
    F_SHB_A,
    F_SHB_E,
    F_TIMESTEP,
    N_FLAGS,
    obs_kernel,
    obs_layout,
    state_kernel,
    state_layout,
)
from .heuristic import heuristic_orders
from .kernels import (
    C_DEATH,
    C_DEFEAT,
    C_FREE,
    C_LIMIT,
    C_MMM,
    C_MODE,
    C_MOVE,
    C_NEG,
    C_ONLY_POS,
    C_SPARSE,
    C_STEP_MUL,
    C_WIN,
    E_DEAD_A,
    E_DEAD_E,
    E_DONE,
    E_T,
    E_TIMEOUT,
    E_WON,
    EF_AX,
    EF_AY,
    EF_DIV,
    N_CFG,
    N_EF,
    N_EI,
    avail_all,
    step_kernel,
    validate,
)
from .maps import MapSpec, get_map
from .options import SMAC_DEFAULTS, check_lite_options
from .rng import seed_state
from .sim import BLOCKED, CD, EN, FX, FY, GX, GY, HP, LASTATK, LOCK, NF, NI, ORD, SH, TGT, WPH, WTG, X, Y
from .terrain import Terrain, fits, terrain
from .units import P_AIR, P_CLIFF, P_ESTART, P_HP, P_PLANE, P_RADIUS, P_SH, STOCK, UnitType, param_row, rl_unit


def _formation(
    units: list[UnitType], point: tuple[float, float], ground: Terrain, placed: list[tuple[float, float, UnitType]]
) -> np.ndarray:
    """Units of one "create N units at P" call, packed nearest-first around P on a square grid
    (``choices.py``), each on a spot where it fits the terrain and overlaps none of the units
    ``placed`` before it (flying units: anywhere on the map). Appends them to ``placed``."""
    s = 2 * max(u.radius for u in units) + C.SPAWN_GAP
    k = int(np.ceil(np.sqrt(len(units) + len(placed)))) + 6
    cand = sorted((i * i + j * j, np.arctan2(j, i), i, j) for i in range(-k, k + 1) for j in range(-k, k + 1))
    out, ci = [], 0
    for u in units:
        while True:  # created units appear on ground-pathable spots (colossi too)
            _, _, i, j = cand[ci]
            ci += 1
            x, y = point[0] + i * s, point[1] + j * s
            if not (u.radius <= x < 32 - u.radius and u.radius <= y < 32 - u.radius):
                continue
            if u.air:
                break
            clear = all(
                w.air or w.plane != u.plane or np.hypot(x - px, y - py) >= u.radius + w.radius for px, py, w in placed
            )
            if clear and fits(ground.shapes, 0, x, y, u.radius):
                break
        out.append((x, y))
        placed.append((x, y, u))
    return np.array(out, np.float64)


#: The facing of created units (choices.py), as a unit vector.
SPAWN_FX, SPAWN_FY = np.cos(np.radians(C.SPAWN_FACING_DEGREES)), np.sin(np.radians(C.SPAWN_FACING_DEGREES))


@njit
def jitter_spawn(pos, jitter, P, shapes):
    """Adds each unit's jitter to its spawn where it still fits and overlaps no unit (in place)."""
    U = pos.shape[0]
    for i in range(U):
        x, y = pos[i, 0] + jitter[i, 0], pos[i, 1] + jitter[i, 1]
        air = P[i, P_AIR] > 0
        if not air and not fits(shapes, 1 if P[i, P_CLIFF] > 0 else 0, x, y, P[i, P_RADIUS]):
            continue
        clear = True
        for j in range(U):
            if j == i or air or P[j, P_PLANE] != P[i, P_PLANE]:
                continue
            rr = P[i, P_RADIUS] + P[j, P_RADIUS]
            if (pos[j, 0] - x) ** 2 + (pos[j, 1] - y) ** 2 < rr * rr:
                clear = False
                break
        if clear:
            pos[i, 0], pos[i, 1] = x, y


@njit
def _after(t0, x0, y0, t1, x1, y1):
    """Whether key (t0, x0, y0) sorts after (t1, x1, y1)."""
    if t0 != t1:
        return t0 > t1
    if x0 != x1:
        return x0 > x1
    return y0 > y1


@njit
def reset_kernel(F, I, EI, EF, last_action, PE, base_pos, type_key, A, envs, jitter, points, offsets, shapes):
    """Starts new battles in ``envs``: spawns ``base_pos[k]`` jittered (``jitter_spawn``),
    agents sorted by (``type_key[k]``, x, y) as SMAC sorts them, full health, shields and
    starting energy, no orders; each enemy's attack-move goal is the battle's attack point plus
    its ``offsets`` row (its place in the group's formation)."""
    U = F.shape[1]
    for k in range(envs.shape[0]):
        e = envs[k]
        P = PE[e]
        pos = base_pos[k].copy()
        jitter_spawn(pos, jitter[k], P, shapes)
        for i in range(1, A):  # insertion sort of the agents' positions by (type, x, y)
            j = i
            while j > 0 and _after(
                type_key[k, j - 1], pos[j - 1, 0], pos[j - 1, 1], type_key[k, j], pos[j, 0], pos[j, 1]
            ):
                pos[j - 1, 0], pos[j, 0] = pos[j, 0], pos[j - 1, 0]
                pos[j - 1, 1], pos[j, 1] = pos[j, 1], pos[j - 1, 1]
                j -= 1
        EF[e, EF_AX], EF[e, EF_AY] = points[k, 0], points[k, 1]
        for u in range(U):
            for c in range(F.shape[2]):
                F[e, u, c] = 0.0
            F[e, u, X], F[e, u, Y] = pos[u, 0], pos[u, 1]
            F[e, u, HP], F[e, u, SH], F[e, u, EN] = P[u, P_HP], P[u, P_SH], P[u, P_ESTART]
            F[e, u, FX], F[e, u, FY] = SPAWN_FX, SPAWN_FY
            for c in range(I.shape[2]):
                I[e, u, c] = 0
            I[e, u, TGT], I[e, u, LASTATK], I[e, u, WTG], I[e, u, LOCK], I[e, u, BLOCKED] = -1, -1, -1, -1, -1
            if u >= A:
                F[e, u, GX], F[e, u, GY] = points[k, 0] + offsets[u, 0], points[k, 1] + offsets[u, 1]
        for c in range(EI.shape[1]):
            EI[e, c] = 0
        for a in range(A):
            last_action[e, a] = -1


class Engine:
    """E battles of one map; the SMAC semantics live in the kernels."""

    #: The env's keyword options and their defaults (SMACv2's engine extends them).
    OPTIONS: dict[str, Any] = SMAC_DEFAULTS

    def __init__(
        self,
        map_name: str | MapSpec,
        n_envs: int = 1,
        seeds: Sequence[int | None] | None = None,
        *,
        n_threads: int = 1,
        **kwargs: Any,
    ) -> None:
        if not isinstance(n_threads, int) or isinstance(n_threads, bool) or n_threads < 1:
            raise ValueError(f"n_threads must be a positive int, got {n_threads!r}")
        #: Threads that step, observe and describe the battles (each its share of them); the
        #: kernels release the GIL, so up to one per core helps large batches.
        self.n_threads = n_threads
        self._pool: ThreadPoolExecutor | None = None
        unknown = set(kwargs) - set(self.OPTIONS)
        if unknown:
            raise TypeError(
                f"unknown {type(self).__name__} options {sorted(unknown)}; valid options: {sorted(self.OPTIONS)}"
            )
        self.opts = {**self.OPTIONS, **kwargs}
        o = self.opts
        self.spec = spec = get_map(map_name)
        self.map_name = spec.name
        self.E = n_envs
        check_lite_options(self.opts)
        self.terrain = terrain(spec.terrain)
        self.walk, self.cliff, self.height = self.terrain.walk, self.terrain.cliff, self.terrain.height
        self.walk_f = self.walk.astype(np.float64)
        ally_slots = self._slots(spec.allies, spec.ally_type_order)
        enemy_slots = self._slots(spec.enemies, None)
        self.n_agents, self.n_enemies = len(ally_slots), len(enemy_slots)
        self.n_actions = 6 + self.n_enemies
        self.episode_limit = spec.limit
        slots = ally_slots + enemy_slots
        self.unit_types = [t for t, _ in slots]
        # Agents get the map's "_RL" figures, enemies the stock units (units.py).
        self.unit_defs = [rl_unit(t, spec.ally_fields.get(t)) for t, _ in ally_slots] + [
            STOCK[t] for t, _ in enemy_slots
        ]
        P = np.stack([param_row(u) for u in self.unit_defs])
        tix = np.array(
            [spec.ally_type_order.index(t) if spec.ally_type_order else -1 for t, _ in ally_slots]
            + [spec.enemy_type_order.index(t) if spec.enemy_type_order else -1 for t, _ in enemy_slots],
            np.int64,
        )
        #: Per-battle unit tables [E, U, N_PARAMS] and type-bit indices [E, U]: one map's
        #: battles share them; SMACv2 draws them per episode.
        self.PE = np.repeat(P[None], n_envs, axis=0)
        self.TIX = np.repeat(tix[None], n_envs, axis=0)
        self._base_pos = self._spawn_positions(slots)
        # SC2 moves a group ordered as one in formation: each enemy heads for the attack point
        # plus its offset from the group's centre at spawn (choices.py).
        self._formation_offsets = np.zeros_like(self._base_pos)
        if self.n_enemies:
            enemy_pos = self._base_pos[self.n_agents :]
            self._formation_offsets[self.n_agents :] = enemy_pos - enemy_pos.mean(axis=0)
        self._type_key = np.array([spec.ally_type_order.index(t) if spec.ally_type_order else 0 for t, _ in ally_slots])
        race = lambda groups: STOCK[groups[0][0]].race  # noqa: E731
        self.fl = np.zeros(N_FLAGS, np.int64)
        fl = dict(
            path=int(o["obs_pathing_grid"]),
            height=int(o["obs_terrain_height"]),
            all_health=int(o["obs_all_health"]),
            own_health=int(o["obs_all_health"] or o["obs_own_health"]),
            last_action=int(o["obs_last_action"]),
            timestep=int(o["obs_timestep_number"]),
            shb_a=int(race(spec.allies) == "P"),
            shb_e=int(race(spec.enemies) == "P"),
            bits=spec.unit_type_bits,
            s_last=int(o["state_last_action"]),
            s_time=int(o["state_timestep_number"]),
            own_pos=int(o.get("obs_own_pos", False)),
        )
        self.flags = fl
        for idx, key in [
            (F_PATH, "path"),
            (F_HEIGHT, "height"),
            (F_ALL_HEALTH, "all_health"),
            (F_OWN_HEALTH, "own_health"),
            (F_LAST_ACTION, "last_action"),
            (F_TIMESTEP, "timestep"),
            (F_SHB_A, "shb_a"),
            (F_SHB_E, "shb_e"),
            (F_BITS, "bits"),
            (F_S_LAST, "s_last"),
            (F_S_TIME, "s_time"),
            (F_OWN_POS, "own_pos"),
        ]:
            self.fl[idx] = fl[key]
        self.fl[F_LIMIT] = spec.limit
        self.obs_blocks = obs_layout(self.n_agents, self.n_enemies, self.n_actions, fl)
        self.state_blocks = state_layout(self.n_agents, self.n_enemies, self.n_actions, fl)
        self.obs_size = self.obs_blocks["size"]
        self.state_size = self.n_agents * self.obs_size if o["obs_instead_of_state"] else self.state_blocks["size"]
        enemy_max = sum(STOCK[t].hp + STOCK[t].shield for t, _ in enemy_slots)
        self.max_reward = self.n_enemies * o["reward_death_value"] + o["reward_win"] + enemy_max
        cfg = np.zeros(N_CFG)
        cfg[C_STEP_MUL], cfg[C_LIMIT] = o["step_mul"], spec.limit
        cfg[C_ONLY_POS], cfg[C_DEATH] = o["reward_only_positive"], o["reward_death_value"]
        cfg[C_WIN], cfg[C_DEFEAT], cfg[C_NEG] = (o["reward_win"], o["reward_defeat"], o["reward_negative_scale"])
        # SMAC's "only medivacs left loses" rule of MMM maps, and of SMACv2's terran battles
        cfg[C_SPARSE], cfg[C_MMM] = o["reward_sparse"], spec.map_type in ("MMM", "terran_gen")
        cfg[C_MODE], cfg[C_MOVE] = spec.enemy_order, o["move_amount"]
        #: SMAC's scripted agent plays instead of the actions given (``heuristic_ai``), and
        #: its attack orders walk to their targets as SC2's do.
        self.heuristic = bool(o["heuristic_ai"])
        cfg[C_FREE] = self.heuristic
        self.cfg = cfg
        U, E, A = len(slots), n_envs, self.n_agents
        self.F = np.zeros((E, U, NF))
        self.I = np.zeros((E, U, NI), np.int64)
        self.EI = np.zeros((E, N_EI), np.int64)
        self.EF = np.zeros((E, N_EF))
        self.EF[:, EF_DIV] = self.reward_divisor(self.max_reward)
        self.last_action = np.full((E, A), -1, np.int64)
        #: Each battle's random stream (SC2's weapon delays, update order): ``rng.py``.
        self.S = np.zeros(E, np.uint64)
        #: The heuristic agent's kept targets (unit index, -1 none) and its orders.
        self.heuristic_targets = np.full((E, A), -1, np.int64)
        self._orders = np.zeros((E, A), np.int64)
        self.avail = np.zeros((E, A, self.n_actions), np.uint8)
        #: The masks the observation's "can attack" features read: ``avail`` itself, unless an
        #: engine relaxes ``avail`` (SMACv2's ``action_mask=False``).
        self.avail_true = self.avail
        self.obs_buf = np.zeros((E, A, self.obs_size), np.float32)
        self.state_buf = np.zeros((E, self.state_blocks["size"]), np.float32)
        self.rew = np.zeros(E)
        self.term = np.zeros(E, np.bool_)
        self.bad = np.zeros(3, np.int64)
        self._all = np.ones(E, np.bool_)
        self._obs_ok = np.zeros(E, np.bool_)
        self._state_ok = np.zeros(E, np.bool_)
        self.seed(seeds)

    # ------------------------------------------------------------------ set-up helpers
    @staticmethod
    def _slots(groups, order) -> list[tuple[str, int]]:
        slots = [(t, gi) for gi, (t, n, _) in enumerate(groups) for _ in range(n)]
        if order:
            slots.sort(key=lambda s: (order.index(s[0]), s[1]))
        return slots

    def _spawn_positions(self, slots) -> np.ndarray:
        """Unjittered spawn position of every unit slot."""
        groups = self.spec.allies + self.spec.enemies
        pos = np.zeros((len(slots), 2))
        by_group: dict[int, list[int]] = {}
        offset = 0
        for side, gs in ((0, self.spec.allies), (1, self.spec.enemies)):
            side_slots = slots[: self.n_agents] if side == 0 else slots[self.n_agents :]
            for k, (_t, gi) in enumerate(side_slots):
                by_group.setdefault(gi + offset, []).append(k + (0 if side == 0 else self.n_agents))
            offset += len(gs)
        placed: list[tuple[float, float, UnitType]] = []  # the map script's calls, in order
        for g, idx in sorted(by_group.items()):
            if self.spec.exact_spawn:
                pos[idx] = groups[g][2]
            else:
                pos[idx] = _formation([self.unit_defs[i] for i in idx], groups[g][2], self.terrain, placed)
        return pos

    def _draw_battle(self, e: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Spawn positions [U, 2] and the agents' sort keys [A] of a new battle in env e.

        A SMAC map's battles all start from the map's spawns; SMACv2 overrides this to draw the
        units, their tables (``PE[e]``, ``TIX[e]``) and positions from ``rng``."""
        return self._base_pos, self._type_key

    def reward_divisor(self, max_reward: float) -> float:
        """SMAC's reward divisor: ``max_reward / reward_scale_rate`` with ``reward_scale``, else 1."""
        o = self.opts
        return max_reward / o["reward_scale_rate"] if o["reward_scale"] else 1.0

    def battle_unit_types(self, e: int = 0) -> list[str]:
        """Unit type names of battle e, allies then enemies (a SMAC map's are fixed)."""
        return self.unit_types

    @property
    def P(self) -> np.ndarray:
        """Unit table [U, N_PARAMS] of battle 0 (the same for all battles of a SMAC map)."""
        return self.PE[0]

    def seed(self, seeds: Sequence[int | None] | None = None) -> None:
        """(Re)seed every battle's random stream (None: fresh entropy)."""
        if seeds is None:
            seeds = [None] * self.E
        self.seeds = list(seeds)
        self.rngs = [np.random.default_rng(s) for s in self.seeds]

    # ------------------------------------------------------------------ dynamics
    def reset(self, mask: np.ndarray | None = None) -> None:
        """Start new battles in the envs of mask (all when None)."""
        mask = self._all if mask is None else np.asarray(mask, np.bool_)
        A, spec, U = self.n_agents, self.spec, len(self.unit_types)
        envs = np.flatnonzero(mask)
        jitter = np.zeros((len(envs), U, 2))
        points = np.empty((len(envs), 2))
        base_pos = np.empty((len(envs), U, 2))
        type_key = np.empty((len(envs), A), np.int64)
        for k, e in enumerate(envs):  # each battle draws from its own stream, in this order
            rng = self.rngs[e]
            base_pos[k], type_key[k] = self._draw_battle(int(e), rng)
            if not spec.exact_spawn and C.SPAWN_JITTER > 0:
                jitter[k] = rng.uniform(-C.SPAWN_JITTER, C.SPAWN_JITTER, (U, 2))
            if spec.attack_segment is not None:
                (x0, y0), (x1, y1) = spec.attack_segment
                f = rng.uniform()
                points[k] = (x0 + f * (x1 - x0), y0 + f * (y1 - y0))
            else:
                points[k] = spec.attack_point
            self.S[e] = seed_state(rng)
        self.heuristic_targets[mask] = -1
        reset_kernel(
            self.F,
            self.I,
            self.EI,
            self.EF,
            self.last_action,
            self.PE,
            base_pos,
            type_key,
            A,
            envs,
            jitter,
            points,
            self._formation_offsets,
            self.terrain.shapes,
        )
        avail_all(self.F, self.PE, self.walk, A, self.cfg[C_MOVE], self.avail, mask)
        self._obs_ok &= ~mask
        self._state_ok &= ~mask

    def step(self, actions: np.ndarray, active: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One SMAC step of every (active) battle; returns (reward[E], terminated[E]).

        With ``heuristic_ai``, SMAC's scripted agent gives the orders instead; the actions it took
        are left in ``heuristic_actions`` [E, n_agents], and the given actions remain the last
        actions of the observations and state, as in SMAC."""
        actions = np.ascontiguousarray(actions, np.int64).reshape(self.E, self.n_agents)
        active = self._all if active is None else np.asarray(active, np.bool_)
        orders = actions
        if self.heuristic:
            orders = self._heuristic(active)
        ok = validate(self.avail, actions, active, self.bad, not self.heuristic) and self._split(
            step_kernel,
            self.F,
            self.I,
            self.EI,
            self.EF,
            self.PE,
            self.S,
            self.cfg,
            self.walk,
            self.terrain.shapes,
            self.terrain.clear,
            self.terrain.points,
            self.terrain.routes,
            self.terrain.anchors,
            actions,
            orders,
            self.last_action,
            self.avail,
            active,
            self.rew,
            self.term,
            mask_at=17,
        )
        if not ok:
            e, a, act = (int(v) for v in self.bad)
            prefix = f"env {e}: " if self.E > 1 else ""
            if self.heuristic:
                raise ValueError(f"{prefix}agent {a}: action {act} is not one of the {self.n_actions} actions")
            raise ValueError(
                f"{prefix}agent {a} took unavailable action {act}; available actions: "
                f"{np.flatnonzero(self.avail[e, a]).tolist()}"
            )
        self._obs_ok[:] = False
        self._state_ok[:] = False
        return self.rew, self.term

    def _heuristic(self, active: np.ndarray) -> np.ndarray:
        """SMAC's scripted agent's orders for the active battles (``heuristic.py``); the actions
        it takes are left in ``heuristic_actions``."""
        self.heuristic_actions = np.zeros_like(self._orders)
        rest = bool(self.opts["heuristic_rest"])
        for e in np.flatnonzero(active):
            if not self.EI[e, E_DONE]:
                heuristic_orders(
                    self.F, self.PE[e], int(e), self.n_agents, self.heuristic_targets, rest, self.avail,
                    self._orders, self.heuristic_actions,
                )  # fmt: skip
        return self._orders

    def _split(self, kernel: Any, *args: Any, mask_at: int) -> bool:
        """Runs ``kernel(*args)`` over the battles of the mask ``args[mask_at]``: at once, or
        with ``n_threads`` threads, each given the battles of one contiguous block (the
        kernels touch only their own battles' rows). True unless a call returned False."""
        if self.n_threads == 1 or self.E < 2 * self.n_threads:
            return kernel(*args) is not False
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.n_threads, thread_name_prefix="sim")
        mask = args[mask_at]
        jobs = []
        for block in np.array_split(np.arange(self.E), self.n_threads):
            part = np.zeros(self.E, np.bool_)
            part[block] = mask[block]
            call = list(args)
            call[mask_at] = part
            jobs.append(self._pool.submit(kernel, *call))
        return all(job.result() is not False for job in jobs)

    # ------------------------------------------------------------------ features
    def obs(self) -> np.ndarray:
        """[E, n_agents, obs_size] float32 observations (internal buffer, do not modify)."""
        if not self._obs_ok.all():
            self._split(
                obs_kernel,
                self.F,
                self.PE,
                self.avail_true,
                self.last_action,
                self.TIX,
                self.fl,
                self.walk_f,
                self.height,
                self.EI[:, E_T],
                self.obs_buf,
                ~self._obs_ok,
                mask_at=10,
            )
            self._obs_ok[:] = True
        return self.obs_buf

    def state(self) -> np.ndarray:
        """[E, state_size] float32 global states (internal buffer, do not modify)."""
        if self.opts["obs_instead_of_state"]:
            return self.obs().reshape(self.E, -1)
        if not self._state_ok.all():
            self._split(
                state_kernel,
                self.F,
                self.PE,
                self.last_action,
                self.TIX,
                self.fl,
                self.EI[:, E_T],
                self.n_actions,
                self.state_buf,
                ~self._state_ok,
                mask_at=8,
            )
            self._state_ok[:] = True
        return self.state_buf

    def close(self) -> None:
        """Stops the stepping threads (if any)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    # ------------------------------------------------------------------ accessors
    @property
    def won(self) -> np.ndarray:
        return self.EI[:, E_WON].astype(bool)

    @property
    def timed_out(self) -> np.ndarray:
        return self.EI[:, E_TIMEOUT].astype(bool)

    @property
    def done(self) -> np.ndarray:
        return self.EI[:, E_DONE].astype(bool)

    @property
    def dead_allies(self) -> np.ndarray:
        return self.EI[:, E_DEAD_A].copy()

    @property
    def dead_enemies(self) -> np.ndarray:
        return self.EI[:, E_DEAD_E].copy()

    @property
    def steps(self) -> np.ndarray:
        return self.EI[:, E_T].copy()

    def units(self, e: int = 0) -> dict[str, np.ndarray]:
        """Positions, health, shields, cooldowns, energy and orders of battle e (copies)."""
        F = self.F[e]
        return {
            "x": F[:, X].copy(),
            "y": F[:, Y].copy(),
            "health": F[:, HP].copy(),
            "shield": F[:, SH].copy(),
            "cooldown": F[:, CD].copy(),
            "energy": F[:, EN].copy(),
            "order": self.I[e, :, ORD].copy(),
            "target": self.I[e, :, TGT].copy(),
            "facing": np.arctan2(F[:, FY], F[:, FX]),
            "weapon_phase": self.I[e, :, WPH].copy(),
            "radius": self.PE[e, :, P_RADIUS].copy(),
            "type": np.array(self.battle_unit_types(e)),
            "team": np.r_[np.zeros(self.n_agents, int), np.ones(self.n_enemies, int)],
        }

    def set_units(self, e: int = 0, **cols: np.ndarray) -> None:
        """Overwrite unit columns (x, y, health, shield, cooldown, energy; facing, radians) of
        battle e (tests)."""
        idx = {"x": X, "y": Y, "health": HP, "shield": SH, "cooldown": CD, "energy": EN}
        for k, v in cols.items():
            if k == "facing":
                self.F[e, :, FX], self.F[e, :, FY] = np.cos(v), np.sin(v)
            else:
                self.F[e, :, idx[k]] = v
        m = np.zeros(self.E, np.bool_)
        m[e] = True
        avail_all(self.F, self.PE, self.walk, self.n_agents, self.cfg[C_MOVE], self.avail, m)
        self._obs_ok[e] = self._state_ok[e] = False
