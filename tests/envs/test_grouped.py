"""Grouped envs (``with_agent_groups``) as old RLlib QMIX read them: Tuple spaces of Dict
observations, one-hot Discrete/MultiDiscrete "obs", the "state" entry, action masks, the
members' rewards, one or several groups."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.spaces import Box, Dict, Discrete, MultiDiscrete, Tuple
from ray.rllib.env.multi_agent_env import ENV_STATE, MultiAgentEnv

from rllib_qmix.envs.creator import team_view as as_team_env
from rllib_qmix.envs.grouped import GroupedTeamEnv, flatten
from rllib_qmix.envs.team import TeamEnvError


class Members(MultiAgentEnv):
    """Four agents; agent i observes {"obs": obs_of(i, t), "action_mask", "state"}; rewards i + 1;
    the episode ends after 2 steps. ``obs_space`` picks the kind of "obs"."""

    def __init__(self, obs_space: gym.Space, with_state: bool = True, n: int = 4):
        super().__init__()
        self.agents = self.possible_agents = list(range(n))
        self.obs_kind = obs_space
        spaces = {"obs": obs_space, "action_mask": Box(0, 1, (3,))}
        if with_state:
            spaces[ENV_STATE] = Box(-1, 1, (2,))
        self.member = Dict(spaces)
        self.observation_spaces = {a: self.member for a in self.agents}
        self.action_spaces = {a: Discrete(3) for a in self.agents}
        self.t = 0
        self.received = []

    def _obs(self):
        value = {Discrete: 2, MultiDiscrete: [1, 2], Box: [0.5, -0.5]}[type(self.obs_kind)]
        out = {}
        for a in self.agents:
            member = {"obs": value, "action_mask": np.array([1, 0, 1]) if a == 1 else np.ones(3)}
            if ENV_STATE in self.member.spaces:
                member[ENV_STATE] = np.array([self.t, -self.t], np.float32)
            out[a] = member
        return out

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return self._obs(), {}

    def step(self, actions):
        self.received.append(dict(actions))
        self.t += 1
        done = self.t >= 2
        rewards = {a: float(a + 1) for a in self.agents}
        return self._obs(), rewards, {"__all__": done}, {"__all__": False}, {}


def grouped(obs_space, groups=None, **kw):
    env = Members(obs_space, **kw)
    groups = groups or {"g": list(env.agents)}
    return env, env.with_agent_groups(groups)  # no obs_space/act_space: read from the members


@pytest.mark.parametrize(
    "space,expected",
    [
        (Discrete(4), [0, 0, 1, 0]),  # one-hot, as old RLlib's preprocessor
        (MultiDiscrete([2, 3]), [0, 1, 0, 0, 1]),  # one one-hot per entry, concatenated
        (Box(-1, 1, (2,)), [0.5, -0.5]),
    ],
)
def test_member_observations_are_flattened_like_old_rllib(space, expected):
    _, env = grouped(space)
    team = as_team_env(env)
    assert isinstance(team, GroupedTeamEnv)
    assert team.spec.n_agents == 4 and team.spec.obs_dim == len(expected) and team.spec.n_actions == 3
    first = team.reset(seed=0)
    np.testing.assert_array_equal(first.obs, np.tile(expected, (4, 1)))
    np.testing.assert_array_equal(first.avail[1], [True, False, True])  # agent 1's mask
    assert first.avail[[0, 2, 3]].all()
    np.testing.assert_array_equal(first.state, [0.0, 0.0])
    step = team.step(np.array([2, 0, 1, 2]))
    np.testing.assert_array_equal(step.state if hasattr(step, "state") else step.obs.state, [1.0, -1.0])
    assert step.reward == 1 + 2 + 3 + 4  # the members' rewards, summed
    assert not step.terminated and not step.truncated
    assert team.step(np.zeros(4, int)).terminated


def test_actions_go_to_the_group_as_a_tuple():
    inner, env = grouped(Discrete(4))
    team = as_team_env(env)
    team.reset()
    team.step(np.array([2, 0, 1, 2]))
    assert inner.received == [{0: 2, 1: 0, 2: 1, 3: 2}]


def test_reward_from_group_rewards_info_as_old_qmix_read_it():
    """A grouped env that reports its members' rewards only in ``_group_rewards`` (old QMIX
    read nothing else) gives the team their sum."""

    class InfoOnly(MultiAgentEnv):
        def __init__(self):
            super().__init__()
            self.agents = self.possible_agents = ["team"]
            self.observation_spaces = {"team": Tuple([Box(0, 1, (1,))] * 2)}
            self.action_spaces = {"team": Tuple([Discrete(2)] * 2)}

        def reset(self, *, seed=None, options=None):
            return {"team": [np.zeros(1), np.ones(1)]}, {}

        def step(self, actions):
            obs = {"team": [np.zeros(1), np.ones(1)]}
            info = {"team": {"_group_rewards": [1.5, 2.0]}}
            return obs, {"team": 0.0}, {"__all__": True}, {"__all__": False}, info

    team = as_team_env(InfoOnly(), state_from_obs=True)
    team.reset()
    step = team.step(np.array([0, 1]))
    assert step.reward == 3.5 and step.terminated
    np.testing.assert_array_equal(step.obs.state, [0.0, 1.0])  # concatenated observations


def test_no_state_names_the_opt_in():
    _, env = grouped(Discrete(4), with_state=False)
    with pytest.raises(TeamEnvError, match=r"state_from_obs=True"):
        as_team_env(env)
    team = as_team_env(env, state_from_obs=True)
    assert team.spec.state_dim == 4 * 4


class TwoGroups(Members):
    """Members with an end per group: group "a" (agents 0, 1) is done after 1 step, "b" after 2."""

    def __init__(self):
        super().__init__(Discrete(4))

    def step(self, actions):
        obs, rewards, _, _, infos = super().step(actions)
        obs = {a: o for a, o in obs.items() if self.t < 1 or a >= 2}  # a's agents stop observing
        rewards = {a: r for a, r in rewards.items() if self.t <= 1 or a >= 2}
        terms = {a: (self.t >= 1 if a < 2 else self.t >= 2) for a in rewards}
        terms["__all__"] = self.t >= 2
        return obs, rewards, terms, {"__all__": False}, infos


def test_several_groups_are_several_teams_as_old_qmix_trained_them():
    """Two groups: two teams of one env, each with its own reward, state and episode end."""
    team = as_team_env(TwoGroups().with_agent_groups({"a": [0, 1], "b": [2, 3]}))
    assert team.n_teams == 2 and team.spec.n_agents == 2
    first = team.reset_teams(seed=0)
    assert len(first) == 2 and first[0].obs.shape == (2, 4)
    a, b = team.step_teams([np.array([0, 2]), np.array([1, 1])])
    assert (a.reward, b.reward) == (1 + 2, 3 + 4)  # each group's members' rewards
    assert a.terminated and not b.terminated  # group a's episode ended, b's goes on
    np.testing.assert_array_equal(b.obs.state, [1.0, -1.0])
    none, b2 = team.step_teams([None, np.array([0, 0])])
    assert none is None and b2.terminated and b2.reward == 7
    with pytest.raises(TeamEnvError, match="use reset_teams"):
        team.reset()


def test_groups_of_different_sizes_are_refused():
    _, env = grouped(Discrete(4), groups={"a": [0], "b": [1, 2, 3]})
    with pytest.raises(TeamEnvError, match=r"groups have \[1, 3\] agents"):
        as_team_env(env)


def test_env_runner_plays_every_group_as_a_team():
    """The env runner samples both groups' episodes from each env: episode lengths 1 (group a)
    and 2 (group b), rewards 3 and 7 + 7, in every env."""
    from ray.tune.registry import register_env

    from rllib_qmix import QMIXConfig
    from rllib_qmix.sampling.env_runner import QMIXEnvRunner

    register_env("two_groups", lambda cfg: TwoGroups().with_agent_groups({"a": [0, 1], "b": [2, 3]}))
    config = QMIXConfig().environment("two_groups").env_runners(num_envs_per_env_runner=3).debugging(seed=0)
    runner = QMIXEnvRunner(config=config)
    try:
        episodes = runner.sample(num_episodes=6, explore=True)
        assert sorted((len(e), e.get_return()) for e in episodes) == [(1, 3.0)] * 3 + [(2, 14.0)] * 3
        episodes = runner.sample(num_timesteps=12, explore=True)  # 4 env episodes of 2 steps in 3 envs
        assert sorted(len(e) for e in episodes) == [1] * 6 + [2] * 6
    finally:
        runner.stop()


def test_members_with_different_spaces_are_refused():
    class Mixed(Members):
        def __init__(self):
            super().__init__(Discrete(4))
            self.action_spaces = {0: Discrete(3), 1: Discrete(3), 2: Discrete(3), 3: Discrete(4)}

    env = Mixed().with_agent_groups({"g": [0, 1, 2, 3]})
    with pytest.raises(TeamEnvError, match=r"same Discrete\(n\)"):
        as_team_env(env)


def test_flatten_nested():
    space = Dict({"a": Discrete(2), "b": Tuple([Box(0, 1, (2,)), MultiDiscrete([2])])})
    np.testing.assert_array_equal(flatten(space, {"a": 1, "b": ([0.25, 0.75], [0])}), [0, 1, 0.25, 0.75, 1, 0])
