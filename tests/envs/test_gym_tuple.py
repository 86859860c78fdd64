"""The "lbf" and "rware" envs: Tuple-space gymnasium envs as RLlib MultiAgentEnvs for QMIX."""

from __future__ import annotations

import builtins

import gymnasium as gym
import numpy as np
import pytest

from rllib_qmix import QMIXConfig
from rllib_qmix.envs.gym_tuple import TupleGymMultiAgentEnv, make_lbf, make_rware
from rllib_qmix.envs.team import TeamEnvError, as_team_env


class Countdown(gym.Env):
    """Two agents; the episode ends by itself (done) after ``ends_at`` steps; reward = step."""

    def __init__(self, ends_at: int = 10**9) -> None:
        box = gym.spaces.Box(-1, 1, (3,), np.float32)
        self.observation_space = gym.spaces.Tuple((box, box))
        self.action_space = gym.spaces.Tuple((gym.spaces.Discrete(4), gym.spaces.Discrete(4)))
        self.ends_at, self.t, self.last = ends_at, 0, None

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return (np.zeros(3), np.ones(3)), {}

    def step(self, actions):
        self.t, self.last = self.t + 1, actions
        return (np.zeros(3), np.ones(3)), [self.t, 1.0], self.t >= self.ends_at, False, {}


def _play(env: TupleGymMultiAgentEnv) -> tuple[int, dict, dict, dict]:
    env.reset(seed=0)
    t = 0
    while True:
        obs, rewards, terms, truncs, _ = env.step({"agent_0": 3, "agent_1": 1})
        t += 1
        if terms["__all__"] or truncs["__all__"]:
            return t, rewards, terms, truncs


def test_time_limit_is_a_truncation_and_the_env_own_end_a_termination():
    t, rewards, terms, truncs = _play(TupleGymMultiAgentEnv(Countdown(), time_limit=7))
    assert t == 7 and truncs["__all__"] and not terms["__all__"]
    assert rewards == {"agent_0": 7.0, "agent_1": 1.0}
    env = TupleGymMultiAgentEnv(Countdown(ends_at=3), time_limit=7)
    t, _, terms, truncs = _play(env)
    assert t == 3 and terms["__all__"] and not truncs["__all__"]
    assert env.env.last == (3, 1)  # actions in agent order


def test_team_view_needs_the_state_opt_in():
    env = TupleGymMultiAgentEnv(Countdown(), time_limit=5)
    with pytest.raises(TeamEnvError, match=r"state_from_obs=True"):
        as_team_env(env)
    team = as_team_env(env, state_from_obs=True)
    assert (team.spec.n_agents, team.spec.obs_dim, team.spec.state_dim, team.spec.n_actions) == (2, 3, 6, 4)


@pytest.mark.parametrize(
    "make,key,limit,shape",
    [
        (make_lbf, "Foraging-8x8-2p-2f-coop-v3", 50, (2, 12, 6)),
        (make_lbf, "Foraging-10x10-3p-3f-v3", 50, (3, 18, 6)),
        (make_rware, "rware-tiny-2ag-v2", 500, (2, 71, 5)),
    ],
)
def test_real_envs_run_to_their_time_limit(make, key, limit, shape):
    team = as_team_env(make({"key": key}), state_from_obs=True)
    assert (team.spec.n_agents, team.spec.obs_dim, team.spec.n_actions) == shape
    rng = np.random.default_rng(0)
    team.reset(seed=0)
    for t in range(1, limit + 1):
        step = team.step(rng.integers(0, shape[2], shape[0]))
        if step.terminated:  # LBF: all food collected before the limit
            assert make is make_lbf and t < limit
            return
        assert step.truncated == (t == limit)
        assert np.isfinite(step.reward) and step.obs.obs.shape == shape[:2]


def test_env_config_errors_are_clear(monkeypatch):
    with pytest.raises(ValueError, match=r"Unknown env_config keys for 'lbf': \['size'\]"):
        make_lbf({"size": 8})
    with pytest.raises(ValueError, match=r"Unknown lbf env 'Foraging-nope-v3' .*e\.g\. Foraging-"):
        make_lbf({"key": "Foraging-nope-v3"})
    real_import = builtins.__import__

    def no_rware(name, *args, **kwargs):
        if name == "rware":
            raise ImportError("No module named 'rware'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_rware)
    with pytest.raises(ImportError, match=r"The env 'rware' needs the rware package: `pip install rware`"):
        make_rware()


def test_qmix_trains_on_registered_lbf(ray_local):
    config = (
        QMIXConfig()
        .environment("lbf", env_config={"key": "Foraging-8x8-2p-2f-coop-v3"})
        .env_runners(num_env_runners=0, num_envs_per_env_runner=2, rollout_fragment_length=50)
        .training(state_from_obs=True, episode_batch_size=4, learning_starts=4)
        .debugging(seed=0)
    )
    algo = config.build_algo()
    try:
        for _ in range(3):  # 2 episodes of 50 steps each
            result = algo.train()
        assert result["env_runners"]["num_env_steps_sampled_lifetime"] == 300
        assert result["env_runners"]["episode_len_mean"] <= 50
        assert result["num_learner_updates_lifetime"] > 0
    finally:
        algo.stop()
