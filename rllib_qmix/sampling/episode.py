"""A finished (or cut) team episode as compact numpy arrays, and the builder that collects one."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rllib_qmix.envs.team import TeamObs


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


class EpisodeBuilder:
    """Collects one env's steps until its episode ends.

    Args:
        first: The observation the episode starts from.
    """

    __slots__ = ("obs", "state", "avail", "actions", "rewards")

    def __init__(self, first: TeamObs) -> None:
        self.obs, self.state, self.avail = [first.obs], [first.state], [first.avail]
        self.actions: list[np.ndarray] = []
        self.rewards: list[float] = []

    def __len__(self) -> int:
        return len(self.actions)

    def add(self, actions: np.ndarray, reward: float, nxt: TeamObs) -> None:
        """Records one step: the actions taken, the team reward and what the team sees next."""
        self.actions.append(actions)
        self.rewards.append(reward)
        self.obs.append(nxt.obs)
        self.state.append(nxt.state)
        self.avail.append(nxt.avail)

    def finish(self, terminated: bool, truncated: bool, info: dict) -> TeamEpisode:
        """The episode as arrays (``terminated``: no bootstrap from its end; ``truncated``: cut by a time limit)."""
        return TeamEpisode(
            obs=np.stack(self.obs),
            state=np.stack(self.state),
            avail=np.stack(self.avail),
            actions=np.stack(self.actions).astype(np.int64),
            rewards=np.asarray(self.rewards, dtype=np.float32),
            terminated=terminated,
            truncated=truncated,
            info=info,
        )
