"""Acting: one step of the shared agent network for E teams, epsilon-greedy over available actions.

``TeamActor`` is the one acting step of the package: the env runner samples with it, rendering
(GIFs of a trained team) plays with it, and the benchmarks' battle breakdowns use it. It keeps
each team's GRU state and previous actions between steps.
"""

from __future__ import annotations

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


class TeamActor:
    """The recurrent acting state of ``num_teams`` teams and their step function.

    Args:
        module: The QMIX RLModule (inference-only on env runners).
        num_teams: Teams acted for in one forward pass.
        rng: Source of the exploration draws.
    """

    def __init__(self, module: Any, num_teams: int, rng: np.random.Generator) -> None:
        self.module = module
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
        """Advances every team's GRU by one step on ``obs`` ``[E, N, obs_dim]``; returns Q ``[E, N, A]``."""
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


__all__ = ["TeamActor", "epsilon_at", "select_actions"]
