"""The learner's loss and gradients with the hand-written GRU backward (the default) equal those
of torch.nn.GRU's autograd (``model_config={"fast_gru": False}``) to 1e-5, on padded batches of
8m-sized episodes, for every mixer and with one-step and TD(lambda) targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ray.rllib.core import DEFAULT_MODULE_ID

from rllib_qmix import QMIXConfig
from rllib_qmix import keys as K
from rllib_qmix.envs.team import TeamSpec

SPEC = TeamSpec(n_agents=8, obs_dim=80, state_dim=168, n_actions=14)  # 8m's sizes


def batch_of_episodes(b: int = 16, t: int = 60, seed: int = 0) -> dict:
    """Episodes of random lengths (some to the limit), a few terminated, some actions unavailable."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(5, t + 1, size=b)
    lengths[:3] = t
    mask = (np.arange(t)[None] < lengths[:, None]).astype(np.float32)
    term = np.zeros((b, t), np.float32)
    term[np.arange(b // 2), lengths[: b // 2] - 1] = 1.0
    avail = rng.random((b, t + 1, SPEC.n_agents, SPEC.n_actions)) < 0.7
    avail[..., 0] |= ~avail.any(-1)
    actions = np.array([[[rng.choice(np.flatnonzero(a)) for a in step] for step in ep[:-1]] for ep in avail])
    return {
        K.OBS: torch.tensor(rng.normal(size=(b, t + 1, SPEC.n_agents, SPEC.obs_dim)), dtype=torch.float32),
        K.STATE: torch.tensor(rng.normal(size=(b, t + 1, SPEC.state_dim)), dtype=torch.float32),
        K.AVAIL_ACTIONS: torch.tensor(avail),
        K.ACTIONS: torch.tensor(actions),
        K.REWARDS: torch.tensor(rng.normal(size=(b, t)), dtype=torch.float32),
        K.TERMINATED: torch.tensor(term),
        K.MASK: torch.tensor(mask),
    }


def loss_and_grads(fast_gru: bool, batch: dict, **training) -> tuple[float, dict[str, torch.Tensor]]:
    config = QMIXConfig().training(**training).rl_module(model_config={"fast_gru": fast_gru}).debugging(seed=0)
    learner = config.build_learner(spaces={DEFAULT_MODULE_ID: (SPEC.observation_space(), SPEC.action_space())})
    module = learner.module[DEFAULT_MODULE_ID]
    assert module.agent.fast_gru is fast_gru
    module.update_targets(1.0)
    with torch.no_grad():  # a target network that differs from the online one
        for p in module.target_agent.parameters():
            p.add_(0.05 * torch.randn_like(p))
    fwd = module.forward_train(batch)
    loss = learner.compute_loss_for_module(module_id=DEFAULT_MODULE_ID, config=config, batch=batch, fwd_out=fwd)
    params = dict(module.named_parameters())
    grads = torch.autograd.grad(loss, [p for p in params.values() if p.requires_grad], allow_unused=True)
    return loss.item(), dict(zip([n for n, p in params.items() if p.requires_grad], grads))


@pytest.mark.parametrize(
    "training",
    [
        {"mixer": "qmix", "td_lambda": 0.0},
        {"mixer": "qmix", "td_lambda": 0.6},
        {"mixer": "vdn", "td_lambda": 0.6},
        {"mixer": None, "td_lambda": 0.0},
    ],
    ids=["qmix", "qmix-lambda", "vdn", "iql"],
)
def test_loss_and_gradients_equal_the_torch_gru_path(training):
    batch = batch_of_episodes()
    loss_fast, grads_fast = loss_and_grads(True, batch, **training)
    loss_ref, grads_ref = loss_and_grads(False, batch, **training)
    assert loss_fast == pytest.approx(loss_ref, rel=1e-5, abs=1e-5)
    assert grads_fast.keys() == grads_ref.keys() and any(n.startswith("agent.rnn") for n in grads_fast)
    for name in grads_ref:
        torch.testing.assert_close(grads_fast[name], grads_ref[name], rtol=1e-5, atol=1e-5, msg=name)
