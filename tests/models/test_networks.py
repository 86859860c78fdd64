"""Pure-network tests: shapes, monotonic mixing, VDN, GRU state at episode start."""

import pytest
import torch

from rllib_qmix.models.networks import (
    STEP_COST_ROWS,
    AgentRNN,
    QMixer,
    VDNMixer,
    agent_input_dim,
    build_agent_inputs,
    length_buckets,
)


def test_agent_rnn_shapes_and_zero_start():
    net = AgentRNN(input_dim=7, n_actions=5, hidden_dim=16)
    x = torch.randn(6, 4, 7)
    q, h = net(x)
    assert q.shape == (6, 4, 5) and h.shape == (6, 16)
    q0, _ = net(x, net.initial_state(6))
    assert torch.allclose(q, q0)  # None start state == zeros (episode start)


def test_unroll_equals_stepwise_and_state_reset_matters():
    torch.manual_seed(0)
    net = AgentRNN(3, 2, 8)
    x = torch.randn(2, 5, 3)
    q_full, _ = net(x)
    h = net.initial_state(2)
    for t in range(5):
        q_t, h = net(x[:, t : t + 1], h)
        assert torch.allclose(q_t[:, 0], q_full[:, t], atol=1e-6)
    # A carried-over (non-zero) state changes the first output: resetting matters.
    q_carry, _ = net(x[:, :1], h)
    assert not torch.allclose(q_carry[:, 0], q_full[:, 0])


def test_bucketed_unroll_equals_full_unroll_on_real_steps():
    torch.manual_seed(0)
    net = AgentRNN(3, 2, 8)
    # Enough rows that splitting pays for the extra sequential steps (STEP_COST_ROWS).
    lengths = torch.tensor([40, 3, 5, 4, 38, 6, 2, 40]).repeat(16)
    x = torch.randn(len(lengths), 40, 3)
    q_full, _ = net(x)
    q_bucketed = net.unroll_padded(x, lengths)
    assert q_bucketed.shape == q_full.shape
    for r, n in enumerate(lengths.tolist()):
        assert torch.allclose(q_bucketed[r, :n], q_full[r, :n], atol=1e-6)
    assert (q_bucketed[1, 6:] == 0).all()  # the short rows' group stopped at 6 steps


def test_length_buckets_cover_rows_once_and_cut_padding():
    lengths = torch.tensor([40, 3, 5, 4, 38, 6, 2, 40])
    groups = length_buckets(lengths, max_buckets=3, step_cost=0.0)
    assert sorted(torch.cat(groups).tolist()) == list(range(8))
    padded_steps = sum(len(g) * int(lengths[g].max()) for g in groups)
    assert len(groups) >= 2 and padded_steps < 0.5 * 8 * 40
    assert len(length_buckets(torch.full((8,), 7))) == 1  # equal lengths: nothing to gain
    assert len(length_buckets(lengths, max_buckets=1, step_cost=0.0)) == 1


def test_length_buckets_weigh_the_cost_of_extra_steps():
    """A split adds sequential steps, each with a fixed cost: few rows are not worth splitting."""
    lengths = torch.tensor([40, 3, 5, 4, 38, 6, 2, 40])
    assert len(length_buckets(lengths, step_cost=STEP_COST_ROWS)) == 1
    assert len(length_buckets(lengths.repeat(16), step_cost=STEP_COST_ROWS)) >= 2


def test_build_agent_inputs():
    obs = torch.zeros(2, 3, 4, 5)
    prev = torch.ones(2, 3, 4, 6)
    x = build_agent_inputs(obs, prev, use_agent_id=True)
    assert x.shape == (2, 3, 4, 5 + 6 + 4)
    assert agent_input_dim(5, 4, 6, True, True) == 15
    assert torch.equal(x[0, 0, :, -4:], torch.eye(4))


@pytest.mark.parametrize("layers", [1, 2])
def test_qmixer_shape_and_monotonicity(layers):
    torch.manual_seed(layers)
    mixer = QMixer(n_agents=4, state_dim=10, embed_dim=8, hypernet_layers=layers, hypernet_embed=16)
    qs = torch.randn(8, 6, 4, requires_grad=True)
    states = torch.randn(8, 6, 10) * 3
    q_tot = mixer(qs, states)
    assert q_tot.shape == (8, 6)
    (grad,) = torch.autograd.grad(q_tot.sum(), qs)
    assert (grad >= 0).all()
    assert (grad > 0).any()


def test_qmixer_argmax_consistency():
    """Raising any agent's Q never lowers Q_tot (so per-agent argmax maximises Q_tot)."""
    torch.manual_seed(1)
    mixer = QMixer(3, 5)
    s = torch.randn(1, 1, 5)
    base = torch.randn(1, 1, 3)
    for a in range(3):
        bumped = base.clone()
        bumped[..., a] += 1.0
        assert mixer(bumped, s) >= mixer(base, s)


def test_vdn_is_sum():
    qs = torch.randn(3, 4, 5)
    assert torch.allclose(VDNMixer()(qs, None), qs.sum(-1))


def test_bad_hypernet_layers():
    with pytest.raises(ValueError, match="hypernet_layers"):
        QMixer(2, 3, hypernet_layers=3)
