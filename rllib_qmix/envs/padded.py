"""Agents of different sizes as one team: observations padded to one size, actions to one count.

QMIX shares one agent network, so every agent needs the same observation size and action
count. ``PaddedParallelEnv`` wraps a PettingZoo ``ParallelEnv`` whose agents differ (as in
mpe2's ``simple_speaker_listener_v4``: a speaker with 3 observations and 3 actions, a
listener with 11 and 5): each observation is zero-padded to the largest size, each agent
gets ``Discrete(largest count)`` with an action mask that allows only its own actions, and
the one-hot agent id (``obs_agent_id``, on by default) tells the shared network who is who.
EPyMARL pads heterogeneous agents the same way.
"""

from __future__ import annotations

from typing import Any, Optional

import gymnasium as gym
import numpy as np

from rllib_qmix.envs.team import TeamEnvError


class PaddedParallelEnv:
    """A PettingZoo ``ParallelEnv`` with Box observations and Discrete actions of different
    sizes, seen with one size: observations ``{"observations": Box(D), "action_mask": Box(A)}``
    and ``Discrete(A)`` actions, D and A the largest of the agents'.

    Args:
        env: The parallel env; its ``state()``/``state_space`` pass through unchanged.
    """

    def __init__(self, env: Any) -> None:
        self.env = env
        who = type(getattr(env, "unwrapped", env)).__name__
        self._sizes: dict[Any, tuple[int, int]] = {}
        for agent in env.possible_agents:
            obs_space, act_space = env.observation_space(agent), env.action_space(agent)
            if not isinstance(obs_space, gym.spaces.Box) or not isinstance(act_space, gym.spaces.Discrete):
                raise TeamEnvError(
                    f"{who} agent {agent!r} has spaces {obs_space} and {act_space}; padding needs Box "
                    "observations and Discrete actions."
                )
            self._sizes[agent] = (int(np.prod(obs_space.shape)), int(act_space.n))
        self.obs_dim = max(d for d, _ in self._sizes.values())
        self.n_actions = max(n for _, n in self._sizes.values())
        self._obs_space = gym.spaces.Dict(
            {
                "observations": gym.spaces.Box(-np.inf, np.inf, (self.obs_dim,), np.float32),
                "action_mask": gym.spaces.Box(0, 1, (self.n_actions,), np.int8),
            }
        )
        self._act_space = gym.spaces.Discrete(self.n_actions)
        self._masks = {a: (np.arange(self.n_actions) < n).astype(np.int8) for a, (_, n) in self._sizes.items()}
        self.metadata = getattr(env, "metadata", {})

    # ------------------------------------------------------------ PettingZoo API
    @property
    def possible_agents(self) -> list:
        return list(self.env.possible_agents)

    @property
    def agents(self) -> list:
        return list(self.env.agents)

    @property
    def unwrapped(self) -> Any:
        return getattr(self.env, "unwrapped", self.env)

    @property
    def state_space(self) -> gym.Space:
        return self.env.state_space

    def state(self) -> np.ndarray:
        """The wrapped env's global state, unchanged."""
        return self.env.state()

    def observation_space(self, agent: Any) -> gym.spaces.Dict:
        return self._obs_space

    def action_space(self, agent: Any) -> gym.spaces.Discrete:
        return self._act_space

    def reset(self, seed: Optional[int] = None, options: Optional[dict] = None) -> tuple[dict, dict]:
        obs, infos = self.env.reset(seed=seed, options=options)
        return self._pad(obs), infos

    def step(self, actions: dict) -> tuple[dict, dict, dict, dict, dict]:
        for agent, action in actions.items():
            n = self._sizes[agent][1]
            if not 0 <= int(action) < n:
                raise TeamEnvError(f"action {int(action)} for agent {agent!r}, which has {n} actions (0..{n - 1})")
        obs, rewards, terms, truncs, infos = self.env.step({a: int(x) for a, x in actions.items()})
        return self._pad(obs), rewards, terms, truncs, infos

    def render(self) -> Any:
        return self.env.render()

    def close(self) -> None:
        self.env.close()

    def _pad(self, obs: dict) -> dict:
        out = {}
        for agent, o in obs.items():
            padded = np.zeros(self.obs_dim, np.float32)
            flat = np.asarray(o, np.float32).reshape(-1)
            padded[: flat.size] = flat
            out[agent] = {"observations": padded, "action_mask": self._masks[agent]}
        return out
