"""The env "smac" for RLlib: SMAC's API (embedded simulator or real SMAC) as a MultiAgentEnv.

``config.environment("smac", env_config={"map_name": "8m", "backend": "lite"})``. Each agent
observes ``{"observations": Box, "action_mask": Box}`` (RLlib's convention), the global state
comes from ``state()``/``state_space`` and ``get_state()``; the team reward is split evenly
among the agents (it sums to SMAC's reward); a time-out is a truncation, a win or defeat a
termination. QMIX's team view reads the wrapped SMAC env (``smac_env``) directly, without the
per-agent dicts.
"""

from __future__ import annotations

from typing import Any, Optional

import gymnasium as gym
import numpy as np
from ray.rllib.env.multi_agent_env import MultiAgentEnv

BACKENDS = ("lite", "sc2")


def make_smac_env(env_config: Optional[dict] = None) -> Any:
    """Creates a SMAC-API env from an env config (``map_name``, ``backend``, ``seed``, SMAC kwargs)."""
    cfg = dict(env_config or {})
    backend = cfg.pop("backend", "lite")
    map_name = cfg.pop("map_name", "3m")
    seed = cfg.pop("seed", None)  # unseeded unless asked: each env draws its own battles
    if backend == "lite":
        from rllib_qmix.envs.smac import StarCraft2Env

        return StarCraft2Env(map_name=map_name, seed=seed, **cfg)
    if backend == "sc2":
        from rllib_qmix.envs.sc2 import make_sc2_env

        return make_sc2_env(map_name=map_name, seed=seed, **cfg)
    raise ValueError(f"Unknown SMAC backend {backend!r}: use one of {BACKENDS}.")


class SMACMultiAgentEnv(MultiAgentEnv):
    """A SMAC-API env as an RLlib ``MultiAgentEnv`` with agents ``agent_0 .. agent_{n-1}``."""

    def __init__(self, env_config: Optional[dict] = None) -> None:
        super().__init__()
        self.smac_env = make_smac_env(env_config)
        info = self.smac_env.get_env_info()
        self.n_agents, self.n_actions = int(info["n_agents"]), int(info["n_actions"])
        self.agents = self.possible_agents = [f"agent_{i}" for i in range(self.n_agents)]
        obs_space = gym.spaces.Dict(
            {
                "observations": gym.spaces.Box(-np.inf, np.inf, (int(info["obs_shape"]),), np.float32),
                "action_mask": gym.spaces.Box(0.0, 1.0, (self.n_actions,), np.float32),
            }
        )
        self.observation_spaces = {a: obs_space for a in self.agents}
        self.action_spaces = {a: gym.spaces.Discrete(self.n_actions) for a in self.agents}
        self.state_space = gym.spaces.Box(-np.inf, np.inf, (int(info["state_shape"]),), np.float32)
        self._dead: set = set()

    def state(self) -> np.ndarray:
        """The global state (SMAC's ``get_state``)."""
        return np.asarray(self.smac_env.get_state(), dtype=np.float32)

    get_state = state

    def _obs(self) -> dict:
        obs = self.smac_env.get_obs()
        avail = self.smac_env.get_avail_actions()
        return {
            a: {"observations": np.asarray(obs[i], np.float32), "action_mask": np.asarray(avail[i], np.float32)}
            for i, a in enumerate(self.agents)
            if a not in self._dead
        }

    def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None):
        if seed is not None and hasattr(self.smac_env, "seed"):
            self.smac_env.seed(seed)
        self.smac_env.reset()
        self._dead = set()
        return self._obs(), {a: {} for a in self.agents}

    def step(self, action_dict: dict):
        actions = [int(action_dict.get(a, 0)) for a in self.agents]
        reward, terminated, info = self.smac_env.step(actions)
        truncated = bool(terminated and info.get("episode_limit", False))
        terminated = bool(terminated) and not truncated
        obs = self._obs()
        share = float(reward) / max(1, len(obs))
        rewards = {a: share for a in obs}
        infos = {a: dict(info) for a in obs}
        return obs, rewards, {"__all__": terminated}, {"__all__": truncated}, infos

    def render(self) -> np.ndarray:
        return self.smac_env.render(mode="rgb_array")

    def close(self) -> None:
        self.smac_env.close()
