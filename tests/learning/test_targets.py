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
