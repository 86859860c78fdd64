"""Running mean and variance of the team rewards, for ``standardize_rewards``.

Every stored reward counts once (each episode is added when it enters the replay), so the
statistics do not depend on how often an episode is sampled. Sampled rewards are then
standardised as ``(r - mean) / std`` before the TD targets are built (EPyMARL's
``standardise_rewards``): Q-values stay near zero instead of near ``mean / (1 - gamma)``, which
matters on long or time-limited tasks with large negative rewards (e.g. mpe simple_spread).
Subtracting the mean changes which policy is optimal when episodes can end early (SMAC: an
agent could prefer ending the battle sooner or later), so it is off by default.
"""

from __future__ import annotations

import numpy as np


class RunningMeanStd:
    """Mean and variance of every value passed to ``update`` (merged batch by batch).

    Args:
        min_std: Lower bound on the std used to divide (constant rewards give std 0).
    """

    def __init__(self, min_std: float = 1e-4) -> None:
        self.min_std = float(min_std)
        self.count = 0
        self.mean = 0.0
        self._m2 = 0.0  # sum of squared deviations from the mean

    @property
    def var(self) -> float:
        """Population variance of the values seen (0 before any)."""
        return self._m2 / self.count if self.count else 0.0

    @property
    def std(self) -> float:
        """The std used to standardise: ``max(sqrt(var), min_std)``."""
        return max(float(np.sqrt(self.var)), self.min_std)

    def update(self, values: np.ndarray) -> None:
        """Adds ``values`` (any shape) to the statistics."""
        x = np.asarray(values, dtype=np.float64).ravel()
        n = x.size
        if n == 0:
            return
        mean = float(x.mean())
        m2 = float(((x - mean) ** 2).sum())
        total = self.count + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self._m2 += m2 + delta * delta * self.count * n / total
        self.count = total

    def standardize(self, rewards: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """``(rewards - mean) / std`` on real transitions (``mask`` 1), 0 on padding; a new array."""
        out = (np.asarray(rewards, dtype=np.float64) - self.mean) / self.std
        return (out * (np.asarray(mask) > 0)).astype(np.float32)

    def get_state(self) -> dict:
        """Counts and moments, for checkpoints."""
        return {"count": self.count, "mean": self.mean, "m2": self._m2, "min_std": self.min_std}

    def set_state(self, state: dict) -> None:
        """Restores what ``get_state`` returned."""
        self.count, self.mean = int(state["count"]), float(state["mean"])
        self._m2, self.min_std = float(state["m2"]), float(state["min_std"])
