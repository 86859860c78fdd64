"""TD targets over padded episode batches (pure torch)."""

from __future__ import annotations

from typing import Optional

import torch

#: ``td_lambda_trace`` values: the trace runs through every step ("naive"), or is cut where the
#: next action taken is not the greedy one ("watkins", Watkins's Q(lambda)).
TRACES = ("naive", "watkins")


def td_lambda_targets(
    rewards: torch.Tensor,
    terminated: torch.Tensor,
    mask: torch.Tensor,
    next_values: torch.Tensor,
    gamma: float,
    td_lambda: float = 0.0,
    next_greedy: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """TD(lambda) returns of padded episodes; ``td_lambda=0`` gives one-step targets.

    ``G_t = r_t + gamma * (1 - term_t) * (V_{t+1} + lambda * c_{t+1} * m_{t+1} * (G_{t+1} - V_{t+1}))``,
    where ``V_{t+1}`` is the target value of the next step, ``m_{t+1}`` says whether step
    t+1 is a real transition and ``c_{t+1}`` is the trace: 1 everywhere without
    ``next_greedy`` (naive Q(lambda)), else ``next_greedy[t]``. With ``next_greedy`` (1 where the
    action taken at step t+1 is the greedy one the bootstrap value ``V_{t+1}`` is built on, 0
    elsewhere) this is Watkins's Q(lambda): where the action at t+1 explored, the return after it
    belongs to another policy than the greedy one being learned, so ``G_t`` falls back to the
    one-step target ``r_t + gamma * V_{t+1}`` (Sutton & Barto 2018, Sec. 12.10; the greedy-target
    case of Retrace, Munos et al. 2016). A terminated episode does not bootstrap; a truncated one
    does (from the value of its last observation); padding never counts.

    Args:
        rewards, terminated, mask, next_values: ``[B, T]`` (or ``[B, T, N]`` for independent
            agents: ``rewards``, ``terminated`` and ``mask`` are then broadcast).
        gamma: Discount.
        td_lambda: Lambda in [0, 1].
        next_greedy: Optional, the shape of ``next_values``: 1.0 where the action taken at step
            t+1 is greedy (kept trace), 0.0 where it is not (cut trace). Its last step's value
            never counts (there is no step t+1 in the batch).

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
    if next_greedy is not None:
        next_mask = next_mask * next_greedy.to(next_mask.dtype)
    out = torch.empty_like(next_values)
    g_next = torch.zeros_like(next_values[:, 0])
    for t in range(t_len - 1, -1, -1):
        v = next_values[:, t]
        g_next = rewards[:, t] + gamma * not_done[:, t] * (v + td_lambda * next_mask[:, t] * (g_next - v))
        out[:, t] = g_next
    return out


def masked_mse(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, weights: Optional[torch.Tensor] = None
) -> torch.Tensor:
    """Mean squared TD error over real transitions only (pymarl's masked loss).

    ``weights`` (``[B]``, prioritised replay's importance weights) scale each episode's squared
    errors; the mean still divides by the number of real transitions (pymarl2's weighted loss).
    """
    if pred.dim() == mask.dim() + 1:
        mask = mask.unsqueeze(-1).expand_as(pred)
    sq = ((pred - target) * mask) ** 2
    if weights is not None:
        sq = sq * weights.reshape(-1, *([1] * (sq.dim() - 1)))
    return sq.sum() / mask.sum().clamp(min=1.0)


def episode_td_statistic(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Each episode's priority statistic for prioritised replay: ``sum_t |delta_t| / sqrt(T)``
    over its ``T`` real transitions, pymarl2's ``td_errors_abs`` (hijkzzz/pymarl2,
    ``src/learners/nq_learner.py``). It lies between the mean, which ignores how long an
    episode's errors last, and the sum, which favours long episodes for their length alone.
    Without a mixer ``|delta_t|`` is the mean over agents.

    Returns:
        ``[B]`` statistics (0 for an episode without real transitions).
    """
    err = (pred - target).abs()
    if err.dim() == mask.dim() + 1:
        err = err.mean(dim=-1)
    return (err * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0).sqrt()
