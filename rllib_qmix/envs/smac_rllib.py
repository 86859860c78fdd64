"""The env "smac" for RLlib: SMAC's API (embedded simulator or real SMAC) as a MultiAgentEnv.

``config.environment("smac", env_config={"map_name": "8m", "backend": "lite"})``. Each agent
observes ``{"observations": Box, "action_mask": Box}`` (RLlib's convention), the global state
comes from ``state()``/``state_space`` and ``get_state()``; the team reward is split evenly
among the agents (it sums to SMAC's reward); a time-out is a truncation, a win or defeat a
termination, on both backends. QMIX's team view reads the wrapped SMAC env (``smac_env``)
directly, without the per-agent dicts.

Besides ``map_name``, ``backend``, ``seed`` and SMAC's own keyword options, the env config takes
``timeout_is_terminal`` (default False): True makes a time-out a termination (no bootstrap),
pymarl's convention with SMAC's default ``continuing_episode=False``, for parity with
published curves. Time-outs are recognised by SMAC's ``timeouts`` counter, since real SMAC
sets ``info["episode_limit"]`` only with ``continuing_episode=True``.

Seeding: the env config's ``seed`` goes to the SMAC constructor on both backends. The embedded
simulator (``backend="lite"``) is also reseeded by ``reset(seed=...)``; real SMAC
(``backend="sc2"``) can't be (its ``seed()`` takes no argument), so its seed is the
constructor's for the env's whole life; so that the envs of a run don't all play the same
battles, an sc2 env built by an env runner gets ``seed + 1000 * worker_index + vector_index``.
"""

from __future__ import annotations

from typing import Any, Optional

import gymnasium as gym
import numpy as np
from ray.rllib.env.multi_agent_env import MultiAgentEnv

from rllib_qmix.envs.team import reseeds_per_episode, smac_episode_end, smac_timeouts

BACKENDS = ("lite", "sc2")


def make_smac_env(env_config: Optional[dict] = None) -> Any:
    """Creates a SMAC-API env from an env config (``map_name``, ``backend``, ``seed``, SMAC kwargs).

    ``seed`` is given to the constructor (real SMAC is seeded there, and only there).
    """
    cfg = dict(env_config or {})
    backend = cfg.pop("backend", "lite")
    map_name = cfg.pop("map_name", "3m")
    seed = cfg.pop("seed", None)  # unseeded unless asked: each env draws its own battles
    if backend == "sc2" and seed is not None:  # one seed per env of a run (see the module docstring)
        seed = int(seed) + 1000 * int(getattr(env_config, "worker_index", 0) or 0)
        seed += int(getattr(env_config, "vector_index", 0) or 0)
    if backend == "lite":
        from rllib_qmix.envs.smac import StarCraft2Env

        return StarCraft2Env(map_name=map_name, seed=seed, **cfg)
    if backend == "sc2":
        from rllib_qmix.envs.sc2 import make_sc2_env

        return make_sc2_env(map_name=map_name, seed=seed, **cfg)
    raise ValueError(f"Unknown SMAC backend {backend!r}: use one of {BACKENDS}.")


class SMACMultiAgentEnv(MultiAgentEnv):
    """A SMAC-API env as an RLlib ``MultiAgentEnv`` with agents ``agent_0 .. agent_{n-1}``.

    ``env_config``: ``map_name``, ``backend`` ("lite" or "sc2"), ``seed``, ``timeout_is_terminal``
    and SMAC's keyword options (see the module docstring).
    """

    def __init__(self, env_config: Optional[dict] = None) -> None:
        super().__init__()
        cfg = dict(env_config or {})
        #: A time-out is a termination (pymarl's convention) instead of a truncation.
        self.timeout_is_terminal = bool(cfg.pop("timeout_is_terminal", False))
        self.smac_env = self._make_env(cfg)
        #: Whether ``reset(seed=...)`` reseeds the SMAC env (the embedded simulator) or the
        #: seed is fixed at construction (real SMAC).
        self.reseeds = reseeds_per_episode(self.smac_env)
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

    @staticmethod
    def _make_env(env_config: dict) -> Any:
        """The SMAC-API env of an env config (the env "smacv2" makes SMACv2's)."""
        return make_smac_env(env_config)

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
        if seed is not None and self.reseeds:
            self.smac_env.seed(seed)
        self.smac_env.reset()
        self._dead = set()
        return self._obs(), {a: {} for a in self.agents}

    def step(self, action_dict: dict):
        actions = [int(action_dict.get(a, 0)) for a in self.agents]
        before = smac_timeouts(self.smac_env)
        reward, terminated, info = self.smac_env.step(actions)
        terminated, truncated = smac_episode_end(self.smac_env, terminated, info, before, self.timeout_is_terminal)
        obs = self._obs()
        share = float(reward) / max(1, len(obs))
        rewards = {a: share for a in obs}
        infos = {a: dict(info) for a in obs}
        return obs, rewards, {"__all__": terminated}, {"__all__": truncated}, infos

    def render(self) -> np.ndarray:
        return self.smac_env.render(mode="rgb_array")

    def close(self) -> None:
        self.smac_env.close()
