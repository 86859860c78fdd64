"""Cooperative matrix games as RLlib ``MultiAgentEnv``s, for tests and examples.

``TwoStepGame`` is the two-step game of the QMIX paper (Rashid et al. 2018, Sec. 6.1): in
state 1 agent 1's action picks state 2A (action 0) or 2B (action 1); in 2A every joint action
pays 7; in 2B the payoffs are [[0, 1], [1, 8]]. The optimal return is 8, which a monotonic
mixer can represent and VDN's sum cannot learn (it settles for 7).

``MatrixGame`` is a one-step game with any cooperative payoff matrix.
Each env exposes the global state through ``state()`` and ``state_space`` (PettingZoo's
convention); the team reward is split evenly between the agents (it sums to the payoff).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

import gymnasium as gym
import numpy as np
from ray.rllib.env.multi_agent_env import MultiAgentEnv

TWO_STEP_PAYOFF_2A = np.full((2, 2), 7.0)
TWO_STEP_PAYOFF_2B = np.array([[0.0, 1.0], [1.0, 8.0]])


class TwoStepGame(MultiAgentEnv):
    """The two-step cooperative game of the QMIX paper; 2 agents, 2 actions each.

    Observations and the state are a one-hot of the game state (1, 2A, 2B) plus a one-hot
    of the step (the agents' observations equal the state, as in the paper).
    """

    N_STATES = 3

    def __init__(self, config: Optional[dict] = None) -> None:
        super().__init__()
        self.agents = self.possible_agents = ["agent_0", "agent_1"]
        box = gym.spaces.Box(0.0, 1.0, (self.N_STATES + 2,), np.float32)
        self.observation_spaces = {a: box for a in self.agents}
        self.action_spaces = {a: gym.spaces.Discrete(2) for a in self.agents}
        self.state_space = box
        self._state = 0
        self._t = 0

    def state(self) -> np.ndarray:
        """The global state: one-hot game state and step."""
        s = np.zeros(self.N_STATES + 2, dtype=np.float32)
        s[self._state] = 1.0
        s[self.N_STATES + min(self._t, 1)] = 1.0
        return s

    def _obs(self) -> dict:
        s = self.state()
        return {a: s.copy() for a in self.agents}

    def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None):
        self._state, self._t = 0, 0
        return self._obs(), {a: {} for a in self.agents}

    def step(self, action_dict: dict):
        a0, a1 = int(action_dict["agent_0"]), int(action_dict["agent_1"])
        if self._t == 0:
            self._state = 1 + a0  # 1 = 2A, 2 = 2B
            reward, done = 0.0, False
        else:
            table = TWO_STEP_PAYOFF_2A if self._state == 1 else TWO_STEP_PAYOFF_2B
            reward, done = float(table[a0, a1]), True
        self._t += 1
        rewards = {a: reward / 2 for a in self.agents}
        dones = {a: done for a in self.agents}
        dones["__all__"] = done
        return self._obs(), rewards, dones, {"__all__": False}, {a: {} for a in self.agents}


class MatrixGame(MultiAgentEnv):
    """A one-step cooperative matrix game for two agents with the given payoff matrix."""

    def __init__(self, config: Optional[dict] = None) -> None:
        super().__init__()
        payoff = np.asarray((config or {}).get("payoff", [[8, -12, -12], [-12, 0, 0], [-12, 0, 0]]), float)
        if payoff.ndim != 2:
            raise ValueError(f"payoff must be a 2-D matrix, got shape {payoff.shape}.")
        self.payoff = payoff
        self.agents = self.possible_agents = ["agent_0", "agent_1"]
        box = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
        self.observation_spaces = {a: box for a in self.agents}
        n = max(payoff.shape)
        self.action_spaces = {a: gym.spaces.Discrete(n) for a in self.agents}
        self.state_space = box

    def state(self) -> np.ndarray:
        """A constant global state (one-step game)."""
        return np.ones(1, dtype=np.float32)

    def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None):
        return {a: self.state() for a in self.agents}, {a: {} for a in self.agents}

    def step(self, action_dict: dict):
        r = float(self.payoff[int(action_dict["agent_0"]), int(action_dict["agent_1"])])
        obs = {a: self.state() for a in self.agents}
        rewards = {a: r / 2 for a in self.agents}
        dones = {a: True for a in self.agents}
        dones["__all__"] = True
        return obs, rewards, dones, {"__all__": False}, {a: {} for a in self.agents}


def optimal_return(game: str = "two_step", payoff: Optional[Sequence[Sequence[float]]] = None) -> float:
    """The best achievable team return of a matrix game (8 for the two-step game)."""
    if game == "two_step":
        return float(max(TWO_STEP_PAYOFF_2A.max(), TWO_STEP_PAYOFF_2B.max()))
    return float(np.max(payoff))
