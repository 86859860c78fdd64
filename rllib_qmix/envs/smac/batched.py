"""``BatchedStarCraft2Env``: N battles of one map stepped together as arrays."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .engine import Engine
from .maps import MapSpec


class BatchedStarCraft2Env:
    """N SMAC battles in lockstep; battle i behaves exactly like ``StarCraft2Env(seed=seeds[i])``.

    ``seed`` may be an int (battle i gets ``seed + i``), a sequence of N seeds, or None.
    Finished battles stay finished (reward 0, terminated True) until reset. ``n_threads`` > 1
    steps the battles in that many threads (each its block of battles; same results), which
    helps large batches on as many free cores.
    """

    def __init__(
        self,
        map_name: str | MapSpec = "3m",
        n_envs: int = 1,
        seed: int | Sequence[int] | None = None,
        n_threads: int = 1,
        **kwargs: Any,
    ) -> None:
        if seed is None:
            seeds: list[int | None] = [None] * n_envs
        elif isinstance(seed, (int, np.integer)):
            seeds = [int(seed) + i for i in range(n_envs)]
        else:
            seeds = [int(s) for s in seed]
            if len(seeds) != n_envs:
                raise ValueError(f"got {len(seeds)} seeds for {n_envs} envs")
        self.engine = self._make_engine(map_name, n_envs, seeds, dict(kwargs, n_threads=n_threads))
        eng = self.engine
        self.map_name, self.n_envs = eng.map_name, n_envs
        self.n_agents, self.n_enemies = eng.n_agents, eng.n_enemies
        self.n_actions, self.episode_limit = eng.n_actions, eng.episode_limit

    def _make_engine(self, map_name: Any, n_envs: int, seeds: list[int | None], kwargs: dict[str, Any]) -> Engine:
        """The engine of the N battles (SMACv2's batched env builds its own)."""
        return Engine(map_name, n_envs, seeds, **kwargs)

    def reset(self) -> None:
        """Start new battles everywhere."""
        self.engine.reset()

    def reset_envs(self, mask: np.ndarray) -> None:
        """Start new battles in the envs where mask (bool[E]) is True."""
        self.engine.reset(np.asarray(mask, np.bool_))

    def reset_done(self) -> None:
        """Start new battles in the finished envs."""
        done = self.engine.done
        if done.any():
            self.engine.reset(done)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """actions int[E, n_agents] -> (reward float32[E], terminated bool[E], info arrays).

        With ``heuristic_ai=True`` SMAC's scripted agent plays instead and the actions it took
        are written into ``actions`` where that is an array (as SMAC writes into its list)."""
        was_done = self.engine.done.copy()
        rew, term = self.engine.step(actions)
        eng = self.engine
        if eng.heuristic and isinstance(actions, np.ndarray):
            actions[~was_done] = eng.heuristic_actions[~was_done]
        info = {
            "battle_won": eng.won & term,
            "timed_out": eng.timed_out & term,
            "dead_allies": eng.dead_allies,
            "dead_enemies": eng.dead_enemies,
        }
        return rew.astype(np.float32), term.copy(), info

    def get_obs(self) -> np.ndarray:
        """float32 [E, n_agents, obs_size]."""
        return self.engine.obs().copy()

    def get_state(self) -> np.ndarray:
        """float32 [E, state_size]."""
        return self.engine.state().copy()

    def get_avail_actions(self) -> np.ndarray:
        """bool [E, n_agents, n_actions]."""
        return self.engine.avail.astype(np.bool_)

    def get_obs_size(self) -> int:
        return self.engine.obs_size

    def get_state_size(self) -> int:
        return self.engine.state_size

    def get_total_actions(self) -> int:
        return self.n_actions

    def get_env_info(self) -> dict[str, Any]:
        """SMAC's env info dict (per battle) plus n_envs."""
        eng = self.engine
        return {
            "state_shape": eng.state_size,
            "obs_shape": eng.obs_size,
            "n_actions": self.n_actions,
            "n_agents": self.n_agents,
            "episode_limit": self.episode_limit,
            "n_envs": self.n_envs,
        }

    def render(self, env_index: int = 0) -> np.ndarray:
        """Picture of one battle."""
        from .render import render_frame

        return render_frame(self.engine, env_index)

    def close(self) -> None:
        """Stops the stepping threads (if any)."""
        self.engine.close()
