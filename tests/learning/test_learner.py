"""Learner and training forward pass: the loss by hand, padding, masked targets, target syncs."""

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
    config, learner = make_learner(gamma=0.5, mixer="vdn")
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
    config, learner = make_learner(mixer=None, double_q=True)
    module = learner.module[DEFAULT_MODULE_ID]
    # Online network prefers action 2, which is unavailable at the next step.
    module.agent = FixedQ(torch.tensor([1.0, 0.0, 9.0]))
    module.target_agent = FixedQ(torch.tensor([5.0, 3.0, 100.0]))
    batch = random_batch(b=1, t=2, lengths=(2,))
    batch[K.AVAIL_ACTIONS][..., 2] = False
    out = module.forward_train(batch)
    # Best available online action is 0 -> target value 5 (never 100).
    assert torch.all(out[K.TARGET_NEXT_TOT] == 5.0)
    module2 = make_learner(mixer=None, double_q=False)[1].module[DEFAULT_MODULE_ID]
    module2.agent, module2.target_agent = module.agent, FixedQ(torch.tensor([5.0, 7.0, 100.0]))
    assert torch.all(module2.forward_train(batch)[K.TARGET_NEXT_TOT] == 7.0)


def test_hard_and_soft_target_updates():
    config, learner = make_learner(target_update_interval=2, lr=0.1, optimizer="adam")
    module = learner.module[DEFAULT_MODULE_ID]

    def gap():
        return sum(
            (p - tp).abs().sum().item() for p, tp in zip(module.agent.parameters(), module.target_agent.parameters())
        )

    from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch

    def update():
        b = {k: v.numpy() for k, v in random_batch().items()}
        learner.update(batch=MultiAgentBatch({DEFAULT_MODULE_ID: SampleBatch(b)}, env_steps=9), timesteps={})

    assert gap() == 0.0
    update()
    assert gap() > 0.0  # online moved, target not yet
    update()
    assert gap() == 0.0  # hard copy after 2 updates

    config, learner = make_learner(target_update_tau=0.5, lr=0.1, optimizer="adam")
    module = learner.module[DEFAULT_MODULE_ID]
    before = [tp.clone() for tp in module.target_agent.parameters()]
    update()
    for b, p, tp in zip(before, module.agent.parameters(), module.target_agent.parameters()):
        assert torch.allclose(tp, 0.5 * b + 0.5 * p, atol=1e-6)


def test_optimizer_choice_and_grad_clip():
    _, learner = make_learner(optimizer="rmsprop")
    opt = next(iter(learner._named_optimizers.values()))
    assert isinstance(opt, torch.optim.RMSprop)
    _, learner = make_learner(optimizer="adam")
    assert isinstance(next(iter(learner._named_optimizers.values())), torch.optim.Adam)
    # Targets are not trained.
    n_opt = sum(p.numel() for g in opt.param_groups for p in g["params"])
    module = learner.module[DEFAULT_MODULE_ID]
    trained = sum(p.numel() for p in list(module.agent.parameters()) + list(module.mixer.parameters()))
    assert n_opt == trained
