"""TD targets and the masked loss, against values worked out by hand."""

import pytest
import torch

from rllib_qmix.learning.targets import masked_mse, td_lambda_targets


def _batch():
    # Episode 0: 3 steps, terminated at the end. Episode 1: 2 steps, truncated; 1 padding step.
    rewards = torch.tensor([[1.0, 2.0, 3.0], [0.5, 1.0, 99.0]])
    terminated = torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    next_v = torch.tensor([[10.0, 20.0, 30.0], [4.0, 6.0, 1000.0]])
    return rewards, terminated, mask, next_v


def test_one_step_targets_by_hand():
    r, term, mask, v = _batch()
    y = td_lambda_targets(r, term, mask, v, gamma=0.5)
    expected = torch.tensor([[1 + 0.5 * 10, 2 + 0.5 * 20, 3.0], [0.5 + 0.5 * 4, 1 + 0.5 * 6, 99 + 0.5 * 1000]])
    assert torch.allclose(y, expected)


def test_td_lambda_by_hand():
    r, term, mask, v = _batch()
    g, lam = 0.5, 0.5
    y = td_lambda_targets(r, term, mask, v, gamma=g, td_lambda=lam)
    # Episode 0: G2 = 3 (terminated); G1 = 2 + g*(20 + lam*(G2 - 20)); G0 = 1 + g*(10 + lam*(G1 - 10)).
    g2 = 3.0
    g1 = 2 + g * (20 + lam * (g2 - 20))
    g0 = 1 + g * (10 + lam * (g1 - 10))
    # Episode 1 (truncated after 2 steps): G1 = 1 + g*6 bootstraps; G0 = 0.5 + g*(4 + lam*(G1 - 4)).
    h1 = 1 + g * 6
    h0 = 0.5 + g * (4 + lam * (h1 - 4))
    assert torch.allclose(y[0], torch.tensor([g0, g1, g2]))
    assert torch.allclose(y[1, :2], torch.tensor([h0, h1]))


def test_lambda_one_is_monte_carlo_for_terminated():
    r, term, mask, v = _batch()
    y = td_lambda_targets(r, term, mask, v, gamma=0.9, td_lambda=1.0)
    assert y[0, 0].item() == pytest.approx(1 + 0.9 * 2 + 0.81 * 3)


def test_masked_mse_by_hand_and_padding_ignored():
    pred = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, -7.0]])
    target = torch.tensor([[0.0, 2.0, 5.0], [4.0, 3.0, 100.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    # Squared errors of real steps: 1, 0, 4, 0, 4 -> mean 9/5.
    assert masked_mse(pred, target, mask).item() == pytest.approx(9 / 5)
    pred2 = pred.clone()
    pred2[1, 2] = 1e6
    assert masked_mse(pred2, target, mask).item() == pytest.approx(9 / 5)


def test_per_agent_broadcast():
    r, term, mask, v = _batch()
    v3 = v.unsqueeze(-1).repeat(1, 1, 2)
    y = td_lambda_targets(r, term, mask, v3, gamma=0.5)
    assert y.shape == (2, 3, 2)
    assert torch.allclose(y[..., 0], td_lambda_targets(r, term, mask, v, gamma=0.5))


def _four_steps():
    # One episode of 4 steps, terminated at the end; the action at step 2 explored.
    rewards = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    terminated = torch.tensor([[0.0, 0.0, 0.0, 1.0]])
    mask = torch.ones(1, 4)
    next_v = torch.tensor([[10.0, 20.0, 30.0, 99.0]])
    next_greedy = torch.tensor([[1.0, 0.0, 1.0, 0.0]])  # the actions at steps 1 and 3 were greedy, not 2's
    return rewards, terminated, mask, next_v, next_greedy


def test_watkins_trace_cut_by_hand():
    r, term, mask, v, greedy = _four_steps()
    y = td_lambda_targets(r, term, mask, v, gamma=0.5, td_lambda=0.5, next_greedy=greedy)
    # G3 = 4 (terminated). G2 = 3 + .5 * (30 + .5 * (4 - 30)) = 11.5 (step 3 greedy: the trace goes on).
    # G1 = 2 + .5 * 20 = 12 (step 2 explored: the trace is cut, a one-step target).
    # G0 = 1 + .5 * (10 + .5 * (12 - 10)) = 6.5 (step 1 greedy: the trace goes on, up to the cut).
    assert torch.allclose(y, torch.tensor([[6.5, 12.0, 11.5, 4.0]]))
    # The naive trace runs through step 2: G1 = 2 + .5 * (20 + .5 * (11.5 - 20)) = 9.875,
    # G0 = 1 + .5 * (10 + .5 * (9.875 - 10)) = 5.96875.
    naive = td_lambda_targets(r, term, mask, v, gamma=0.5, td_lambda=0.5)
    assert torch.allclose(naive, torch.tensor([[5.96875, 9.875, 11.5, 4.0]]))


def test_watkins_with_lambda_zero_is_one_step():
    r, term, mask, v, greedy = _four_steps()
    y = td_lambda_targets(r, term, mask, v, gamma=0.5, td_lambda=0.0, next_greedy=greedy)
    assert torch.allclose(y, torch.tensor([[1 + 5.0, 2 + 10.0, 3 + 15.0, 4.0]]))


def test_watkins_all_greedy_is_naive_none_greedy_is_one_step():
    r, term, mask, v = _batch()
    naive = td_lambda_targets(r, term, mask, v, gamma=0.5, td_lambda=0.5)
    ones, zeros = torch.ones_like(v), torch.zeros_like(v)
    assert torch.allclose(td_lambda_targets(r, term, mask, v, gamma=0.5, td_lambda=0.5, next_greedy=ones), naive)
    one_step = td_lambda_targets(r, term, mask, v, gamma=0.5)
    cut = td_lambda_targets(r, term, mask, v, gamma=0.5, td_lambda=0.5, next_greedy=zeros)
    assert torch.allclose(cut[mask > 0], one_step[mask > 0])


def test_watkins_keeps_termination_and_padding():
    """A terminated step never bootstraps and a padded step never feeds the trace, whatever
    ``next_greedy`` says there; a truncated episode bootstraps from its last value."""
    r, term, mask, v = _batch()
    g, lam = 0.5, 0.5
    greedy = torch.ones_like(v)  # a kept trace everywhere, padding and episode ends included
    y = td_lambda_targets(r, term, mask, v, gamma=g, td_lambda=lam, next_greedy=greedy)
    # Same as the hand values of test_td_lambda_by_hand.
    g1 = 2 + g * (20 + lam * (3.0 - 20))
    h1 = 1 + g * 6
    assert torch.allclose(y[0], torch.tensor([1 + g * (10 + lam * (g1 - 10)), g1, 3.0]))
    assert torch.allclose(y[1, :2], torch.tensor([0.5 + g * (4 + lam * (h1 - 4)), h1]))
    # The padded step's reward and value do not leak in through a trace left open.
    r2, v2 = r.clone(), v.clone()
    r2[1, 2], v2[1, 2] = -1e6, 1e6
    y2 = td_lambda_targets(r2, term, mask, v2, gamma=g, td_lambda=lam, next_greedy=greedy)
    assert torch.allclose(y2[mask > 0], y[mask > 0])


def test_watkins_per_agent_traces():
    """Without a mixer each agent's trace is cut on its own action."""
    r, term, mask, v, greedy = _four_steps()
    v2 = v.unsqueeze(-1).repeat(1, 1, 2)
    both = torch.stack([greedy, torch.ones_like(greedy)], dim=-1)  # agent 1 always greedy
    y = td_lambda_targets(r, term, mask, v2, gamma=0.5, td_lambda=0.5, next_greedy=both)
    assert torch.allclose(y[..., 0], torch.tensor([[6.5, 12.0, 11.5, 4.0]]))
    assert torch.allclose(y[..., 1], torch.tensor([[5.96875, 9.875, 11.5, 4.0]]))
