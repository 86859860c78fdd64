"""QMIXConfig.preset: named settings (pymarl's), in Python and in an experiment YAML."""

from __future__ import annotations

import pytest

from rllib_qmix import QMIX, QMIXConfig
from rllib_qmix.cli.experiment import CLIError, build_config, load_experiments

#: pymarl's QMIX, written out from oxwhirl/pymarl's src/config/default.yaml and algs/qmix.yaml.
PYMARL_YAML = {
    "optimizer": "rmsprop",  # the learner's RMSprop
    "lr": 0.0005,
    "optim_alpha": 0.99,
    "optim_eps": 0.00001,
    "grad_clip": 10,  # grad_norm_clip
    "gamma": 0.99,
    "episode_batch_size": 32,  # batch_size
    "replay_capacity": 5000,  # buffer_size
    "target_update_interval": 200,
    "td_lambda": 0.0,  # one-step targets
    "double_q": True,
    "epsilon_start": 1.0,
    "epsilon_finish": 0.05,
    "epsilon_anneal_steps": 50000,  # epsilon_anneal_time
    "mixer": "qmix",
    "mixing_embed_dim": 32,
    "hypernet_layers": 2,
    "hypernet_embed": 64,
    "agent_hidden_dim": 64,  # rnn_hidden_dim
    "obs_agent_id": True,
    "obs_last_action": True,
    "updates_per_episode": 1.0,  # one training step per episode run
    "standardize_rewards": False,  # pymarl has no reward scaling
    "normalize_obs": False,  # nor input normalisation
    "normalize_state": False,
}

#: The defaults chosen from measurements (docs/results.md, "Choosing the defaults"): where they
#: differ from pymarl's.
CHOSEN = {
    "optimizer": "adam",
    "td_lambda": 0.6,
    "standardize_rewards": True,
    "normalize_obs": True,
    "normalize_state": True,
    "updates_per_episode": 0.25,
}


def test_defaults_are_pymarls_except_the_chosen_ones():
    config = QMIXConfig()
    for key, value in PYMARL_YAML.items():
        assert getattr(config, key) == CHOSEN.get(key, value), key
    assert set(CHOSEN) <= set(PYMARL_YAML)


def test_pymarl_preset_sets_pymarls_values_over_other_settings():
    config = (
        QMIXConfig()
        .training(optimizer="adam", lr=1e-3, td_lambda=0.6, episode_batch_size=128, learning_starts=128)
        .preset("pymarl")
    )
    for key, value in PYMARL_YAML.items():
        assert getattr(config, key) == value, key
    config.validate()


def test_training_after_a_preset_overrides_it():
    config = QMIXConfig().preset("pymarl").training(td_lambda=0.6)
    assert config.td_lambda == 0.6 and config.optimizer == "rmsprop"


def test_unknown_preset_is_refused():
    with pytest.raises(ValueError, match="unknown QMIX preset 'pymarl3'; presets: \\['old_rllib', 'pymarl'\\]"):
        QMIXConfig().preset("pymarl3")
    with pytest.raises(CLIError, match="unknown preset"):
        build_config(QMIX, {"env": "two_step_game", "preset": "pymarl3"})


def test_preset_in_an_experiment_yaml(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text(
        "exp:\n  run: QMIX\n  env: two_step_game\n  stop: {training_iteration: 1}\n"
        "  config:\n    preset: pymarl\n    td_lambda: 0.6\n    num_envs_per_env_runner: 4\n"
    )
    (spec,) = load_experiments(str(path))
    # Tune rebuilds the config from param_space: the preset is there as its settings
    assert "preset" not in spec.param_space
    assert spec.param_space["optimizer"] == "rmsprop" and spec.param_space["td_lambda"] == 0.6
    config = build_config(QMIX, spec.param_space)
    assert (config.optimizer, config.td_lambda, config.target_update_interval) == ("rmsprop", 0.6, 200)


def test_algorithms_without_presets_refuse_the_key():
    from ray.rllib.algorithms.ppo import PPO

    with pytest.raises(CLIError, match="has no presets"):
        build_config(PPO, {"env": "CartPole-v1", "preset": "pymarl"})
