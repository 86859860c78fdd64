"""Acting: one step of the shared agent network for E teams, epsilon-greedy over available actions.

``TeamActor`` is the one acting step of the package: the env runner samples with it, rendering
(GIFs of a trained team) plays with it, and the benchmarks' battle breakdowns use it. It keeps
each team's GRU state and previous actions between steps.

``Normalizer`` is the one input normalisation of the package (``normalize_obs`` /
``normalize_state``): frozen running statistics applied as ``clip((x - mean) / std)`` in
float32. The actor applies it to observations before the forward pass and the algorithm to the
sampled learner batches, so acting and learning see bitwise the same inputs for the same
statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import torch

from rllib_qmix import keys as K


def epsilon_at(step: int, start: float, finish: float, anneal_steps: int) -> float:
    """Linearly annealed epsilon after ``step`` env steps."""
    if anneal_steps <= 0:
        return finish
    frac = min(1.0, step / anneal_steps)
    return start + frac * (finish - start)


def select_actions(q: np.ndarray, avail: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
    """Epsilon-greedy over available actions only: ``[E, N, A] -> [E, N]``.

    With probability ``epsilon`` an agent takes a uniformly random available action, else the
    available action of highest Q-value. ``epsilon=0`` draws no random numbers.
    """
    avail = np.asarray(avail, dtype=bool)
    greedy = np.where(avail, q, -np.inf).argmax(-1)
    if epsilon <= 0.0:
        return greedy
    scores = rng.random(avail.shape)
    scores[~avail] = -1.0
    explore = rng.random(greedy.shape) < epsilon
    return np.where(explore, scores.argmax(-1), greedy)


#: Normalised inputs are clipped to ``[-NORM_CLIP, NORM_CLIP]``.
NORM_CLIP = 10.0


@dataclass(frozen=True)
class Normalizer:
    """Frozen per-feature statistics of an input and how they are applied.

    Attributes:
        mean: ``[features]`` float32 means.
        std: ``[features]`` float32 stds (already floored above zero).
        clip: Normalised values are clipped to ``[-clip, clip]``.
    """

    mean: np.ndarray
    std: np.ndarray
    clip: float = NORM_CLIP

    @classmethod
    def from_moments(cls, mean: np.ndarray, std: np.ndarray, clip: float = NORM_CLIP) -> Normalizer:
        """A normaliser from (float64) running moments, stored as float32."""
        return cls(np.asarray(mean, np.float32).copy(), np.asarray(std, np.float32).copy(), float(clip))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``clip((x - mean) / std, -clip, clip)`` over the last axis, as a new float32 array."""
        out = np.subtract(x, self.mean, dtype=np.float32)
        out /= self.std
        np.clip(out, -self.clip, self.clip, out=out)
        return out

    def get_state(self) -> dict:
        """Plain arrays and the clip, to send to env runners."""
        return {"mean": self.mean, "std": self.std, "clip": self.clip}

    @classmethod
    def from_state(cls, state: Optional[dict]) -> Optional[Normalizer]:
        """The normaliser of ``get_state()``'s dict; None for None (no normalisation)."""
        if state is None:
            return None
        return cls.from_moments(state["mean"], state["std"], state["clip"])


class TeamActor:
    """The recurrent acting state of ``num_teams`` teams and their step function.

    Args:
        module: The QMIX RLModule (inference-only on env runners).
        num_teams: Teams acted for in one forward pass.
        rng: Source of the exploration draws.
        obs_normalizer: Applied to the observations before the forward pass (``normalize_obs``);
            None feeds them as they are. May be replaced between steps (new statistics).
    """

    def __init__(
        self, module: Any, num_teams: int, rng: np.random.Generator, obs_normalizer: Optional[Normalizer] = None
    ) -> None:
        self.module = module
        self.obs_normalizer = obs_normalizer
        self.num_teams = num_teams
        self.n_agents = module.n_agents
        self.rng = rng
        self.hidden: torch.Tensor = module.initial_hidden(num_teams)  # [E * N, H]
        self.prev = torch.full((num_teams, self.n_agents), -1, dtype=torch.long)  # [E, N]

    def reset(self, team: Optional[int] = None) -> None:
        """Starts new episodes: zero GRU state and no previous action (one team, or all)."""
        if team is None:
            self.hidden = self.module.initial_hidden(self.num_teams)
            self.prev = torch.full((self.num_teams, self.n_agents), -1, dtype=torch.long)
        else:
            n = self.n_agents
            self.hidden[team * n : (team + 1) * n] = 0.0
            self.prev[team] = -1

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Advances every team's GRU by one step on ``obs`` ``[E, N, obs_dim]`` (raw: normalised
        here with ``obs_normalizer``); returns Q ``[E, N, A]``."""
        if self.obs_normalizer is not None:
            obs = self.obs_normalizer(obs)
        with torch.no_grad():
            out = self.module._forward(
                {K.OBS: torch.as_tensor(obs, dtype=torch.float32), K.PREV_ACTIONS: self.prev, K.STATE_IN: self.hidden}
            )
        self.hidden = out[K.STATE_OUT]
        return out[K.Q_VALUES].numpy()

    def act(self, obs: np.ndarray, avail: np.ndarray, epsilon: float) -> np.ndarray:
        """One acting step of every team: actions ``[E, N]`` (also remembered as the previous ones)."""
        actions = select_actions(self.q_values(obs), avail, epsilon, self.rng)
        self.prev = torch.from_numpy(actions)
        return actions


__all__ = ["NORM_CLIP", "Normalizer", "TeamActor", "epsilon_at", "select_actions"]
