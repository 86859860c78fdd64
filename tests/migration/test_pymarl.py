"""from_pymarl: pymarl's and EPyMARL's config files (fixtures with their keys) merged as pymarl
merges them, each key mapped with its meaning there, envs mapped, errors for the rest."""

import logging
from pathlib import Path

import pytest

from rllib_qmix import from_pymarl
from rllib_qmix.envs.creator import make_team_env
from rllib_qmix.migration.pymarl import load_pymarl_config

FIXTURES = Path(__file__).parent / "fixtures"
PYMARL, EPYMARL = FIXTURES / "pymarl", FIXTURES / "epymarl"


def test_pymarl_files_merge_in_pymarls_order():
    """default <- env <- alg <- overrides; env_args merged key by key."""
    cfg = load_pymarl_config(
        "qmix", "sc2", config_dir=PYMARL, overrides=["env_args.map_name=8m", "lr=0.001", "env_args.seed=3"]
    )
    assert cfg["buffer_size"] == 5000  # the alg file over default's 32
    assert cfg["t_max"] == 2050000  # the env file over default's 10000
    assert cfg["runner"] == "parallel" and cfg["batch_size_run"] == 8
    assert cfg["lr"] == 0.001 and cfg["env_args"]["map_name"] == "8m" and cfg["env_args"]["seed"] == 3
    assert cfg["env_args"]["reward_win"] == 200  # kept beside the overridden entries


def test_pymarl_qmix_on_sc2(caplog):
    with caplog.at_level(logging.WARNING, logger="rllib_qmix.migration.pymarl"):
        config = from_pymarl("qmix", "sc2", config_dir=PYMARL, overrides=["env_args.map_name=8m", "seed=7"])
    assert "t_max=2050000" in caplog.text and "num_env_steps_sampled_lifetime" in caplog.text
    assert config.optimizer == "rmsprop" and config.lr == 0.0005  # pymarl's RMSprop
    assert (config.optim_alpha, config.optim_eps, config.grad_clip, config.gamma) == (0.99, 1e-5, 10, 0.99)
    assert config.episode_batch_size == 32 and config.learning_starts == 32 and config.replay_capacity == 5000
    # The parallel runner: 8 envs, one update per 8 episodes; targets every 200 episodes = 25 updates.
    assert config.num_envs_per_env_runner == 8 and config.updates_per_episode == 1 / 8
    assert config.target_update_interval == 25 and config.target_update_tau is None
    assert (config.epsilon_start, config.epsilon_finish, config.epsilon_anneal_steps) == (1.0, 0.05, 50000)
    assert (config.agent_hidden_dim, config.obs_agent_id, config.obs_last_action) == (64, True, True)
    assert (config.mixer, config.mixing_embed_dim, config.hypernet_layers, config.hypernet_embed) == ("qmix", 32, 2, 64)
    assert config.td_lambda == 0.0 and not config.standardize_rewards and not config.normalize_obs
    assert config.seed == 7
    assert config.env == "smac" and config.env_config["map_name"] == "8m" and config.env_config["backend"] == "lite"
    assert config.env_config["timeout_is_terminal"] is True  # pymarl's time-outs, with continuing_episode False
    config.validate()
    env = make_team_env(config)  # every sc2.yaml env_args key is one the simulator takes
    assert env.spec.n_agents == 8
    env.close()


def test_epymarl_qmix_on_lbf():
    config = from_pymarl(
        "qmix",
        "gymma",
        config_dir=EPYMARL,
        overrides=["env_args.key=lbforaging:Foraging-8x8-2p-3f-v3", "env_args.time_limit=25"],
    )
    assert config.optimizer == "adam"  # EPyMARL trains with Adam
    assert config.target_update_interval == 200 and config.target_update_tau is None  # in learner updates
    assert config.standardize_rewards is True and config.obs_last_action is False
    assert config.env == "lbf" and config.env_config == {"key": "Foraging-8x8-2p-3f-v3", "time_limit": 25}
    assert config.state_from_obs is True  # EPyMARL's gymma state: the concatenated observations
    assert config.updates_per_episode == 1.0 and config.num_envs_per_env_runner == 1
    config.validate()


@pytest.mark.parametrize(
    "key,env,env_config",
    [
        ("rware:rware-tiny-2ag-v2", "rware", {"key": "rware-tiny-2ag-v2", "time_limit": 50}),
        ("mpe:SimpleSpread-v0", "mpe_simple_spread", {"max_cycles": 50}),
        ("pz-mpe-simple-speaker-listener-v4", "mpe_simple_speaker_listener", {"max_cycles": 50}),
    ],
)
def test_epymarl_gymma_envs(key, env, env_config):
    config = from_pymarl("qmix", "gymma", config_dir=EPYMARL, overrides=[f"env_args.key={key}"])
    assert config.env == env and config.env_config == env_config


def test_soft_targets_from_epymarls_tau():
    config = from_pymarl(
        "qmix",
        "gymma",
        config_dir=EPYMARL,
        overrides={"env_args.key": "rware:rware-tiny-2ag-v2", "target_update_interval_or_tau": 0.01},
    )
    assert config.target_update_tau == 0.01


@pytest.mark.parametrize(
    "override,match",
    [
        ("mac=non_shared_mac", r"mac='non_shared_mac'.*basic_mac"),
        ("action_selector=soft_policies", "epsilon_greedy"),
        ("mixer=qtran", "qtran"),
        ("standardise_returns=True", "standardise_returns"),
        ("my_new_key=3", r"\['my_new_key'\] have no counterpart"),
        ("env=stag_hunt", "'stag_hunt' has no counterpart"),
    ],
)
def test_keys_with_no_counterpart_are_refused(override, match):
    with pytest.raises(ValueError, match=match):
        from_pymarl("qmix", "sc2", config_dir=PYMARL, overrides=[override])


def test_dicts_and_paths_work_like_names(tmp_path):
    alg = PYMARL / "algs" / "qmix.yaml"
    config = from_pymarl(str(alg), {"env": "sc2", "env_args": {"map_name": "2s3z"}}, default=PYMARL / "default.yaml")
    assert config.env_config["map_name"] == "2s3z" and config.target_update_interval == 25
    with pytest.raises(FileNotFoundError, match="qmix_x.yaml"):
        from_pymarl("qmix_x", "sc2", config_dir=PYMARL)
