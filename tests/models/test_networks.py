"""Pure-network tests: shapes, monotonic mixing (by hand and as bmm), VDN, GRU state at episode start."""

import copy

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


def qmixer_by_hand(mixer: QMixer, qs: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
    """QMIX's mixing written out from the mixer's parameters, one time step at a time.

    ``w1 = |hyper_w1(s)|``, ``b1 = hyper_b1(s)``, ``hidden = elu(q . w1 + b1)``,
    ``w_final = |hyper_w_final(s)|``, ``V(s) = hyper_v(s)``, ``Q_tot = hidden . w_final + V(s)``,
    with every linear layer applied as ``x @ W.T + b`` from its weights.
    """

    def linear(layer: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
        return x @ layer.weight.T + layer.bias

    def hyper(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        if isinstance(net, torch.nn.Linear):
            return linear(net, x)
        first, _relu, last = net
        return linear(last, torch.relu(linear(first, x)))

    b, t, n = qs.shape
    out = torch.empty(b, t)
    for i in range(b):
        for j in range(t):
            s = states[i, j]
            w1 = hyper(mixer.hyper_w1, s).abs().reshape(n, mixer.embed_dim)
            b1 = linear(mixer.hyper_b1, s)
            hidden = torch.nn.functional.elu(qs[i, j] @ w1 + b1)
            w_final = hyper(mixer.hyper_w_final, s).abs()
            v = hyper(mixer.hyper_v, s)
            out[i, j] = hidden @ w_final + v[0]
    return out


def random_qmixer(n_agents: int, state_dim: int, embed_dim: int, layers: int, seed: int) -> QMixer:
    """A QMixer with every parameter drawn from N(0, 0.5): each term (b1 and V(s) included)
    moves Q_tot by far more than the tolerances below."""
    torch.manual_seed(seed)
    mixer = QMixer(n_agents, state_dim, embed_dim=embed_dim, hypernet_layers=layers, hypernet_embed=6)
    with torch.no_grad():
        for p in mixer.parameters():
            p.normal_(0.0, 0.5)
    return mixer


@pytest.mark.parametrize("layers", [1, 2])
def test_qmixer_equals_hand_computation(layers):
    """forward() equals the mixing computed by hand from the mixer's parameters, including the
    hidden bias b1 = hyper_b1(s) and the state value V(s) = hyper_v(s)."""
    mixer = random_qmixer(3, 5, 4, layers, seed=10 + layers)
    qs, states = torch.randn(2, 3, 3), torch.randn(2, 3, 5)
    with torch.no_grad():
        assert torch.allclose(mixer(qs, states), qmixer_by_hand(mixer, qs, states), atol=1e-6)


@pytest.mark.parametrize("layers", [1, 2])
def test_qmixer_uses_b1_and_state_value(layers):
    """Zeroing hyper_b1 or hyper_v changes Q_tot exactly as the hand formula says: without V(s)
    every Q_tot drops by V(s); without b1 it moves to the bias-free hidden layer's value."""
    mixer = random_qmixer(3, 5, 4, layers, seed=20 + layers)
    qs, states = torch.randn(4, 5, 3), torch.randn(4, 5, 5)
    with torch.no_grad():
        full = mixer(qs, states)
        v = mixer.hyper_v(states).squeeze(-1)
        assert v.abs().mean() > 0.1  # V(s) is far from zero to begin with

        no_v = copy.deepcopy(mixer)
        no_v.hyper_v[-1].weight.zero_()
        no_v.hyper_v[-1].bias.zero_()
        assert torch.allclose(no_v(qs, states), full - v, atol=1e-6)
        assert torch.allclose(no_v(qs, states), qmixer_by_hand(no_v, qs, states), atol=1e-6)

        no_b1 = copy.deepcopy(mixer)
        no_b1.hyper_b1.weight.zero_()
        no_b1.hyper_b1.bias.zero_()
        without_b1 = no_b1(qs, states)
        assert torch.allclose(without_b1, qmixer_by_hand(no_b1, qs, states), atol=1e-6)
        assert (without_b1 - full).abs().max() > 1e-2  # b1 mattered


def qmixer_bmm(mixer: QMixer, qs: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
    """The mixer as pymarl writes it: batched matrix products (``torch.bmm``) per time step."""
    b, t, n = qs.shape
    s = states.reshape(b * t, -1)
    w1 = mixer.hyper_w1(s).abs().view(-1, n, mixer.embed_dim)
    b1 = mixer.hyper_b1(s).view(-1, 1, mixer.embed_dim)
    hidden = torch.nn.functional.elu(torch.bmm(qs.reshape(-1, 1, n), w1) + b1)
    w_final = mixer.hyper_w_final(s).abs().view(-1, mixer.embed_dim, 1)
    v = mixer.hyper_v(s).view(-1, 1, 1)
    return (torch.bmm(hidden, w_final) + v).view(b, t)


@pytest.mark.parametrize(
    "b, t, n, state_dim, embed, layers",
    [(1, 1, 2, 3, 4, 1), (5, 7, 3, 10, 8, 2), (2, 60, 8, 33, 32, 2), (16, 3, 1, 4, 16, 1)],
)
def test_qmixer_equals_bmm_formulation(b, t, n, state_dim, embed, layers):
    """The broadcast-multiply-sum forward equals the bmm formulation on random inputs."""
    torch.manual_seed(b * t + n)
    mixer = QMixer(n, state_dim, embed_dim=embed, hypernet_layers=layers, hypernet_embed=24)
    qs, states = 3 * torch.randn(b, t, n), 2 * torch.randn(b, t, state_dim)
    with torch.no_grad():
        out = mixer(qs, states)
        assert out.shape == (b, t)
        assert torch.allclose(out, qmixer_bmm(mixer, qs, states), atol=1e-5)
