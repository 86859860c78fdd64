"""TD targets over padded episode batches (pure torch)."""

from __future__ import annotations

import torch


def td_lambda_targets(
    rewards: torch.Tensor,
    terminated: torch.Tensor,
    mask: torch.Tensor,
    next_values: torch.Tensor,
    gamma: float,
    td_lambda: float = 0.0,
) -> torch.Tensor:
    """TD(lambda) returns of padded episodes; ``td_lambda=0`` gives one-step targets.

    ``G_t = r_t + gamma * (1 - term_t) * (V_{t+1} + lambda * m_{t+1} * (G_{t+1} - V_{t+1}))``,
    where ``V_{t+1}`` is the target value of the next step and ``m_{t+1}`` says whether step
    t+1 is a real transition. A terminated episode does not bootstrap; a truncated one does
    (from the value of its last observation); padding never counts.

    Args:
        rewards, terminated, mask, next_values: ``[B, T]`` (or ``[B, T, N]`` for independent
            agents: ``rewards``, ``terminated`` and ``mask`` are then broadcast).
        gamma: Discount.
        td_lambda: Lambda in [0, 1].

    Returns:
        Targets with the shape of ``next_values``.
    """
    if next_values.dim() == rewards.dim() + 1:
        rewards, terminated, mask = (x.unsqueeze(-1) for x in (rewards, terminated, mask))
    not_done = 1.0 - terminated
    if td_lambda == 0.0:
        return rewards + gamma * not_done * next_values
    t_len = rewards.shape[1]
    next_mask = torch.cat([mask[:, 1:], torch.zeros_like(mask[:, :1])], dim=1)
    out = torch.empty_like(next_values)
    g_next = torch.zeros_like(next_values[:, 0])
    for t in range(t_len - 1, -1, -1):
        v = next_values[:, t]
        g_next = rewards[:, t] + gamma * not_done[:, t] * (v + td_lambda * next_mask[:, t] * (g_next - v))
        out[:, t] = g_next
    return out


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared TD error over real transitions only (pymarl's masked loss)."""
    if pred.dim() == mask.dim() + 1:
        mask = mask.unsqueeze(-1).expand_as(pred)
    err = (pred - target) * mask
    return (err**2).sum() / mask.sum().clamp(min=1.0)
