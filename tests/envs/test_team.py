"""The team view of RLlib MultiAgentEnvs and PettingZoo envs, and its clear errors."""

import gymnasium as gym
import numpy as np
import pytest
from ray.rllib.env.multi_agent_env import MultiAgentEnv

from rllib_qmix.envs.matrix import TwoStepGame
from rllib_qmix.envs.team import MultiAgentTeamEnv, ParallelTeamEnv, TeamEnvError, as_team_env


class ToyEnv(MultiAgentEnv):
    """Configurable 2-agent env for the error paths."""

    def __init__(
        self,
        *,
        state=True,
        act=None,
        obs_dims=(3, 3),
        masked=False,
        nan_at=None,
        shape_change_at=None,
        empty_mask_at=None,
        length=4,
    ):
        super().__init__()
        self.agents = self.possible_agents = ["a", "b"]
        self.masked = masked
        self.obs_dims = obs_dims
        self.length, self.nan_at, self.shape_change_at, self.empty_mask_at = (
            length,
            nan_at,
            shape_change_at,
            empty_mask_at,
        )
        self.observation_spaces = {
            a: (
                gym.spaces.Dict(
                    {"observations": gym.spaces.Box(-1, 1, (d,)), "action_mask": gym.spaces.Box(0, 1, (3,))}
                )
                if masked
                else gym.spaces.Box(-1, 1, (d,))
            )
            for a, d in zip(self.agents, obs_dims)
        }
        self.action_spaces = act or {a: gym.spaces.Discrete(3) for a in self.agents}
        if state:
            self.state_space = gym.spaces.Box(-1, 1, (2,))
            self.state = lambda: np.array([self.t, 0.0], np.float32)
        self.t = 0

    def _obs(self):
        out = {}
        for a, d in zip(self.agents, self.obs_dims):
            d = d + 1 if self.t == self.shape_change_at else d
            o = np.full(d, self.t / 10, np.float32)
            if self.masked:
                mask = np.array([1, 0, 1], np.float32) if self.t != self.empty_mask_at else np.zeros(3, np.float32)
                o = {"observations": o, "action_mask": mask}
            out[a] = o
        return out

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return self._obs(), {}

    def step(self, action_dict):
        self.t += 1
        done = self.t >= self.length
        r = float("nan") if self.t == self.nan_at else 1.0
        return self._obs(), {a: r for a in self.agents}, {"__all__": done}, {"__all__": False}, {}


def test_two_step_game_team_view():
    team = as_team_env(TwoStepGame())
    assert isinstance(team, MultiAgentTeamEnv)
    assert (team.spec.n_agents, team.spec.obs_dim, team.spec.state_dim, team.spec.n_actions) == (2, 5, 5, 2)
    team.reset()
    s1 = team.step(np.array([1, 0]))
    assert s1.reward == 0 and not s1.terminated
    s2 = team.step(np.array([1, 1]))
    assert s2.reward == 8.0 and s2.terminated and not s2.truncated


def test_action_mask_is_read():
    team = as_team_env(ToyEnv(masked=True))
    obs = team.reset()
    assert obs.avail.tolist() == [[True, False, True]] * 2


def test_no_global_state_names_the_opt_in():
    with pytest.raises(TeamEnvError, match=r"state_from_obs=True"):
        as_team_env(ToyEnv(state=False))


def test_state_from_obs_opt_in():
    team = as_team_env(ToyEnv(state=False), state_from_obs=True)
    obs = team.reset()
    assert team.spec.state_dim == 6 and obs.state.shape == (6,)


def test_continuous_actions_refused():
    act = {a: gym.spaces.Box(-1, 1, (2,)) for a in ["a", "b"]}
    with pytest.raises(TeamEnvError, match="discrete actions"):
        as_team_env(ToyEnv(act=act))


def test_heterogeneous_action_spaces_refused():
    act = {"a": gym.spaces.Discrete(3), "b": gym.spaces.Discrete(4)}
    with pytest.raises(TeamEnvError, match="same Discrete"):
        as_team_env(ToyEnv(act=act))


def test_heterogeneous_obs_refused():
    with pytest.raises(TeamEnvError, match="different sizes"):
        as_team_env(ToyEnv(obs_dims=(3, 4)))


def test_obs_shape_change_refused_with_step():
    team = as_team_env(ToyEnv(shape_change_at=2))
    team.reset()
    team.step(np.array([0, 0]))
    with pytest.raises(
        TeamEnvError,
        match=r"ToyEnv returned an observation that changed shape: 4 values, expected 3, for agent 'a' at .* step 2",
    ):
        team.step(np.array([0, 0]))


def test_nan_reward_refused_with_step():
    team = as_team_env(ToyEnv(nan_at=3))
    team.reset()
    team.step(np.array([0, 0]))
    team.step(np.array([0, 0]))
    with pytest.raises(TeamEnvError, match="non-finite reward .* step 3"):
        team.step(np.array([0, 0]))


def test_empty_action_mask_refused():
    team = as_team_env(ToyEnv(masked=True, empty_mask_at=1))
    team.reset()
    with pytest.raises(TeamEnvError, match="no available action at episode step 1"):
        team.step(np.array([0, 0]))


def test_single_agent_env_refused():
    with pytest.raises(TeamEnvError, match="multi-agent"):
        as_team_env(gym.make("CartPole-v1"))


def test_pettingzoo_simple_spread():
    pytest.importorskip("mpe2")
    from mpe2 import simple_spread_v3

    env = simple_spread_v3.parallel_env(N=3, max_cycles=5, continuous_actions=False)
    team = as_team_env(env)
    assert isinstance(team, ParallelTeamEnv)
    assert (team.spec.n_agents, team.spec.obs_dim, team.spec.state_dim, team.spec.n_actions) == (3, 18, 54, 5)
    team.reset(seed=0)
    for _t in range(5):
        step = team.step(np.zeros(3, int))
        assert np.isfinite(step.reward)
    assert step.truncated and not step.terminated  # a time-out bootstraps


def test_time_limit_keeps_the_last_observations_for_the_bootstrap():
    """A truncated episode's last step carries the agents' real observations and action masks.

    The TD target bootstraps from them; before this was fixed they were zeroed with only
    action 0 available, so the target bootstrapped from an observation never trained on.
    """
    pytest.importorskip("mpe2")
    from mpe2 import simple_spread_v3

    raw = simple_spread_v3.parallel_env(N=3, max_cycles=3, continuous_actions=False)
    team = as_team_env(simple_spread_v3.parallel_env(N=3, max_cycles=3, continuous_actions=False))
    raw.reset(seed=0)
    team.reset(seed=0)
    for _ in range(3):
        raw_obs, *_ = raw.step({a: 1 for a in raw.agents})
        step = team.step(np.ones(3, int))
    assert step.truncated and not step.terminated
    np.testing.assert_array_equal(step.obs.obs, np.stack([raw_obs[a] for a in raw.possible_agents]))
    assert step.obs.avail.all()


class DyingAgentEnv(MultiAgentEnv):
    """Agent "b" terminates (dies) at step 1; the episode is cut by a time limit at step 3."""

    def __init__(self, send_last_obs: bool = True):
        super().__init__()
        self.send_last_obs = send_last_obs
        self.agents = self.possible_agents = ["a", "b"]
        self.observation_spaces = {a: gym.spaces.Box(-10, 10, (2,)) for a in self.agents}
        self.action_spaces = {a: gym.spaces.Discrete(3) for a in self.agents}
        self.state_space = gym.spaces.Box(-10, 10, (1,))
        self.state = lambda: np.array([self.t], np.float32)
        self.t = 0

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return {a: np.full(2, 1.0, np.float32) for a in self.agents}, {}

    def step(self, action_dict):
        self.t += 1
        obs = {a: np.full(2, self.t + 1.0, np.float32) for a in action_dict}
        if self.t == 1 and not self.send_last_obs:
            obs.pop("b")
        terms = {"b": True} if self.t == 1 else {}
        truncs = {a: True for a in action_dict} if self.t == 3 else {}
        terms["__all__"], truncs["__all__"] = False, self.t == 3
        return obs, {a: 1.0 for a in action_dict}, terms, truncs, {}


@pytest.mark.parametrize("send_last_obs", [True, False])
def test_dead_agent_is_masked_but_truncated_agent_keeps_its_observation(send_last_obs):
    team = as_team_env(DyingAgentEnv(send_last_obs))
    team.reset()
    step = team.step(np.zeros(2, int))  # "b" dies: its observation is masked from now on
    np.testing.assert_array_equal(step.obs.obs, [[2.0, 2.0], [0.0, 0.0]])
    assert step.obs.avail.tolist() == [[True, True, True], [True, False, False]]
    assert team._action_dict(np.array([2, 2])) == {"a": 2}  # the dead agent sends no action
    team.step(np.zeros(2, int))
    step = team.step(np.zeros(2, int))  # time limit: "a" keeps its last observation
    assert step.truncated and not step.terminated
    np.testing.assert_array_equal(step.obs.obs, [[4.0, 4.0], [0.0, 0.0]])
    assert step.obs.avail[0].all()
