"""One acting step of a trained team's shared agent network, as a plain ``torch.nn.Module``.

``AgentStep`` is what ``TeamPolicy`` acts with and what its TorchScript and ONNX exports hold:
the agent network (FC -> GRU -> FC) with the run's input layout and observation normalisation
built in, so that raw observations go in and Q-values come out.

Input layout (E teams of N agents, D observation features, A actions, H GRU units):

- ``obs`` ``[E, N, D]`` float32: raw observations, as the env returns them (normalised inside
  with the statistics of the run, ``clip((x - mean) / std, -10, 10)``, if it used ``normalize_obs``);
- ``prev_actions`` ``[E, N]`` int64: each agent's previous action, -1 at an episode's first step;
- ``hidden`` ``[E, N, H]`` float32: the GRU state, zeros at an episode's first step.

Outputs: ``q`` ``[E, N, A]`` Q-values of every action (unavailable ones included: mask them
before the argmax) and the next ``hidden`` ``[E, N, H]``. The agent network's input row is the
observation, then the one-hot previous action (if the run used ``obs_last_action``), then the
one-hot agent index (``obs_agent_id``), as in training.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rllib_qmix.models.networks import AgentRNN


class AgentStep(nn.Module):
    """One step of the shared agent network for E teams (see the module docstring).

    Args:
        agent: The trained agent network.
        n_agents: Agents per team.
        n_actions: Actions per agent.
        obs_agent_id: The network reads a one-hot agent index.
        obs_last_action: The network reads the one-hot previous action.
        obs_mean: Per-feature means of the run's observation normalisation (None: off).
        obs_std: Their standard deviations.
        obs_clip: Normalised observations are clipped to ``[-obs_clip, obs_clip]``.
    """

    def __init__(
        self,
        agent: AgentRNN,
        n_agents: int,
        n_actions: int,
        obs_agent_id: bool,
        obs_last_action: bool,
        obs_mean: Optional[np.ndarray] = None,
        obs_std: Optional[np.ndarray] = None,
        obs_clip: float = 10.0,
    ) -> None:
        super().__init__()
        self.fc_in, self.rnn, self.fc_out = agent.fc_in, agent.rnn, agent.fc_out
        self.n_agents, self.n_actions, self.hidden_dim = int(n_agents), int(n_actions), int(agent.hidden_dim)
        self.obs_agent_id, self.obs_last_action = bool(obs_agent_id), bool(obs_last_action)
        self.normalize = obs_mean is not None
        obs_dim = agent.fc_in.in_features - n_agents * obs_agent_id - n_actions * obs_last_action
        mean = np.zeros(obs_dim, np.float32) if obs_mean is None else np.asarray(obs_mean, np.float32)
        std = np.ones(obs_dim, np.float32) if obs_std is None else np.asarray(obs_std, np.float32)
        self.register_buffer("obs_mean", torch.as_tensor(mean).clone())
        self.register_buffer("obs_std", torch.as_tensor(std).clone())
        self.obs_clip = float(obs_clip)
        self.register_buffer("agent_ids", torch.eye(self.n_agents))

    def forward(
        self, obs: torch.Tensor, prev_actions: torch.Tensor, hidden: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Q-values ``[E, N, A]`` and the next GRU state ``[E, N, H]`` (see the module docstring)."""
        e, n = obs.shape[0], obs.shape[1]
        x = obs.to(torch.float32)
        if self.normalize:
            x = torch.clamp((x - self.obs_mean) / self.obs_std, -self.obs_clip, self.obs_clip)
        parts = [x]
        if self.obs_last_action:
            valid = (prev_actions >= 0).unsqueeze(-1).to(torch.float32)
            parts.append(F.one_hot(prev_actions.clamp(min=0), self.n_actions).to(torch.float32) * valid)
        if self.obs_agent_id:
            parts.append(self.agent_ids.unsqueeze(0).expand(e, n, n))
        inputs = torch.cat(parts, dim=-1).reshape(e * n, 1, -1)
        out, h = self.rnn(F.relu(self.fc_in(inputs)), hidden.reshape(1, e * n, self.hidden_dim))
        q = self.fc_out(out).reshape(e, n, self.n_actions)
        return q, h.reshape(e, n, self.hidden_dim)


__all__ = ["AgentStep"]
