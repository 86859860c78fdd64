"""A finished (or cut) team episode as compact numpy arrays, as sampled by the env runner."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class TeamEpisode:
    """One episode of a team env.

    Attributes:
        obs: ``[L+1, N, obs_dim]`` observations, the last one after the final step.
        state: ``[L+1, state_dim]`` global states.
        avail: ``[L+1, N, n_actions]`` action masks.
        actions: ``[L, N]`` chosen actions.
        rewards: ``[L]`` team rewards.
        terminated: The last step ended the episode for good (no bootstrap from it).
        truncated: The episode was cut by a time limit (bootstrap from the last obs).
        info: Team-level info of the last step (e.g. ``battle_won``).
    """

    obs: np.ndarray
    state: np.ndarray
    avail: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminated: bool
    truncated: bool
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.actions)

    def env_steps(self) -> int:
        """Number of env steps (RLlib's episode protocol)."""
        return len(self.actions)

    def agent_steps(self) -> int:
        """Number of agent steps: env steps times agents."""
        return int(self.actions.size)

    def get_return(self) -> float:
        """The undiscounted team return."""
        return float(self.rewards.sum())
