"""Non-finite updates end to end: ``algo.train()`` raises the learner's one clear error (local,
remote and data-parallel learners), data-parallel learners skip together, and a checkpoint
never holds non-finite weights."""

from __future__ import annotations

import numpy as np
import pytest
from ray.rllib.core import DEFAULT_MODULE_ID
from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch
from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME

from rllib_qmix.learning.learner import NonFiniteUpdateError
from rllib_qmix.learning.replay import shard_episode_batch
from tests.algorithm.test_qmix import two_step_config


def exploding_config():
    """The two-step game with a learning rate so large that the first (finite) Adam step moves
    every weight by ~1e30, after which every forward pass overflows; updates start in the first
    iteration (8 episodes per iteration, learning_starts 8)."""
    return two_step_config().training(lr=1e30, episode_batch_size=8, learning_starts=8)


def learner_weights(algo) -> dict[str, np.ndarray]:
    module = algo.learner_group.get_state(components="learner/rl_module")["learner"]["rl_module"]
    return {k: np.asarray(v) for k, v in module[DEFAULT_MODULE_ID].items()}


def _check_error(error: NonFiniteUpdateError) -> str:
    message = str(error)
    assert type(error) is NonFiniteUpdateError  # not Ray's wrapper with a remote traceback
    assert "\n" not in message
    assert message.startswith("QMIX training iteration 1, learner update 4: 3 updates in a row")
    assert "first non-finite value in the last one:" in message and "normalize_state=True" in message
    return message


def test_train_raises_the_learners_error_and_a_checkpoint_holds_the_last_finite_weights(ray_local, tmp_path):
    algo = exploding_config().build_algo()
    try:
        with pytest.raises(NonFiniteUpdateError) as info:
            algo.train()
        _check_error(info.value)
        weights = learner_weights(algo)
        assert all(np.isfinite(w).all() for w in weights.values())
        assert algo.learner_group._learner._num_updates == 1  # only the first update was applied
        path = algo.save(str(tmp_path / "ckpt")).checkpoint.path
    finally:
        algo.stop()
    restored = exploding_config().build_algo()
    try:
        restored.restore_from_path(path)
        for k, w in learner_weights(restored).items():
            np.testing.assert_array_equal(w, weights[k], err_msg=k)
    finally:
        restored.stop()


def test_train_raises_the_remote_learners_error_unwrapped(ray_local):
    algo = exploding_config().learners(num_learners=1).build_algo()
    try:
        with pytest.raises(NonFiniteUpdateError) as info:
            algo.train()
        _check_error(info.value)
    finally:
        algo.stop()


def _loss_nonfinite_on_rank_0(learner) -> None:
    """Makes data-parallel learner 0 see a non-finite loss in its own shard (its flag only: the
    gradients, which DDP averages, stay finite), so only the learners' agreement skips on 1."""
    import torch

    if torch.distributed.get_rank() != 0:
        return
    compute_loss = learner.compute_loss_for_module

    def flagged(**kwargs):
        loss = compute_loss(**kwargs)
        learner._forward_flags[kwargs["module_id"]][3] = 1.0  # the "loss" entry
        return loss

    learner.compute_loss_for_module = flagged


def _weights_of_each_learner(algo) -> list[dict[str, np.ndarray]]:
    results = algo.learner_group.foreach_learner(lambda lrn: lrn.module[DEFAULT_MODULE_ID].get_state())
    return [{k: np.asarray(v) for k, v in r.get().items()} for r in results]


def test_data_parallel_learners_skip_together(ray_local):
    """A value non-finite in one learner's shard only: both learners skip the update (they
    agree through one all-reduce), so their weights stay equal and unchanged."""
    algo = two_step_config().training(episode_batch_size=8, learning_starts=8).learners(num_learners=2).build_algo()
    try:
        algo.train()
        before = _weights_of_each_learner(algo)
        algo.learner_group.foreach_learner(_loss_nonfinite_on_rank_0)
        shards = shard_episode_batch(algo.replay_buffer.sample(8), 2)
        batches = [MultiAgentBatch({DEFAULT_MODULE_ID: SampleBatch(s)}, env_steps=4) for s in shards]
        results = algo.learner_group.update(batches=batches, timesteps={NUM_ENV_STEPS_SAMPLED_LIFETIME: 100})
        assert [r[DEFAULT_MODULE_ID]["num_nonfinite_updates"].peek() for r in results] == [1, 1]
        for b, a in zip(before, _weights_of_each_learner(algo)):
            for k in b:
                np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    finally:
        algo.stop()


def test_a_checkpoint_refuses_nonfinite_weights(ray_local, tmp_path):
    algo = two_step_config().build_algo()
    try:
        module = algo.learner_group._learner.module[DEFAULT_MODULE_ID]
        module.mixer.hyper_b1.bias.data[0] = float("nan")
        with pytest.raises(NonFiniteUpdateError, match=r"Refusing to save .*mixer\.hyper_b1\.bias.* is non-finite"):
            algo.save(str(tmp_path / "ckpt"))
        assert not (tmp_path / "ckpt" / "algorithm_state.pkl").exists()
    finally:
        algo.stop()
