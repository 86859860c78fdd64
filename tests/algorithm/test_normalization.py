"""Input normalisation (``normalize_obs`` / ``normalize_state``): running statistics of every
stored step, the same normalised inputs when acting and when learning, statistics frozen for
evaluation, exact checkpoint round trips, and the once-per-process warning about large inputs."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from ray.rllib.core import DEFAULT_MODULE_ID
from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME

from rllib_qmix import QMIX, QMIXConfig, TwoStepGame
from rllib_qmix import keys as K
from rllib_qmix.algorithm import qmix as qmix_module
from rllib_qmix.learning.replay import EpisodeReplayBuffer
from rllib_qmix.sampling.acting import NORM_CLIP, Normalizer
from tests.algorithm.test_qmix import two_step_config


class ScaledTwoStepGame(TwoStepGame):
    """The two-step game with its observations and state shifted and scaled far outside
    [-1, 1] (positions in the hundreds), so normalisation has something to do."""

    OBS_SCALE, STATE_SCALE = 40.0, 300.0

    def state(self) -> np.ndarray:
        return self.STATE_SCALE * super().state() + 50.0

    def _obs(self) -> dict:
        s = self.OBS_SCALE * super().state() - 20.0
        return {a: s.copy() for a in self.agents}


def norm_config(**training):
    return (
        two_step_config()
        .environment(ScaledTwoStepGame)
        .training(normalize_obs=True, normalize_state=True, episode_batch_size=8, learning_starts=8, **training)
    )


def stored(replay: EpisodeReplayBuffer, key: str) -> np.ndarray:
    """Every stored step (the final observation included) of ``key``, one row per feature vector."""
    rows = [replay._data[key][i, : replay.lengths[i] + 1] for i in range(len(replay))]
    return np.concatenate(rows).reshape(-1, replay._data[key].shape[-1]).astype(np.float64)


def assert_normalizer_equal(a: Normalizer, b: Normalizer) -> None:
    np.testing.assert_array_equal(a.mean, b.mean)
    np.testing.assert_array_equal(a.std, b.std)
    assert a.clip == b.clip


def test_statistics_are_those_of_every_stored_step(ray_local):
    algo = norm_config().build_algo()
    try:
        for _ in range(4):
            algo.train()
        replay = algo.replay_buffer
        assert replay.num_added == len(replay) == 32  # nothing overwritten: the replay holds all
        for key, stats in ((K.OBS, algo.obs_stats), (K.STATE, algo.state_stats)):
            data = stored(replay, key)  # the replay keeps raw values
            assert np.abs(data).max() >= 20.0
            assert stats.count == len(data) == 32 * 3 * (2 if key == K.OBS else 1)  # agents pooled
            np.testing.assert_allclose(stats.mean, data.mean(axis=0), rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(stats.var, data.var(axis=0), rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(stats.std, np.maximum(data.std(axis=0), stats.min_std), rtol=1e-9)
    finally:
        algo.stop()


def test_acting_and_learning_see_the_same_normalised_inputs(ray_local, monkeypatch):
    """The agent network's input for a step is bitwise the same when the env runner acts on it
    and when the learner trains on it (same statistics); the mixer gets the normalised state."""
    algo = norm_config().build_algo()
    try:
        for _ in range(3):
            algo.train()
        runner = algo.env_runner
        expected = qmix_module._normalizer(algo.obs_stats)
        assert_normalizer_equal(runner.obs_normalizer, expected)  # synced with the weights

        acted = []  # the observations the runner's module got, one [E, N, obs_dim] per step
        forward = runner.module._forward
        monkeypatch.setattr(runner.module, "_forward", lambda batch, **kw: acted.append(batch[K.OBS]) or forward(batch))
        episodes = runner.sample(num_episodes=8, explore=True)
        assert len(episodes) == 8 and len(acted) == 2  # 8 envs in lock-step, 2 steps each

        fresh = EpisodeReplayBuffer(algo._team_spec(), capacity=8)
        fresh.add(episodes)
        raw = fresh.gather(np.arange(8))
        monkeypatch.setattr(algo.replay_buffer, "sample", lambda n: raw)
        batch = algo._learner_batch()[DEFAULT_MODULE_ID]

        learned = []  # the observations the learner's module gets
        module = algo.learner_group._learner.module[DEFAULT_MODULE_ID]
        train_forward = module._forward_train
        monkeypatch.setattr(
            module, "_forward_train", lambda b, **kw: learned.append(b[K.OBS].numpy().copy()) or train_forward(b)
        )
        algo.learner_group.update(batch=algo._learner_batch(), timesteps={NUM_ENV_STEPS_SAMPLED_LIFETIME: 0})
        assert len(learned) == 1

        for t in range(2):
            step = acted[t].numpy()
            assert np.abs(step).max() <= NORM_CLIP and not np.array_equal(step, raw[K.OBS][:, t])
            np.testing.assert_array_equal(step, batch[K.OBS][:, t])
            np.testing.assert_array_equal(step, learned[0][:, t])
        np.testing.assert_array_equal(batch[K.OBS], expected(raw[K.OBS]))  # final observations too
        state_norm = qmix_module._normalizer(algo.state_stats)
        np.testing.assert_array_equal(batch[K.STATE], state_norm(raw[K.STATE]))
        assert np.abs(batch[K.STATE]).max() <= NORM_CLIP
    finally:
        algo.stop()


def test_padding_stays_zero_and_the_replay_stays_raw(ray_local):
    algo = norm_config().build_algo()
    try:
        for _ in range(2):
            algo.train()
        raw = algo.replay_buffer.gather(np.arange(4))
        raw[K.MASK][0, 1] = 0.0  # pretend episode 0 is one step long: steps 2.. are padding
        raw_copy = {k: v.copy() for k, v in raw.items()}
        out = algo._normalize_inputs(raw)
        for key in (K.OBS, K.STATE):
            assert (out[key][0, 2:] == 0).all() and (out[key][0, :2] != 0).any()
            np.testing.assert_array_equal(raw[key], raw_copy[key])  # a new array: inputs untouched
    finally:
        algo.stop()


def test_evaluation_uses_but_never_updates_the_statistics(ray_local):
    algo = norm_config().evaluation(evaluation_interval=1000, evaluation_duration=6).build_algo()
    try:
        for _ in range(3):
            algo.train()
        before = (algo.obs_stats.get_state(), algo.state_stats.get_state())
        result = algo.evaluate()
        assert result["env_runners"]["num_episodes"] == 6
        for old, new in zip(before, (algo.obs_stats.get_state(), algo.state_stats.get_state())):
            assert old["count"] == new["count"]
            np.testing.assert_array_equal(old["mean"], new["mean"])
            np.testing.assert_array_equal(old["m2"], new["m2"])
        # The evaluation runner (RLlib's own group) acts with the algorithm's statistics.
        eval_runner = algo.eval_env_runner_group.local_env_runner
        assert eval_runner is not algo.env_runner
        assert_normalizer_equal(eval_runner.obs_normalizer, qmix_module._normalizer(algo.obs_stats))
    finally:
        algo.stop()


def _summary(algo) -> dict:
    weights = algo.learner_group.get_state(components="learner/rl_module")["learner"]["rl_module"]
    return {
        "weights": {k: np.asarray(v) for k, v in weights[DEFAULT_MODULE_ID].items()},
        "obs": algo.obs_stats.get_state(),
        "state": algo.state_stats.get_state(),
        "runner": algo.env_runner.obs_normalizer,
    }


def _assert_same(a: dict, b: dict) -> None:
    for k in a["weights"]:
        np.testing.assert_array_equal(a["weights"][k], b["weights"][k], err_msg=k)
    for key in ("obs", "state"):
        assert a[key]["count"] == b[key]["count"] and a[key]["min_std"] == b[key]["min_std"]
        np.testing.assert_array_equal(a[key]["mean"], b[key]["mean"])
        np.testing.assert_array_equal(a[key]["m2"], b[key]["m2"])
    assert_normalizer_equal(a["runner"], b["runner"])


def test_checkpoint_restores_the_statistics_exactly_and_training_continues_identically(ray_local, tmp_path):
    config = norm_config(store_replay_buffer_in_checkpoints=True, epsilon_finish=0.05, epsilon_anneal_steps=200)
    algo = config.build_algo()
    try:
        for _ in range(3):
            algo.train()
        path = algo.save(str(tmp_path / "ckpt")).checkpoint.path
        at_save = _summary(algo)
        for _ in range(3):
            algo.train()
        continued = _summary(algo)
    finally:
        algo.stop()
    restored = QMIX.from_checkpoint(path)
    try:
        _assert_same(_summary(restored), at_save)
        for _ in range(3):
            restored.train()
        _assert_same(_summary(restored), continued)
        assert continued["obs"]["count"] > at_save["obs"]["count"]
    finally:
        restored.stop()


def test_remote_env_runners_act_with_the_algorithms_statistics(ray_local):
    algo = norm_config().env_runners(num_env_runners=2, num_envs_per_env_runner=2).build_algo()
    try:
        for _ in range(4):
            algo.train()
        expected = qmix_module._normalizer(algo.obs_stats)
        assert expected is not None
        got = algo.env_runner_group.foreach_env_runner(lambda r: r.obs_normalizer, local_env_runner=False)
        assert len(got) == 2
        for normalizer in got:
            assert_normalizer_equal(normalizer, expected)
    finally:
        algo.stop()


class BigStateTwoStepGame(TwoStepGame):
    """The two-step game whose global state (only) is in the hundreds."""

    def state(self) -> np.ndarray:
        return 100.0 * super().state()

    def _obs(self) -> dict:
        s = super().state()
        return {a: s.copy() for a in self.agents}


def _big_state_config(**training):
    return two_step_config().environment(BigStateTwoStepGame).training(**training)


def test_a_large_state_warns_once_per_process(ray_local, monkeypatch, caplog):
    monkeypatch.setattr(qmix_module, "_warned_large_inputs", set())
    caplog.set_level(logging.WARNING, logger=qmix_module.__name__)

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == qmix_module.__name__]

    for _ in range(2):  # a second algorithm in the same process does not warn again
        algo = _big_state_config(normalize_state=False).build_algo()
        try:
            for _ in range(2):
                algo.train()
        finally:
            algo.stop()
    (message,) = warnings()
    assert "global state" in message and "|x| = 100" in message and "training(normalize_state=True)" in message


def test_no_large_input_warning_with_normalisation_on(ray_local, monkeypatch, caplog):
    monkeypatch.setattr(qmix_module, "_warned_large_inputs", set())
    caplog.set_level(logging.WARNING, logger=qmix_module.__name__)
    algo = _big_state_config(normalize_state=True).build_algo()
    try:
        for _ in range(2):
            algo.train()
    finally:
        algo.stop()
    assert not [r for r in caplog.records if r.name == qmix_module.__name__]


def test_normalisation_is_on_by_default_off_in_pymarls_preset_and_validated():
    assert QMIXConfig().normalize_obs is True and QMIXConfig().normalize_state is True
    config = QMIXConfig().preset("pymarl")
    assert config.normalize_obs is False and config.normalize_state is False
    for key in ("normalize_obs", "normalize_state"):
        with pytest.raises(ValueError, match=f"`{key}` must be True or False"):
            QMIXConfig().environment("two_step_game").training(**{key: "yes"}).validate()


def test_normalizer_is_float32_clipped_and_shape_free():
    norm = Normalizer.from_moments(np.array([1.0, -2.0]), np.array([0.5, 4.0]))
    x = np.array([[[2.0, -2.0], [100.0, -1e6]]], np.float32)
    out = norm(x)
    assert out.dtype == np.float32 and out is not x
    np.testing.assert_array_equal(out, [[[2.0, 0.0], [NORM_CLIP, -NORM_CLIP]]])
    # Elementwise: a step alone gives bitwise what it gives inside a batch.
    rng = np.random.default_rng(0)
    batch = rng.normal(0, 50, size=(4, 3, 2)).astype(np.float32)
    np.testing.assert_array_equal(norm(batch[2, 1]), norm(batch)[2, 1])
    assert Normalizer.from_state(None) is None
    same = Normalizer.from_state(norm.get_state())
    np.testing.assert_array_equal(same(batch), norm(batch))
