"""The env "smacv2" for RLlib: both backends' construction, errors, and QMIX training on it."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
from ray.rllib.core import DEFAULT_MODULE_ID

from rllib_qmix import QMIXConfig
from rllib_qmix.envs.smacv2 import SMACv2Env
from rllib_qmix.envs.smacv2_rllib import SMACv2MultiAgentEnv, make_smacv2_env


def test_multi_agent_env_spaces_and_a_step():
    env = SMACv2MultiAgentEnv({"scenario": "terran_5_vs_5", "seed": 2})
    assert env.agents == [f"agent_{i}" for i in range(5)]
    assert env.observation_spaces["agent_0"]["observations"].shape == (82,)
    assert env.state_space.shape == (120,) and env.action_spaces["agent_0"].n == 11
    obs, _ = env.reset(seed=3)
    assert set(obs) == set(env.agents)
    actions = {a: int(np.flatnonzero(o["action_mask"])[0]) for a, o in obs.items()}
    obs, rew, term, trunc, _ = env.step(actions)
    assert set(rew) <= set(env.agents) and "__all__" in term and "__all__" in trunc


def test_reset_seed_reseeds_the_battles():
    a, b = SMACv2MultiAgentEnv({"scenario": "zerg_5_vs_5"}), SMACv2MultiAgentEnv({"scenario": "zerg_5_vs_5"})
    oa, _ = a.reset(seed=9)
    ob, _ = b.reset(seed=9)
    for k in oa:
        np.testing.assert_array_equal(oa[k]["observations"], ob[k]["observations"])
    assert a.smac_env.unit_types() == b.smac_env.unit_types()


def test_capability_config_in_the_env_config():
    from rllib_qmix.envs.smacv2 import capability_config

    env = make_smacv2_env({"capability_config": capability_config("protoss_10_vs_11"), "seed": 1})
    assert isinstance(env, SMACv2Env) and (env.n_agents, env.n_enemies) == (10, 11)


@pytest.mark.parametrize(
    "env_config, error, match",
    [
        ({"scenario": "protoss_5_vs_5", "backend": "sc3"}, ValueError, "Unknown SMACv2 backend"),
        ({"map_name": "3m"}, ValueError, "takes 'scenario'"),
        ({"scenario": "zerg_5_vs_5", "capability_config": {}}, ValueError, "not both"),
        ({"scenario": "zerg_5_vs_5", "obs_own_position": True}, TypeError, "obs_own_position"),
    ],
)
def test_env_config_errors(env_config, error, match):
    with pytest.raises(error, match=match):
        make_smacv2_env(env_config)


def test_sc2_backend_without_smacv2_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "smacv2", None)  # as if not installed
    with pytest.raises(ImportError, match="oxwhirl's SMACv2.*pip install git\\+https://github.com/oxwhirl/smacv2"):
        make_smacv2_env({"scenario": "protoss_5_vs_5", "backend": "sc2"})


def test_sc2_backend_drives_upstreams_wrapper_with_the_configs_options(monkeypatch):
    seen = {}

    class FakeWrapper:
        def __init__(self, **kwargs):
            seen.update(kwargs)

    pkg, env_mod = types.ModuleType("smacv2"), types.ModuleType("smacv2.env")
    env_mod.StarCraftCapabilityEnvWrapper = FakeWrapper
    monkeypatch.setitem(sys.modules, "smacv2", pkg)
    monkeypatch.setitem(sys.modules, "smacv2.env", env_mod)
    make_smacv2_env({"scenario": "terran_10_vs_11", "backend": "sc2", "seed": 5, "reward_sparse": True})
    assert seen["map_name"] == "10gen_terran" and seen["seed"] == 5 and seen["reward_sparse"] is True
    assert (seen["obs_own_pos"], seen["use_unit_ranges"], seen["min_attack_range"]) == (True, True, 2)
    cap = seen["capability_config"]
    assert (cap["n_units"], cap["n_enemies"]) == (10, 11)
    assert cap["team_gen"]["exception_unit_types"] == ["medivac"]
    assert cap["start_positions"] == {"dist_type": "surrounded_and_reflect", "p": 0.5, "map_x": 32, "map_y": 32}


def test_qmix_trains_on_smacv2(ray_local):
    algo = (
        QMIXConfig()
        .environment("smacv2", env_config={"scenario": "protoss_5_vs_5", "seed": 0})
        .env_runners(num_env_runners=0, num_envs_per_env_runner=4, rollout_fragment_length=16)
        .training(episode_batch_size=8, learning_starts=8, optimizer="adam", lr=1e-3)
        .evaluation(evaluation_duration=2, evaluation_duration_unit="episodes")
        .debugging(seed=0)
        .build_algo()
    )
    try:
        losses = []  # an iteration without a learner update reports none
        for _ in range(12):
            result = algo.train()
            loss = result.get("learners", {}).get(DEFAULT_MODULE_ID, {}).get("td_loss")
            losses += [] if loss is None else [loss]
        assert result["num_learner_updates_lifetime"] > 0 and losses
        assert np.all(np.isfinite(losses))
        ev = algo.evaluate()["env_runners"]
        assert 0.0 <= ev["battle_won_mean"] <= 1.0
    finally:
        algo.stop()
