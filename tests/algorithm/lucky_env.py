"""A one-step game whose evaluations can be lucky, for the confirmed-stop tests.

``LuckyGame`` pays the team 1 for each of the first ``lucky_episodes`` episodes an env
instance finishes and 0 after, whatever the agents do. A fresh evaluation env runner's first
evaluation (one episode per env) therefore reaches a return of 1; a confirmation that follows
on the same envs does not. Used by ``env: tests.algorithm.lucky_env.LuckyGame`` in the CLI test.
"""

from __future__ import annotations

from typing import Optional

from rllib_qmix.envs.matrix import MatrixGame


class LuckyGame(MatrixGame):
    """One step, 2 agents, 2 actions; pays 1 for this instance's first ``lucky_episodes`` episodes."""

    def __init__(self, config: Optional[dict] = None, **options: int) -> None:
        # RLlib builds an env given by class path with its env config as keyword arguments.
        super().__init__({"payoff": [[0.0, 0.0], [0.0, 0.0]]})
        self.lucky_episodes = int({**(config or {}), **options}.get("lucky_episodes", 1))
        self.finished = 0

    def step(self, action_dict: dict):
        obs, rewards, dones, truncs, infos = super().step(action_dict)
        reward = 1.0 if self.finished < self.lucky_episodes else 0.0
        self.finished += 1
        return obs, {a: reward / 2 for a in rewards}, dones, truncs, infos
