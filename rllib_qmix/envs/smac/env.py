"""``StarCraft2Env``: the SMAC API over the embedded engine (one battle)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .engine import Engine
from .kernels import E_DEAD_A, E_DEAD_E, E_DONE, E_T, E_TIMEOUT, E_WON
from .maps import MapSpec
from .units import P_VIEW

_NO_SEED = object()  # seed() called without an argument: SMAC's getter


class StarCraft2Env:
    """Drop-in replacement for ``smac.env.StarCraft2Env`` backed by the embedded simulator.

    Keyword options and defaults are SMAC's (``engine.SMAC_DEFAULTS``); options the simulator
    can't honour are refused (``options.check_lite_options``). Differences: a time-out always
    sets ``info["episode_limit"] = True`` (SMAC only with ``continuing_episode``; both count it
    in ``timeouts``), ``seed(seed)`` reseeds the following resets (SMAC's ``seed()`` takes no
    argument and returns the constructor's seed), and an unavailable action raises
    ``ValueError`` instead of failing an assertion.
    """

    def __init__(self, map_name: str | MapSpec = "3m", seed: int | None = None, **kwargs: Any) -> None:
        kwargs.pop("seed", None)
        self._engine = self._make_engine(map_name, seed, kwargs)
        eng = self._engine
        self.map_name = eng.map_name
        self.n_agents, self.n_enemies = eng.n_agents, eng.n_enemies
        self.n_actions, self.episode_limit = eng.n_actions, eng.episode_limit
        self.max_reward = eng.max_reward
        self.continuing_episode = eng.opts["continuing_episode"]
        self.battles_won = self.battles_game = self.timeouts = self.force_restarts = 0
        self._episode_steps = 0
        self._started = False
        self._seed = seed

    def _make_engine(self, map_name: Any, seed: int | None, kwargs: dict[str, Any]) -> Engine:
        """The one-battle engine (SMACv2's env builds its own)."""
        return Engine(map_name, 1, [seed], **kwargs)

    # ------------------------------------------------------------------ episode
    def seed(self, seed: Any = _NO_SEED) -> int | None:
        """Reseed the random stream used by the following resets; returns the seed.

        ``seed()`` without an argument only returns the current seed, like SMAC's ``seed()``
        (which takes none); ``seed(None)`` reseeds from fresh entropy.
        """
        if seed is _NO_SEED:
            return self._seed
        self._seed = seed
        self._engine.seed([seed])
        return seed

    def reset(self) -> tuple[list[np.ndarray], np.ndarray]:
        """Start a new battle; returns (per-agent observations, global state)."""
        self._engine.reset()
        self._episode_steps = 0
        self._started = True
        return self.get_obs(), self.get_state()

    def step(self, actions: Sequence[int] | np.ndarray) -> tuple[float, bool, dict]:
        """Play one step of joint actions; returns (reward, terminated, info).

        With ``heuristic_ai=True`` SMAC's scripted agent plays instead (``heuristic.py``) and, as
        in SMAC, writes the actions it took into ``actions`` (a list or array); the actions
        given stay the last actions of the observations and state."""
        if not self._started:
            raise RuntimeError("call reset() before step()")
        ei = self._engine.EI[0]
        was_done = bool(ei[E_DONE])
        rew, term = self._engine.step(np.asarray(actions, np.int64))
        if self._engine.heuristic and not was_done:
            for a, act in enumerate(self._engine.heuristic_actions[0].tolist()):
                actions[a] = act
        done = bool(term[0])
        info = {
            "battle_won": bool(ei[E_WON]) if done else False,
            "dead_allies": int(ei[E_DEAD_A]),
            "dead_enemies": int(ei[E_DEAD_E]),
        }
        if done and ei[E_TIMEOUT]:
            info["episode_limit"] = True
        self._episode_steps = int(ei[E_T])
        if done and not was_done:
            self.battles_game += 1
            self.battles_won += int(ei[E_WON])
            self.timeouts += int(ei[E_TIMEOUT])
        return float(rew[0]), done, info

    # ------------------------------------------------------------------ features
    def get_obs_array(self) -> np.ndarray:
        """float32 [n_agents, obs_size] observations (a copy)."""
        return self._engine.obs()[0].copy()

    def get_avail_actions_array(self) -> np.ndarray:
        """uint8 [n_agents, n_actions] action masks (a copy)."""
        return self._engine.avail[0].copy()

    def get_obs(self) -> list[np.ndarray]:
        """Per-agent float32 observations."""
        return list(self._engine.obs()[0].copy())

    def get_obs_agent(self, agent_id: int) -> np.ndarray:
        """Observation of one agent."""
        return self._engine.obs()[0, agent_id].copy()

    def get_state(self) -> np.ndarray:
        """float32 global state."""
        return self._engine.state()[0].copy()

    def get_avail_actions(self) -> list[list[int]]:
        """Action masks as SMAC's lists of 0/1."""
        return self._engine.avail[0].tolist()

    def get_avail_agent_actions(self, agent_id: int) -> list[int]:
        """Action mask of one agent."""
        return self._engine.avail[0, agent_id].tolist()

    # ------------------------------------------------------------------ sizes and info
    def get_obs_size(self) -> int:
        return self._engine.obs_size

    def get_state_size(self) -> int:
        return self._engine.state_size

    def get_total_actions(self) -> int:
        return self.n_actions

    def get_obs_move_feats_size(self) -> int:
        """Size of the movement features (4 move flags, optional pathing and heights)."""
        return int(self._engine.obs_blocks["move"])

    def get_obs_enemy_feats_size(self) -> tuple[int, int]:
        """(n_enemies, features per enemy) of the observation's enemy block."""
        return self.n_enemies, int(self._engine.obs_blocks["enemy"])

    def get_obs_ally_feats_size(self) -> tuple[int, int]:
        """(n_agents - 1, features per ally) of the observation's ally block."""
        return self.n_agents - 1, int(self._engine.obs_blocks["ally"])

    def get_obs_own_feats_size(self) -> int:
        """Size of the agent's own features (health, shield, type, and the time step if observed)."""
        return int(self._engine.obs_blocks["own"])

    def get_visibility_matrix(self) -> np.ndarray:
        """bool [n_agents, n_agents + n_enemies]: which units each agent sees, as SMAC computes it.

        A live agent sees a live unit closer than its sight range (9 in SMAC); allies fill columns
        ``0..n_agents-1`` (an agent's own column stays False; the ally part is symmetric),
        enemies the columns after them. A dead agent's row is all False.
        """
        u = self._engine.units()
        a, n = self.n_agents, self.n_agents + self.n_enemies
        x, y, alive = u["x"][:n], u["y"][:n], u["health"][:n] > 0
        d = np.hypot(x[:a, None] - x[None, :], y[:a, None] - y[None, :])
        sight = self._engine.PE[0, :a, P_VIEW]
        vis = (d < sight[:, None]) & alive[:a, None] & alive[None, :]
        vis[np.arange(a), np.arange(a)] = False
        return vis

    @property
    def pathing_grid(self) -> np.ndarray:
        """bool [x, y]: the map's pathable cells, as SMAC reads them from the game (a read-only copy)."""
        grid = np.array(self._engine.walk, dtype=bool)
        grid.setflags(write=False)
        return grid

    @property
    def terrain_height(self) -> np.ndarray:
        """float [x, y] in [0, 1]: terrain height / 255, as SMAC reads it from the game (a read-only copy)."""
        height = np.array(self._engine.height, dtype=np.float64)
        height.setflags(write=False)
        return height

    def get_obs_feature_names(self) -> None:  # pragma: no cover - SMAC has none either
        return None

    def get_env_info(self) -> dict[str, Any]:
        """SMAC's env info dict."""
        eng = self._engine
        return {
            "state_shape": eng.state_size,
            "obs_shape": eng.obs_size,
            "n_actions": self.n_actions,
            "n_agents": self.n_agents,
            "episode_limit": self.episode_limit,
            "agent_features": ["health", "energy/cooldown", "rel_x", "rel_y"]
            + ["shield"] * eng.flags["shb_a"]
            + ["type"] * eng.flags["bits"],
            "enemy_features": ["health", "rel_x", "rel_y"]
            + ["shield"] * eng.flags["shb_e"]
            + ["type"] * eng.flags["bits"],
        }

    def get_stats(self) -> dict[str, float]:
        """Running battle statistics (SMAC's keys)."""
        return {
            "battles_won": self.battles_won,
            "battles_game": self.battles_game,
            "battles_draw": self.timeouts,
            "win_rate": self.battles_won / self.battles_game if self.battles_game else 0.0,
            "timeouts": self.timeouts,
            "restarts": self.force_restarts,
        }

    def render(self, mode: str = "rgb_array") -> np.ndarray:
        """An HxWx3 uint8 picture of the battle."""
        if mode != "rgb_array":
            raise ValueError("only mode='rgb_array' is supported")
        from .render import render_frame

        return render_frame(self._engine, 0)

    def close(self) -> None:
        """Nothing to release (kept for SMAC compatibility)."""

    def save_replay(self) -> None:  # pragma: no cover - SMAC compatibility
        """No replays: use ``save_gif``."""

    @property
    def engine(self) -> Engine:
        """The underlying one-battle engine (for tests and tools)."""
        return self._engine
