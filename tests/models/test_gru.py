"""The GRU recurrence with a hand-written backward pass equals torch.nn.GRU: outputs, and the
gradients of every input and weight, to 1e-5."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from rllib_qmix.models.gru import gru_recurrence
from rllib_qmix.models.networks import AgentRNN


def _reference(gru: torch.nn.GRU, x: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
    """torch.nn.GRU's outputs for time-major x."""
    out, _ = gru(x.transpose(0, 1), h0.unsqueeze(0))
    return out.transpose(0, 1)


@pytest.mark.parametrize("t_len,rows,in_dim,hidden", [(1, 3, 4, 5), (17, 40, 12, 16), (60, 24, 64, 64)])
def test_recurrence_and_its_gradients_equal_torch_gru(t_len, rows, in_dim, hidden):
    torch.manual_seed(t_len)
    gru = torch.nn.GRU(in_dim, hidden, batch_first=True).double()
    x = torch.randn(t_len, rows, in_dim, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(rows, hidden, dtype=torch.float64, requires_grad=True)
    weights = [gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0, gru.bias_hh_l0]
    probe = torch.randn(t_len, rows, hidden, dtype=torch.float64)  # a loss that weighs every output

    ref = _reference(gru, x, h0)
    ref_grads = torch.autograd.grad((ref * probe).sum(), [x, h0, *weights])
    gi = F.linear(x, gru.weight_ih_l0, gru.bias_ih_l0)
    out = gru_recurrence(gi, h0, gru.weight_hh_l0, gru.bias_hh_l0)
    grads = torch.autograd.grad((out * probe).sum(), [x, h0, *weights])

    torch.testing.assert_close(out, ref, rtol=0, atol=1e-10)
    for name, g, g_ref in zip(["x", "h0", "W_ih", "W_hh", "b_ih", "b_hh"], grads, ref_grads):
        torch.testing.assert_close(g, g_ref, rtol=0, atol=1e-9, msg=f"gradient of {name}")


def test_gradcheck_of_the_hand_written_backward():
    torch.manual_seed(0)
    args = [
        torch.randn(5, 3, 6, dtype=torch.float64, requires_grad=True),  # gi (3H = 6)
        torch.randn(3, 2, dtype=torch.float64, requires_grad=True),  # h0
        torch.randn(6, 2, dtype=torch.float64, requires_grad=True),  # W_hh
        torch.randn(6, dtype=torch.float64, requires_grad=True),  # b_hh
    ]
    assert torch.autograd.gradcheck(gru_recurrence, args)


def test_without_grad_the_same_outputs_and_no_graph():
    torch.manual_seed(1)
    gru = torch.nn.GRU(4, 8)
    gi = F.linear(torch.randn(9, 5, 4), gru.weight_ih_l0, gru.bias_ih_l0)
    h0 = torch.zeros(5, 8)
    with torch.no_grad():
        out = gru_recurrence(gi, h0, gru.weight_hh_l0, gru.bias_hh_l0)
    assert not out.requires_grad
    torch.testing.assert_close(out, gru_recurrence(gi, h0, gru.weight_hh_l0, gru.bias_hh_l0).detach())


def test_agent_unroll_fast_equals_reference_in_float32():
    torch.manual_seed(2)
    fast = AgentRNN(30, 7, 64, fast_gru=True)
    ref = AgentRNN(30, 7, 64, fast_gru=False)
    ref.load_state_dict(fast.state_dict())
    x = torch.randn(120, 64, 30)
    q_fast, q_ref = fast.unroll(x), ref.unroll(x)
    torch.testing.assert_close(q_fast, q_ref, rtol=1e-5, atol=1e-5)
    q_fast.square().mean().backward()
    q_ref.square().mean().backward()
    for (name, p), p_ref in zip(fast.named_parameters(), ref.parameters()):
        torch.testing.assert_close(p.grad, p_ref.grad, rtol=1e-5, atol=1e-5, msg=f"gradient of {name}")
    # And equal to the batch-major acting path (torch.nn.GRU, one call).
    q_act, _ = ref(x.transpose(0, 1))
    torch.testing.assert_close(q_fast, q_act.transpose(0, 1), rtol=1e-5, atol=1e-5)
