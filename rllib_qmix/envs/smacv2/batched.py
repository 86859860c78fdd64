"""``BatchedSMACv2Env``: N SMACv2 battles of one scenario stepped together as arrays."""

from __future__ import annotations

from typing import Any

from rllib_qmix.envs.smac.batched import BatchedStarCraft2Env

from .engine import SMACv2Engine
from .scenarios import Scenario, get_scenario


class BatchedSMACv2Env(BatchedStarCraft2Env):
    """N SMACv2 battles in lockstep; battle i plays exactly as ``SMACv2Env(scenario, seed=seeds[i])``.

    ``seed`` may be an int (battle i gets ``seed + i``), a sequence of N seeds, or None; each
    battle draws its own teams and start positions at every reset. ``n_threads``: as
    ``BatchedStarCraft2Env``'s.
    """

    def __init__(
        self,
        scenario: str | Scenario = "protoss_5_vs_5",
        n_envs: int = 1,
        seed: Any = None,
        n_threads: int = 1,
        **kwargs: Any,
    ) -> None:
        self.scenario = get_scenario(scenario)
        super().__init__(self.scenario.name, n_envs, seed, n_threads, **kwargs)

    def _make_engine(self, map_name: Any, n_envs: int, seeds: list[int | None], kwargs: dict[str, Any]) -> SMACv2Engine:
        return SMACv2Engine(self.scenario, n_envs, seeds, **kwargs)
