"""Learner and training forward pass: the loss by hand, padding, masked targets, double-Q,
target syncs of agent and mixer, one optimizer step by hand."""

import copy

import numpy as np
import pytest
import torch
from ray.rllib.core import DEFAULT_MODULE_ID

from rllib_qmix import QMIXConfig
from rllib_qmix import keys as K
from rllib_qmix.envs.team import TeamSpec
from rllib_qmix.models import networks

SPEC = TeamSpec(n_agents=2, obs_dim=3, state_dim=4, n_actions=3)


def make_learner(**training):
    config = QMIXConfig().training(**training).debugging(seed=0)
    spaces = {DEFAULT_MODULE_ID: (SPEC.observation_space(), SPEC.action_space())}
    return config, config.build_learner(spaces=spaces)


def random_batch(b=3, t=4, lengths=(4, 2, 3), seed=0):
    rng = np.random.default_rng(seed)
    mask = (np.arange(t)[None] < np.array(lengths)[:, None]).astype(np.float32)
    term = np.zeros((b, t), np.float32)
    term[0, lengths[0] - 1] = 1.0
    return {
        K.OBS: torch.tensor(rng.normal(size=(b, t + 1, 2, 3)), dtype=torch.float32),
        K.STATE: torch.tensor(rng.normal(size=(b, t + 1, 4)), dtype=torch.float32),
        K.AVAIL_ACTIONS: torch.ones(b, t + 1, 2, 3, dtype=torch.bool),
        K.ACTIONS: torch.tensor(rng.integers(0, 3, size=(b, t, 2))),
        K.REWARDS: torch.tensor(rng.normal(size=(b, t)), dtype=torch.float32),
        K.TERMINATED: torch.tensor(term),
        K.MASK: torch.tensor(mask),
    }


def test_loss_equals_hand_value():
    config, learner = make_learner(gamma=0.5, mixer="vdn", td_lambda=0.0)
    batch = {
        K.REWARDS: torch.tensor([[1.0, 2.0], [3.0, 0.0]]),
        K.TERMINATED: torch.tensor([[0.0, 1.0], [0.0, 0.0]]),
        K.MASK: torch.tensor([[1.0, 1.0], [1.0, 0.0]]),
    }
    fwd = {
        K.Q_TAKEN_TOT: torch.tensor([[2.0, 1.0], [4.0, 50.0]], requires_grad=True),
        K.TARGET_NEXT_TOT: torch.tensor([[4.0, 9.0], [2.0, 7.0]]),
        K.Q_TAKEN: torch.zeros(2, 2, 2),
    }
    loss = learner.compute_loss_for_module(module_id=DEFAULT_MODULE_ID, config=config, batch=batch, fwd_out=fwd)
    # targets: 1 + .5*4 = 3; 2 (terminated); 3 + .5*2 = 4; padding ignored.
    # errors: 2-3 = -1, 1-2 = -1, 4-4 = 0  -> mean of squares over 3 real steps = 2/3
    assert loss.item() == pytest.approx(2 / 3)
    loss.backward()
    assert fwd[K.Q_TAKEN_TOT].grad[1, 1] == 0.0  # padding gets no gradient


@pytest.mark.parametrize("mixer", ["qmix", "vdn", None])
def test_padding_does_not_change_loss(mixer):
    config, learner = make_learner(mixer=mixer, td_lambda=0.6)
    module = learner.module[DEFAULT_MODULE_ID]
    batch = random_batch()
    padded = {k: v.clone() for k, v in batch.items()}
    # Append 3 steps of garbage padding to every episode.
    for key in (K.OBS, K.STATE):
        padded[key] = torch.cat([padded[key], 100 * torch.randn(*padded[key].shape[:1], 3, *padded[key].shape[2:])], 1)
    padded[K.AVAIL_ACTIONS] = torch.cat([padded[K.AVAIL_ACTIONS], torch.zeros(3, 3, 2, 3, dtype=torch.bool)], 1)
    padded[K.ACTIONS] = torch.cat([padded[K.ACTIONS], torch.randint(0, 3, (3, 3, 2))], 1)
    padded[K.REWARDS] = torch.cat([padded[K.REWARDS], 1e3 * torch.ones(3, 3)], 1)
    padded[K.TERMINATED] = torch.cat([padded[K.TERMINATED], torch.ones(3, 3)], 1)
    padded[K.MASK] = torch.cat([padded[K.MASK], torch.zeros(3, 3)], 1)
    losses = []
    for b in (batch, padded):
        fwd = module.forward_train(b)
        losses.append(
            learner.compute_loss_for_module(module_id=DEFAULT_MODULE_ID, config=config, batch=b, fwd_out=fwd).item()
        )
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)


@pytest.mark.parametrize("mixer", ["qmix", "vdn"])
@pytest.mark.parametrize("step_cost", [0.0, None], ids=["split", "default"])
def test_padding_skipping_forward_equals_the_full_unroll(mixer, step_cost, monkeypatch):
    """The training forward unrolls and mixes only real steps; loss and gradients equal a
    reference that unrolls and mixes every padded step and masks afterwards (with length
    buckets forced, and with the default cost model, which keeps these few rows together)."""
    if step_cost is not None:
        monkeypatch.setattr(networks, "STEP_COST_ROWS", step_cost)
    config, learner = make_learner(mixer=mixer, td_lambda=0.6)
    module = learner.module[DEFAULT_MODULE_ID]
    batch = random_batch(b=4, t=6, lengths=(6, 1, 3, 4))

    def loss_of(fwd: dict) -> torch.Tensor:
        return learner.compute_loss_for_module(module_id=DEFAULT_MODULE_ID, config=config, batch=batch, fwd_out=fwd)

    def grads(loss: torch.Tensor) -> list[torch.Tensor]:
        module.zero_grad()
        loss.backward()
        return [p.grad.clone() for p in module.parameters() if p.requires_grad]

    fast = grads(loss_of(module.forward_train(batch)))

    # Reference: the plain padded computation.
    inputs = module._train_inputs(batch)
    q = module._unroll(module.agent, inputs)
    q_taken = q[:, :-1].gather(-1, batch[K.ACTIONS].unsqueeze(-1)).squeeze(-1)
    with torch.no_grad():
        avail = batch[K.AVAIL_ACTIONS]
        target_q = module._unroll(module.target_agent, inputs)[:, 1:]
        best = q.detach()[:, 1:].masked_fill(~avail[:, 1:], float("-inf")).argmax(-1, keepdim=True)
        target_next = target_q.gather(-1, best).squeeze(-1)
        target_tot = module.target_mixer(target_next, batch[K.STATE][:, 1:])
    ref_fwd = {
        K.Q_TAKEN_TOT: module.mixer(q_taken, batch[K.STATE][:, :-1]),
        K.TARGET_NEXT_TOT: target_tot,
        K.Q_TAKEN: q_taken,
    }
    reference = grads(loss_of(ref_fwd))

    assert len(fast) == len(reference) > 0
    for g_fast, g_ref in zip(fast, reference):
        assert torch.allclose(g_fast, g_ref, atol=1e-6, rtol=1e-5)
    assert any(g.abs().max() > 0 for g in fast)


class FixedQ(torch.nn.Module):
    """A stand-in agent network returning fixed Q-values [R, T, A]."""

    def __init__(self, q):
        super().__init__()
        self.q = q

    def forward(self, x, h0=None):
        return self.q.expand(x.shape[0], x.shape[1], -1), torch.zeros(x.shape[0], 1)

    def unroll_padded(self, x, lengths):
        return self(x)[0]


def test_unavailable_action_never_used_in_target():
    """The next action is chosen among available actions only; the values are set so that
    double-Q (online 0 -> 5), a plain max (target 1 -> 30) and an unmasked choice (100) differ."""
    config, learner = make_learner(mixer=None, double_q=True)
    module = learner.module[DEFAULT_MODULE_ID]
    # Online network prefers action 2, which is unavailable at the next step.
    module.agent = FixedQ(torch.tensor([1.0, 0.0, 9.0]))
    module.target_agent = FixedQ(torch.tensor([5.0, 30.0, 100.0]))
    batch = random_batch(b=1, t=2, lengths=(2,))
    batch[K.AVAIL_ACTIONS][..., 2] = False
    out = module.forward_train(batch)
    # Best available online action is 0 -> target value 5 (not the plain max 30, never 100).
    assert torch.all(out[K.TARGET_NEXT_TOT] == 5.0)
    module2 = make_learner(mixer=None, double_q=False)[1].module[DEFAULT_MODULE_ID]
    module2.agent, module2.target_agent = module.agent, FixedQ(torch.tensor([5.0, 7.0, 100.0]))
    # Plain max over the available target values: 7 (not the double-Q 5, never 100).
    assert torch.all(module2.forward_train(batch)[K.TARGET_NEXT_TOT] == 7.0)


@pytest.mark.parametrize("mixer", ["qmix", None])
@pytest.mark.parametrize("double_q", [True, False], ids=["double_q", "plain_max"])
def test_target_next_is_double_q_or_plain_max(double_q, mixer):
    """With online and target networks that disagree, ``target_next_tot`` equals the chosen
    reference (double-Q: next action by the online agent, valued by the target agent and mixed
    by the target mixer; else a plain max over the target agent) and differs clearly from the
    other one, so a double-Q that were silently a plain max (or the reverse) fails."""
    _, learner = make_learner(mixer=mixer, double_q=double_q)
    module = learner.module[DEFAULT_MODULE_ID]
    torch.manual_seed(0)
    with torch.no_grad():  # the targets drift away from the online networks
        for p in module.target_agent.parameters():
            p.add_(0.5 * torch.randn_like(p))
        if module.target_mixer is not None:
            for p in module.target_mixer.parameters():
                p.add_(0.3 * torch.randn_like(p))
    batch = random_batch(b=4, t=6, lengths=(6, 1, 3, 4), seed=1)
    avail = torch.rand(batch[K.AVAIL_ACTIONS].shape, generator=torch.Generator().manual_seed(2)) < 0.6
    avail[..., 0] |= ~avail.any(dim=-1)  # at least one available action for every agent
    batch[K.AVAIL_ACTIONS] = avail
    real = batch[K.MASK] > 0

    out = module.forward_train(batch)[K.TARGET_NEXT_TOT]

    with torch.no_grad():
        inputs = module._train_inputs(batch)
        online = module._unroll(module.agent, inputs)[:, 1:]
        target = module._unroll(module.target_agent, inputs)[:, 1:]

        def greedy(q: torch.Tensor) -> torch.Tensor:
            """The best available next action under ``q``: ``[B, T, N, 1]``."""
            return q.masked_fill(~avail[:, 1:], float("-inf")).argmax(dim=-1, keepdim=True)

        def value_of(best: torch.Tensor) -> torch.Tensor:
            per_agent = target.gather(-1, best).squeeze(-1)
            return per_agent if mixer is None else module.target_mixer(per_agent, batch[K.STATE][:, 1:])

        double, plain = value_of(greedy(online)), value_of(greedy(target))
    # The two rules pick different actions at many real steps, and a plain max is the larger.
    choices_differ = (greedy(online) != greedy(target)).squeeze(-1)
    assert choices_differ[real].float().mean() > 0.3
    assert (plain[real] >= double[real] - 1e-6).all()

    expected, other = (double, plain) if double_q else (plain, double)
    assert out.shape == expected.shape
    assert torch.allclose(out[real], expected[real], atol=1e-6)
    assert (out[real] - other[real]).abs().max() > 0.1


def update(learner, batch: dict) -> None:
    """One learner update on a batch of ``random_batch`` tensors."""
    from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch

    b = {k: v.numpy() for k, v in batch.items()}
    learner.update(batch=MultiAgentBatch({DEFAULT_MODULE_ID: SampleBatch(b)}, env_steps=9), timesteps={})


def target_pairs(module) -> dict:
    """The online and target copies of the agent and the QMIX mixer, by name."""
    return {"agent": (module.agent, module.target_agent), "mixer": (module.mixer, module.target_mixer)}


def test_hard_target_sync_reaches_agent_and_mixer():
    """Every ``target_update_interval`` updates, both target networks (agent and mixer) become
    exact copies of the online ones; in between, both lag behind."""
    _, learner = make_learner(target_update_interval=2, lr=0.1, optimizer="adam")
    module = learner.module[DEFAULT_MODULE_ID]

    def gaps() -> dict:
        return {
            name: sum((p - tp).abs().sum().item() for p, tp in zip(net.parameters(), target.parameters()))
            for name, (net, target) in target_pairs(module).items()
        }

    assert gaps() == {"agent": 0.0, "mixer": 0.0}
    for k in range(1, 5):
        update(learner, random_batch(seed=k))
        g = gaps()
        if k % 2:  # online moved, targets not yet
            assert g["agent"] > 0.0 and g["mixer"] > 0.0, (k, g)
        else:  # hard copy after every 2 updates
            assert g == {"agent": 0.0, "mixer": 0.0}, (k, g)


def test_soft_target_update_reaches_agent_and_mixer():
    """With ``target_update_tau``, after every update each target parameter (agent and mixer)
    is ``(1 - tau) * old target + tau * new online`` (tau = 0.25, so a swapped weighting fails)."""
    tau = 0.25
    _, learner = make_learner(target_update_tau=tau, lr=0.1, optimizer="adam")
    module = learner.module[DEFAULT_MODULE_ID]
    for k in range(2):
        before = {
            name: [tp.clone() for tp in target.parameters()] for name, (_, target) in target_pairs(module).items()
        }
        update(learner, random_batch(seed=k))
        for name, (net, target) in target_pairs(module).items():
            moved = 0.0
            for old, p, tp in zip(before[name], net.parameters(), target.parameters()):
                assert torch.allclose(tp, (1 - tau) * old + tau * p, atol=1e-6), name
                moved += (tp - old).abs().sum().item()
            assert moved > 0.0, name  # the soft update did reach this network
            assert not all(torch.equal(p, tp) for p, tp in zip(net.parameters(), target.parameters()))


@pytest.mark.parametrize("optimizer", ["rmsprop", "adam"])
@pytest.mark.parametrize("grad_clip", [None, 0.01], ids=["no_clip", "clip"])
def test_update_is_a_hand_made_optimizer_step(optimizer, grad_clip):
    """One learner's optimizer is the chosen one over exactly that learner's agent and mixer (no
    target), and one update moves every trained weight by a hand-made first RMSprop/Adam step on
    the gradients clipped to ``grad_clip`` by global norm. ``optim_eps`` = 1 keeps the step
    proportional to the gradient, so the clip (which bites: coefficient < 0.2) shows."""
    lr, eps, alpha = 0.1, 1.0, 0.9
    config, learner = make_learner(
        optimizer=optimizer, grad_clip=grad_clip, lr=lr, optim_eps=eps, optim_alpha=alpha, td_lambda=0.6
    )
    module = learner.module[DEFAULT_MODULE_ID]
    (opt,) = learner._named_optimizers.values()
    assert type(opt) is {"rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam}[optimizer]
    trained = list(module.agent.parameters()) + list(module.mixer.parameters())
    opt_params = [p for g in opt.param_groups for p in g["params"]]
    assert len(opt_params) == len(trained) and {id(p) for p in opt_params} == {id(p) for p in trained}
    targets = list(module.target_agent.parameters()) + list(module.target_mixer.parameters())
    assert not {id(p) for p in opt_params} & {id(p) for p in targets}

    # The gradient at the start weights, on a copy of this learner's module.
    batch = random_batch(b=4, t=6, lengths=(6, 1, 3, 4))
    ref = copy.deepcopy(module)
    loss = learner.compute_loss_for_module(
        module_id=DEFAULT_MODULE_ID, config=config, batch=batch, fwd_out=ref.forward_train(batch)
    )
    grads = torch.autograd.grad(loss, list(ref.agent.parameters()) + list(ref.mixer.parameters()))
    norm = torch.sqrt(sum((g**2).sum() for g in grads)).item()
    coeff = 1.0 if grad_clip is None else min(1.0, grad_clip / (norm + 1e-6))
    if grad_clip is not None:
        assert coeff < 0.2  # the clip bites

    def first_step(g: torch.Tensor) -> torch.Tensor:
        if optimizer == "rmsprop":  # v = (1 - alpha) g^2; step = lr g / (sqrt(v) + eps)
            return lr * g / (torch.sqrt((1 - alpha) * g**2) + eps)
        return lr * g / (g.abs() + eps)  # Adam's bias-corrected first step: lr m / (sqrt(v) + eps)

    before = [p.detach().clone() for p in trained]
    targets_before = [p.clone() for p in targets]
    update(learner, batch)

    clip_effect = 0.0
    for p0, g, p in zip(before, grads, trained):
        assert torch.allclose(p.detach(), p0 - first_step(coeff * g), atol=1e-7, rtol=1e-5)
        clip_effect = max(clip_effect, (first_step(coeff * g) - first_step(g)).abs().max().item())
    if grad_clip is not None:
        assert clip_effect > 1e-3  # an unclipped step would not pass the check above
    assert any(not torch.equal(p0, p) for p0, p in zip(before, trained))
    for t0, t in zip(targets_before, targets):
        assert torch.equal(t0, t)  # targets are not trained (and not yet synced)


def _fixed_q_batch() -> dict:
    """One 4-step episode, terminated at the end, whose joint actions are (0, 0), (2, 2),
    (2, 1), (1, 1)."""
    return {
        K.OBS: torch.zeros(1, 5, 2, 3),
        K.STATE: torch.zeros(1, 5, 4),
        K.AVAIL_ACTIONS: torch.ones(1, 5, 2, 3, dtype=torch.bool),
        K.ACTIONS: torch.tensor([[[0, 0], [2, 2], [2, 1], [1, 1]]]),
        K.REWARDS: torch.tensor([[1.0, 6.0, 3.0, 4.0]]),
        K.TERMINATED: torch.tensor([[0.0, 0.0, 0.0, 1.0]]),
        K.MASK: torch.ones(1, 4),
    }


@pytest.mark.parametrize("mixer", ["vdn", None])
@pytest.mark.parametrize("double_q", [True, False], ids=["double_q", "plain_max"])
def test_next_greedy_under_the_network_that_picks_the_bootstrap_action(mixer, double_q):
    """The online agent prefers action 2, the target agent action 1: "greedy" is the online
    network's choice with double-Q and the target network's without (the one that picks V_{t+1});
    a mixed team's step is greedy only where every agent's action is."""
    _, learner = make_learner(mixer=mixer, double_q=double_q)
    module = learner.module[DEFAULT_MODULE_ID]
    module.agent = FixedQ(torch.tensor([1.0, 0.0, 9.0]))
    module.target_agent = FixedQ(torch.tensor([5.0, 30.0, 2.0]))
    out = module.forward_train(_fixed_q_batch())[K.NEXT_GREEDY]
    # Per agent, whether the action at step t+1 is the greedy one (the last step has no next).
    per_agent = {True: [[1, 1], [1, 0], [0, 0], [0, 0]], False: [[0, 0], [0, 1], [1, 1], [0, 0]]}[double_q]
    per_agent = torch.tensor([per_agent], dtype=torch.float32)
    expected = per_agent if mixer is None else per_agent.amin(-1)
    assert torch.equal(out, expected)


@pytest.mark.parametrize("trace,expected", [("watkins", 34.0), ("naive", 131.31640625 / 4)])
def test_watkins_loss_by_hand(trace, expected):
    """VDN, double-Q, fixed Q-values: online Q (1, 0, 9) per agent, target Q (5, 30, 2), so the
    greedy next action is 2 and every next value V is 2 + 2 = 4; Q_tot of the taken actions is
    2, 18, 9, 0. With gamma = lambda = 0.5 and rewards 1, 6, 3, 4 (terminated at step 3):
    watkins: G3 = 4, G2 = 3 + .5 * 4 = 5 (cut: step 3's (1, 1) is not greedy), G1 = 6 + .5 * 4 = 8
    (cut: (2, 1)), G0 = 1 + .5 * (4 + .5 * (8 - 4)) = 4 ((2, 2) is greedy): squared errors
    4, 100, 16, 16, mean 34. naive: G2 = 5, G1 = 6 + .5 * (4 + .5 * (5 - 4)) = 8.25,
    G0 = 1 + .5 * (4 + .5 * 4.25) = 4.0625: squared errors 4.25390625, 95.0625, 16, 16."""
    config, learner = make_learner(mixer="vdn", gamma=0.5, td_lambda=0.5, td_lambda_trace=trace)
    module = learner.module[DEFAULT_MODULE_ID]
    module.agent = FixedQ(torch.tensor([1.0, 0.0, 9.0]))
    module.target_agent = FixedQ(torch.tensor([5.0, 30.0, 2.0]))
    batch = _fixed_q_batch()
    fwd = module.forward_train(batch)
    assert torch.equal(fwd[K.Q_TAKEN_TOT], torch.tensor([[2.0, 18.0, 9.0, 0.0]]))
    loss = learner.compute_loss_for_module(module_id=DEFAULT_MODULE_ID, config=config, batch=batch, fwd_out=fwd)
    assert loss.item() == pytest.approx(expected)
