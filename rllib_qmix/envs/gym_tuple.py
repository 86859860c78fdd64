"""Multi-agent gymnasium envs with Tuple spaces (Level-Based Foraging, Multi-Robot Warehouse) for QMIX.

Registered as the envs "lbf" and "rware". Such an env takes a tuple of actions and returns a
tuple of observations and a list of per-agent rewards; ``TupleGymMultiAgentEnv`` turns it into
an RLlib ``MultiAgentEnv`` (agents ``agent_0``, ``agent_1``, ...), the team reward being the sum.

* **Time limit.** The env's own limit is switched off and the adapter ends the episode as a
  truncation after ``time_limit`` steps (50 for LBF, 500 for RWARE, as in EPyMARL's benchmark),
  so that QMIX bootstraps there; an episode the env ends itself (LBF: all food collected) is a
  termination. (LBF 2.0 reports its time limit as a termination.)
* **Actions.** Every action is available at every step, as in EPyMARL's wrappers.
* **State.** Neither env has a global state: QMIX's mixer then needs the documented opt-in
  ``config.training(state_from_obs=True)`` (the agents' observations, concatenated).

Needs the ``lbforaging`` or ``rware`` package (``pip install lbforaging rware``).
"""

from __future__ import annotations

import sys
from typing import Any, Optional

import gymnasium as gym
import numpy as np
from ray.rllib.env.multi_agent_env import MultiAgentEnv

from rllib_qmix.envs.creator import env_options

#: env name -> (package, default gymnasium id, default time limit)
_SUITES = {
    "lbf": ("lbforaging", "Foraging-8x8-2p-2f-coop-v3", 50),
    "rware": ("rware", "rware-tiny-2ag-v2", 500),
}


class TupleGymMultiAgentEnv(MultiAgentEnv):
    """An RLlib ``MultiAgentEnv`` view of a gymnasium env with Tuple observation/action spaces.

    Args:
        env: The gymnasium env (its own time limit switched off).
        time_limit: Steps after which an episode is truncated.
    """

    def __init__(self, env: gym.Env, time_limit: int) -> None:
        super().__init__()
        obs_spaces, act_spaces = env.observation_space, env.action_space
        if not isinstance(obs_spaces, gym.spaces.Tuple) or not isinstance(act_spaces, gym.spaces.Tuple):
            raise ValueError(
                f"{env.spec.id if env.spec else type(env).__name__} has spaces {obs_spaces} / {act_spaces}; "
                "this adapter needs a Tuple of per-agent spaces."
            )
        if time_limit < 1:
            raise ValueError(f"time_limit must be >= 1, got {time_limit}.")
        self.env = env
        self.time_limit = int(time_limit)
        self.agents = self.possible_agents = [f"agent_{i}" for i in range(len(obs_spaces))]
        self.observation_spaces = dict(zip(self.agents, obs_spaces.spaces))
        self.action_spaces = dict(zip(self.agents, act_spaces.spaces))
        self._t = 0

    def _obs(self, obs: Any) -> dict:
        return {a: np.asarray(o, dtype=np.float32) for a, o in zip(self.agents, obs)}

    def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None) -> tuple[dict, dict]:
        self._t = 0
        obs, _ = self.env.reset(seed=seed, options=options)
        return self._obs(obs), {}

    def step(self, action_dict: dict) -> tuple[dict, dict, dict, dict, dict]:
        actions = tuple(int(action_dict.get(a, 0)) for a in self.agents)
        obs, rewards, done, truncated, info = self.env.step(actions)
        self._t += 1
        terminated = bool(done) and not truncated
        truncated = not terminated and (bool(truncated) or self._t >= self.time_limit)
        rewards = {a: float(r) for a, r in zip(self.agents, rewards)}
        flags = {"__all__": terminated}, {"__all__": truncated}
        return self._obs(obs), rewards, *flags, {}

    def render(self) -> Any:
        return self.env.render()

    def close(self) -> None:
        self.env.close()


def _make(suite: str, env_config: Optional[dict]) -> TupleGymMultiAgentEnv:
    package, default_key, default_limit = _SUITES[suite]
    cfg = env_options(suite, env_config, {"key": default_key, "time_limit": default_limit})
    try:
        __import__(package)  # registers the gymnasium ids
    except ImportError as err:
        raise ImportError(
            f"The env '{suite}' needs the {package} package: `pip install {package}` "
            f"(or install rllib_qmix with its '{suite}' extra, e.g. `pip install -e \".[{suite}]\"` in its folder)."
        ) from err
    key = cfg["key"]
    # The env's own time limit is switched off: the adapter truncates at time_limit instead.
    kwargs = {"max_steps": None} if suite == "rware" else {}
    try:
        env = gym.make(key, disable_env_checker=True, **kwargs)
    except gym.error.Error as err:
        known = sorted(k for k in gym.registry if k.startswith("Foraging" if suite == "lbf" else "rware"))
        raise ValueError(f"Unknown {suite} env '{key}' ({err}); e.g. {', '.join(known[:6])}.") from err
    if suite == "lbf":
        env.unwrapped._max_episode_steps = sys.maxsize  # LBF 2.0 ends (as done) at its own limit
    return TupleGymMultiAgentEnv(env, int(cfg["time_limit"]))


def make_lbf(env_config: Optional[dict] = None) -> TupleGymMultiAgentEnv:
    """Level-Based Foraging: ``env_config`` ``key`` (default ``Foraging-8x8-2p-2f-coop-v3``), ``time_limit`` (50)."""
    return _make("lbf", env_config)


def make_rware(env_config: Optional[dict] = None) -> TupleGymMultiAgentEnv:
    """Multi-Robot Warehouse: ``env_config`` ``key`` (default ``rware-tiny-2ag-v2``), ``time_limit`` (500)."""
    return _make("rware", env_config)


__all__ = ["TupleGymMultiAgentEnv", "make_lbf", "make_rware"]
