"""The learner on a GPU computes the same loss and update as on the CPU (skipped without CUDA).

Both learners start from the same state (weights, targets, optimizer) and see the same batch
of padded episodes of different lengths; TF32 is switched off so that CUDA matmuls and cuDNN's
GRU run in full float32, and results must then agree to float32 rounding.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ray.rllib.core import DEFAULT_MODULE_ID
from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch
from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME

from rllib_qmix import QMIXConfig
from rllib_qmix import keys as K
from rllib_qmix.envs.team import TeamSpec

pytestmark = [pytest.mark.gpu, pytest.mark.integration]

SPEC = TeamSpec(n_agents=3, obs_dim=10, state_dim=12, n_actions=6, episode_limit=20)


def episode_batch(b: int = 8, t: int = 20, seed: int = 0) -> dict[str, np.ndarray]:
    """Random padded episodes (lengths 5..t), some terminated, with random action masks."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(5, t + 1, size=b)
    lengths[0] = t
    mask = (np.arange(t)[None] < lengths[:, None]).astype(np.float32)
    avail = rng.random((b, t + 1, SPEC.n_agents, SPEC.n_actions)) < 0.7
    avail[..., 0] = True
    actions = np.zeros((b, t, SPEC.n_agents), np.int64)
    for idx in np.ndindex(b, t, SPEC.n_agents):
        actions[idx] = rng.choice(np.flatnonzero(avail[idx]))
    terminated = np.zeros((b, t), np.float32)
    terminated[np.arange(b), lengths - 1] = rng.random(b) < 0.5
    return {
        K.OBS: rng.normal(size=(b, t + 1, SPEC.n_agents, SPEC.obs_dim)).astype(np.float32),
        K.STATE: rng.normal(size=(b, t + 1, SPEC.state_dim)).astype(np.float32),
        K.AVAIL_ACTIONS: avail,
        K.ACTIONS: actions,
        K.REWARDS: (rng.normal(size=(b, t)) * mask).astype(np.float32),
        K.TERMINATED: terminated,
        K.MASK: mask,
    }


def learner_on(device_gpus: int, optimizer: str):
    """A local QMIX learner on the CPU (0) or the first GPU (1)."""
    config = (
        QMIXConfig()
        .training(optimizer=optimizer, lr=1e-3, td_lambda=0.6, target_update_interval=2)
        .learners(num_learners=0, num_gpus_per_learner=device_gpus)
        .debugging(seed=0)
    )
    spaces = {DEFAULT_MODULE_ID: (SPEC.observation_space(), SPEC.action_space())}
    return config.build_learner(spaces=spaces)


def weights(learner) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in learner.module[DEFAULT_MODULE_ID].get_state().items()}


def compare_learners(gpu: int, optimizer: str, updates: int = 3) -> tuple[list[float], list[float], float]:
    """Runs ``updates`` identical updates on a CPU learner and a learner with ``gpu`` GPUs.

    Returns:
        The two learners' losses per update and the largest weight difference at the end.
    """
    cpu_learner, other = learner_on(0, optimizer), learner_on(gpu, optimizer)
    other.set_state(cpu_learner.get_state())
    losses: tuple[list[float], list[float]] = ([], [])
    for i in range(updates):
        data = episode_batch(seed=i)
        batch = MultiAgentBatch({DEFAULT_MODULE_ID: SampleBatch(data)}, env_steps=int(data[K.MASK].sum()))
        for learner, out in zip((cpu_learner, other), losses):
            result = learner.update(batch=batch, timesteps={NUM_ENV_STEPS_SAMPLED_LIFETIME: 1000 * (i + 1)})
            out.append(float(_peek(result[DEFAULT_MODULE_ID]["td_loss"])))
    a, b = weights(cpu_learner), weights(other)
    return losses[0], losses[1], max(float(np.abs(a[k] - b[k]).max()) for k in a)


def _peek(value):
    return value.peek() if hasattr(value, "peek") else value


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("optimizer", ["rmsprop", "adam"])
def test_gpu_learner_matches_cpu_learner(optimizer):
    tf32 = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        gpu_learner = learner_on(1, optimizer)
        assert next(gpu_learner.module[DEFAULT_MODULE_ID].parameters()).is_cuda
        cpu_losses, gpu_losses, max_diff = compare_learners(1, optimizer)
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32
    np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=1e-4, atol=1e-6)
    assert max_diff < 1e-5
