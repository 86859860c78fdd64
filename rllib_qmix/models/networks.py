"""Pure torch networks of QMIX: the shared recurrent agent and the mixers.

No RLlib imports here: these modules are small, testable on their own and reused by the
RLModule (``modules.py``) and by the minimal plain-torch loop in ``benchmarks/``.

Tensors are episode-major: ``[B, T, N, ...]`` (batch of episodes, time, agents).
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn


class AgentRNN(nn.Module):
    """Shared DRQN agent: FC -> ReLU -> GRU -> FC, one copy for all agents.

    Args:
        input_dim: Size of an agent's input (obs [+ one-hot id] [+ one-hot last action]).
        n_actions: Number of discrete actions.
        hidden_dim: Width of the FC layer and of the GRU state.
    """

    def __init__(self, input_dim: int, n_actions: int, hidden_dim: int = 64) -> None:
        super().__init__()
        self.hidden_dim = hidden_dim
        self.fc_in = nn.Linear(input_dim, hidden_dim)
        self.rnn = nn.GRU(hidden_dim, hidden_dim, batch_first=True)
        self.fc_out = nn.Linear(hidden_dim, n_actions)

    def initial_state(self, batch: int, device: Optional[torch.device] = None) -> torch.Tensor:
        """Zero hidden state for ``batch`` agent-rows: ``[batch, hidden_dim]``."""
        return torch.zeros(batch, self.hidden_dim, device=device)

    def forward(self, inputs: torch.Tensor, h0: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Unrolls the agent over time.

        Args:
            inputs: ``[R, T, input_dim]``, one row per (episode, agent).
            h0: ``[R, hidden_dim]`` start state, zeros (episode start) when None.

        Returns:
            Q-values ``[R, T, n_actions]`` and the final hidden state ``[R, hidden_dim]``.
        """
        x = F.relu(self.fc_in(inputs))
        h = None if h0 is None else h0.unsqueeze(0).contiguous()
        out, h_n = self.rnn(x, h)
        return self.fc_out(out), h_n.squeeze(0)

    def unroll_padded(self, inputs: torch.Tensor, lengths: torch.Tensor, max_buckets: int = 3) -> torch.Tensor:
        """Q-values of rows of different lengths from a zero start state, skipping most padding.

        Rows are grouped by length (``length_buckets``) and each group is unrolled only up to
        its longest row, so a few long episodes no longer make every row run to their length.
        (A packed sequence would skip all padding but is several times slower on CPU.)

        Args:
            inputs: ``[R, T, input_dim]``.
            lengths: ``[R]`` number of real steps of each row (<= T).
            max_buckets: Most groups to unroll separately.

        Returns:
            ``[R, T, n_actions]``: each row's Q-values at its real steps; zeros after its
            group's longest row, and values of no meaning in between (mask them).
        """
        t = inputs.shape[1]
        lengths = lengths.detach().cpu()  # one device sync; bucketing runs on the CPU
        pieces, order = [], []
        for rows in length_buckets(lengths, max_buckets):
            t_b = int(lengths[rows].max())
            q, _ = self(inputs[rows.to(inputs.device), :t_b])
            pieces.append(F.pad(q, (0, 0, 0, t - t_b)))
            order.append(rows)
        inverse = torch.argsort(torch.cat(order)).to(inputs.device)
        return torch.cat(pieces)[inverse]


#: The fixed cost of one more sequential step of a GRU unroll, in rows of one step: forward and
#: backward of the hidden-64 agent took ~140 us per step + ~3.3 us per row on a 2-core x86-64
#: CPU with one torch thread (3m, batch 32: 13% faster than ignoring it; MMM2, batch 128: the same).
STEP_COST_ROWS = 40.0


def length_buckets(
    lengths: torch.Tensor, max_buckets: int = 3, min_saving: float = 0.1, step_cost: Optional[float] = None
) -> list[torch.Tensor]:
    """Groups row indices by length so that unrolling each group to its longest row wastes little.

    Starting from one group, repeatedly makes the single split (of rows sorted by length) that
    saves the most cost, while it saves at least ``min_saving`` of its group's cost. A group
    of ``r`` rows unrolled for ``t`` steps costs ``t * (r + step_cost)``: every sequential step
    has a fixed cost (``STEP_COST_ROWS`` rows when None), so with few rows a split that adds
    steps costs more than the padding it skips.

    Returns:
        A list of index tensors (on the CPU) that together cover every row once.
    """
    step_cost = STEP_COST_ROWS if step_cost is None else step_cost
    lengths = lengths.detach().cpu().long()
    order = torch.argsort(lengths, stable=True)
    srt = lengths[order]
    groups = [(0, len(srt))]  # half-open ranges over the sorted rows
    while len(groups) < max_buckets:
        best = None  # (saving, group index, split point)
        for g, (a, b) in enumerate(groups):
            n = b - a
            if n < 2:
                continue
            seg = srt[a:b]
            cost = (n + step_cost) * int(seg[-1])
            first = torch.arange(1, n)  # the first group keeps `first` rows
            split_cost = (first + step_cost) * seg[first - 1] + (n - first + step_cost) * seg[-1]
            k = int(torch.argmin(split_cost))
            saving = cost - int(split_cost[k])
            if saving > min_saving * cost and (best is None or saving > best[0]):
                best = (saving, g, a + int(first[k]))
        if best is None:
            break
        _, g, cut = best
        a, b = groups[g]
        groups[g : g + 1] = [(a, cut), (cut, b)]
    return [order[a:b] for a, b in groups]


def build_agent_inputs(
    obs: torch.Tensor,
    actions_onehot_prev: Optional[torch.Tensor],
    use_agent_id: bool,
) -> torch.Tensor:
    """Concatenates an agent's input features.

    Args:
        obs: ``[B, T, N, obs_dim]``.
        actions_onehot_prev: ``[B, T, N, n_actions]`` one-hot of the previous action
            (zeros at an episode's first step), or None to leave it out.
        use_agent_id: Append a one-hot agent id.

    Returns:
        ``[B, T, N, input_dim]``.
    """
    parts = [obs]
    if actions_onehot_prev is not None:
        parts.append(actions_onehot_prev)
    if use_agent_id:
        b, t, n, _ = obs.shape
        eye = torch.eye(n, device=obs.device, dtype=obs.dtype)
        parts.append(eye.expand(b, t, n, n))
    return torch.cat(parts, dim=-1)


def agent_input_dim(obs_dim: int, n_agents: int, n_actions: int, use_agent_id: bool, use_last_action: bool) -> int:
    """Size of an agent's input vector for the given switches."""
    return obs_dim + (n_agents if use_agent_id else 0) + (n_actions if use_last_action else 0)


class QMixer(nn.Module):
    """Monotonic mixing network of QMIX (Rashid et al. 2018).

    Weights come from hypernetworks of the global state and pass through ``abs`` so that
    ``dQ_tot/dQ_a >= 0``; the hidden layer uses ELU; the final bias is a state value V(s).

    Args:
        n_agents: Number of agents mixed.
        state_dim: Size of the global state.
        embed_dim: Width of the mixing layer.
        hypernet_layers: 1 (linear hypernetworks) or 2 (one hidden ReLU layer).
        hypernet_embed: Hidden width of 2-layer hypernetworks.
    """

    def __init__(
        self,
        n_agents: int,
        state_dim: int,
        embed_dim: int = 32,
        hypernet_layers: int = 2,
        hypernet_embed: int = 64,
    ) -> None:
        super().__init__()
        if hypernet_layers not in (1, 2):
            raise ValueError(f"hypernet_layers must be 1 or 2, got {hypernet_layers}.")
        self.n_agents = n_agents
        self.embed_dim = embed_dim

        def hyper(out_dim: int) -> nn.Module:
            if hypernet_layers == 1:
                return nn.Linear(state_dim, out_dim)
            return nn.Sequential(nn.Linear(state_dim, hypernet_embed), nn.ReLU(), nn.Linear(hypernet_embed, out_dim))

        self.hyper_w1 = hyper(n_agents * embed_dim)
        self.hyper_w_final = hyper(embed_dim)
        self.hyper_b1 = nn.Linear(state_dim, embed_dim)
        self.hyper_v = nn.Sequential(nn.Linear(state_dim, embed_dim), nn.ReLU(), nn.Linear(embed_dim, 1))

    def forward(self, agent_qs: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
        """Mixes per-agent Q-values.

        Args:
            agent_qs: ``[B, T, N]`` chosen (or max) Q-values of each agent.
            states: ``[B, T, state_dim]``.

        Returns:
            ``Q_tot`` of shape ``[B, T]``.
        """
        b, t, n = agent_qs.shape
        s = states.reshape(b * t, -1)
        w1 = torch.abs(self.hyper_w1(s)).view(b * t, n, self.embed_dim)
        # Per-step products of a [1, n] row with an [n, embed] matrix, written as a broadcast
        # multiply and sum: torch.bmm on thousands of tiny matrices is slower on the CPU.
        hidden = F.elu((agent_qs.reshape(b * t, n, 1) * w1).sum(dim=1) + self.hyper_b1(s))
        w_final = torch.abs(self.hyper_w_final(s))
        v = self.hyper_v(s).squeeze(-1)
        return ((hidden * w_final).sum(dim=-1) + v).view(b, t)


class VDNMixer(nn.Module):
    """Value decomposition (Sunehag et al. 2017): ``Q_tot`` is the sum of agents' Q-values."""

    def forward(self, agent_qs: torch.Tensor, states: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``[B, T, N] -> [B, T]``; the state is ignored."""
        return agent_qs.sum(dim=-1)
