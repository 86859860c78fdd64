"""Running mean and variance of team rewards (``standardize_rewards``) and of inputs
(``normalize_obs`` / ``normalize_state``).

Every stored value counts once (each episode is added when it enters the replay), so the
statistics do not depend on how often an episode is sampled. Sampled rewards are then
standardised as ``(r - mean) / std`` before the TD targets are built (EPyMARL's
``standardise_rewards``): Q-values stay near zero instead of near ``mean / (1 - gamma)``, which
matters on long or time-limited tasks with large negative rewards (e.g. mpe simple_spread).
Subtracting the mean changes which policy is optimal when episodes can end early (SMAC: an
agent could prefer ending the battle sooner or later); it is on by default all the same, as
measured across SMAC, LBF and MPE (docs/results.md), and off in the SMAC tuned examples.

For inputs, one ``RunningMeanStd`` of shape ``[features]`` keeps the per-feature statistics of
the agents' observations (pooled over agents and steps) and another those of the global state.
"""

from __future__ import annotations

from typing import Union

import numpy as np


class RunningMeanStd:
    """Mean and variance of every value passed to ``update`` (merged batch by batch).

    Args:
        min_std: Lower bound on the std used to divide (constant values give std 0).
        shape: Shape of one value: ``()`` (default) for scalars such as rewards, whose
            ``mean``/``std`` are then Python floats; ``(d,)`` for per-feature statistics of
            vectors, whose ``mean``/``std`` are float64 arrays of that shape.
    """

    def __init__(self, min_std: float = 1e-4, shape: tuple[int, ...] = ()) -> None:
        self.min_std = float(min_std)
        self.shape = tuple(int(d) for d in shape)
        self.count = 0
        self.mean: Union[float, np.ndarray] = self._zeros()
        self._m2: Union[float, np.ndarray] = self._zeros()  # sum of squared deviations from the mean

    def _zeros(self) -> Union[float, np.ndarray]:
        return np.zeros(self.shape) if self.shape else 0.0

    @property
    def var(self) -> Union[float, np.ndarray]:
        """Population variance of the values seen (0 before any)."""
        return self._m2 / self.count if self.count else self._zeros()

    @property
    def std(self) -> Union[float, np.ndarray]:
        """The std used to standardise: ``max(sqrt(var), min_std)`` (per feature)."""
        if not self.shape:
            return max(float(np.sqrt(self.var)), self.min_std)
        return np.maximum(np.sqrt(self.var), self.min_std)

    def update(self, values: np.ndarray) -> None:
        """Adds ``values`` to the statistics: any shape for scalars, ``[..., *shape]`` otherwise."""
        x = np.asarray(values, dtype=np.float64).reshape(-1, *self.shape)
        n = len(x)
        if n == 0:
            return
        mean = x.mean(axis=0)
        m2 = ((x - mean) ** 2).sum(axis=0)
        if not self.shape:
            mean, m2 = float(mean), float(m2)
        total = self.count + n
        delta = mean - self.mean
        self.mean = self.mean + delta * n / total
        self._m2 = self._m2 + m2 + delta * delta * self.count * n / total
        self.count = total

    def standardize(self, rewards: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """``(rewards - mean) / std`` on real transitions (``mask`` 1), 0 on padding; a new array."""
        out = (np.asarray(rewards, dtype=np.float64) - self.mean) / self.std
        return (out * (np.asarray(mask) > 0)).astype(np.float32)

    def get_state(self) -> dict:
        """Counts and moments, for checkpoints (copies of the arrays)."""
        copy = (lambda v: v) if not self.shape else np.array
        state = {"count": self.count, "mean": copy(self.mean), "m2": copy(self._m2), "min_std": self.min_std}
        if self.shape:
            state["shape"] = self.shape
        return state

    def set_state(self, state: dict) -> None:
        """Restores what ``get_state`` returned (exactly)."""
        shape = tuple(state.get("shape", ()))
        if shape != self.shape:
            raise ValueError(f"Statistics of shape {shape} can't be restored into statistics of shape {self.shape}.")
        self.count, self.min_std = int(state["count"]), float(state["min_std"])
        if self.shape:
            self.mean = np.array(state["mean"], dtype=np.float64)
            self._m2 = np.array(state["m2"], dtype=np.float64)
        else:
            self.mean, self._m2 = float(state["mean"]), float(state["m2"])
