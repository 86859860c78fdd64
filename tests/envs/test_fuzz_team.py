"""Property-based tests of the team view against generated misbehaving multi-agent envs.

``FaultyEnv`` is a small cooperative env (RLlib ``MultiAgentEnv`` or PettingZoo-style parallel
API) that misbehaves in one generated way at one generated step and agent. Faults QMIX must
refuse raise one ``TeamEnvError`` that names the env, the episode step and (where there is
one) the agent; the tolerated ones (an agent that appears late or stops acting, observations
of another dtype) give a well-formed team view. At the algorithm level, nothing from a
refused step reaches the replay.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ray.rllib.env.multi_agent_env import MultiAgentEnv

from rllib_qmix import QMIXConfig
from rllib_qmix.envs.team import TeamEnvError, as_team_env

#: Faults refused with one error: (kind, the words the error must contain, names the agent).
REFUSED = {
    "shape": ("returned an observation that changed shape", True),
    "nan_obs": ("returned a non-finite observation", True),
    "nan_reward": ("returned a non-finite reward", True),
    "text_reward": ("returned a reward that is not a number", True),
    "nan_state": ("returned a non-finite global state", False),
    "state_size": ("returned a global state that changed size", False),
    "empty_mask": ("have no available action", True),
    "mask_size": ("returned an action mask of", True),
    "extra_key": ("which is not one of its declared agents", False),
    "tuple_len": ("the multi-agent API returns 5 dicts", False),
    "not_dict": ("expected a dict keyed by agent", False),
    "text_obs": ("returned an observation that is not numeric", True),
    "raises": ("raised RuntimeError (flaky env)", False),
    "back_after_done": ("returned an observation after the agent was done", True),
}
AGENT_OBS_FAULTS = ("shape", "nan_obs", "empty_mask", "mask_size", "text_obs")
#: Faults the team view tolerates, with a well-formed result.
TOLERATED = ("late", "absent", "float64", "int_obs", "list_obs")


@dataclass(frozen=True)
class Fault:
    kind: str
    step: int  # the episode step it happens at (0: reset)
    agent: int
    value: float = float("nan")  # nan or +-inf, for the non-finite faults


class FaultyEnv(MultiAgentEnv):
    """A team of ``n`` agents with masked actions, a global state and a fixed length, that
    misbehaves as ``fault`` says (``parallel``: PettingZoo's ParallelEnv API instead)."""

    def __init__(self, n=2, obs_dim=3, n_actions=3, length=5, fault=None, parallel=False):
        super().__init__()
        self.names = [f"agent_{i}" for i in range(n)]
        self.possible_agents = list(self.names)
        self.agents = list(self.names)
        self.obs_dim, self.n_actions, self.length, self.fault = obs_dim, n_actions, length, fault
        self.parallel = parallel
        obs_space = gym.spaces.Dict(
            {
                "observations": gym.spaces.Box(-10, 10, (obs_dim,), np.float32),
                "action_mask": gym.spaces.Box(0, 1, (n_actions,), np.float32),
            }
        )
        self.observation_spaces = {a: obs_space for a in self.names}
        self.action_spaces = {a: gym.spaces.Discrete(n_actions) for a in self.names}
        self.state_space = gym.spaces.Box(-10, 10, (4,), np.float32)
        self.t = 0
        self.raised = False  # the "raises" fault happens once

    # PettingZoo's ParallelEnv accessors (as_team_env picks the API by type; see make()).
    def observation_space(self, agent):
        return self.observation_spaces[agent]

    def action_space(self, agent):
        return self.action_spaces[agent]

    def _is(self, kind: str) -> bool:
        return self.fault is not None and self.fault.kind == kind and self.fault.step == self.t

    def _maybe_raise(self) -> None:
        if self._is("raises") and not self.raised:
            self.raised = True
            raise RuntimeError("flaky env")

    def state(self):
        s = np.array([self.t, 1.0, -1.0, 0.5], np.float32)
        if self._is("nan_state"):
            s[1] = self.fault.value
        if self._is("state_size"):
            s = np.zeros(5, np.float32)
        return s

    def _obs(self) -> dict:
        f, out = self.fault, {}
        for i, a in enumerate(self.names):
            hit = f is not None and f.agent == i
            if hit and f.kind == "late" and self.t < f.step:
                continue
            if hit and f.kind == "absent" and self.t >= f.step:
                continue
            o = np.linspace(-1, 1, self.obs_dim).astype(np.float32) * (self.t + 1) / self.length
            mask = np.ones(self.n_actions, np.float32)
            mask[-1] = 0.0 if self.n_actions > 1 else 1.0
            if hit and self.t == f.step:
                if f.kind == "shape":
                    o = np.zeros(self.obs_dim + 1, np.float32)
                elif f.kind == "nan_obs":
                    o[self.t % self.obs_dim] = f.value
                elif f.kind == "empty_mask":
                    mask[:] = 0.0
                elif f.kind == "mask_size":
                    mask = np.ones(self.n_actions + 1, np.float32)
                elif f.kind == "float64":
                    o = o.astype(np.float64)
                elif f.kind == "int_obs":
                    o = np.round(o).astype(np.int32)
                elif f.kind == "list_obs":
                    o = o.tolist()
                elif f.kind == "text_obs":
                    o = ["x"] * self.obs_dim
            out[a] = {"observations": o, "action_mask": mask}
        if self._is("extra_key"):
            out["intruder"] = out[self.names[0]]
        return out

    def reset(self, *, seed=None, options=None):
        self.t = 0
        self.agents = list(self.names)
        self._maybe_raise()
        return self._obs(), {}

    def step(self, action_dict):
        self.t += 1
        f = self.fault
        self._maybe_raise()
        done = self.t >= self.length
        rewards = {a: 0.1 for a in action_dict}
        if f is not None and self._is("nan_reward"):
            rewards[self.names[f.agent]] = f.value
        if f is not None and self._is("text_reward"):
            rewards[self.names[f.agent]] = "ten"
        obs = self._obs()
        terms = {a: done for a in obs}
        if f is not None and f.kind == "back_after_done" and self.t == f.step - 1:
            terms[self.names[f.agent]] = True  # done here, and back at f.step
        terms["__all__"] = done
        truncs = {"__all__": False}
        if done:
            self.agents = []
        if self.parallel:
            terms.pop("__all__")
            truncs.pop("__all__")
        if self._is("tuple_len"):
            return obs, rewards, terms, {}
        if self._is("not_dict"):
            return obs, list(rewards.values()), terms, truncs, {}
        return obs, rewards, terms, truncs, {}


class FaultyParallelEnv:
    """``FaultyEnv`` behind PettingZoo's ParallelEnv API (not an RLlib MultiAgentEnv)."""

    def __init__(self, **kwargs):
        self._env = FaultyEnv(parallel=True, **kwargs)
        self.possible_agents = self._env.possible_agents
        self.state_space = self._env.state_space

    agents = property(lambda self: self._env.agents)
    observation_space = property(lambda self: self._env.observation_space)
    action_space = property(lambda self: self._env.action_space)

    def state(self):
        return self._env.state()

    def reset(self, seed=None, options=None):
        return self._env.reset(seed=seed, options=options)

    def step(self, actions):
        return self._env.step(actions)

    def close(self):
        pass


def make(parallel: bool, **kwargs):
    return as_team_env(FaultyParallelEnv(**kwargs) if parallel else FaultyEnv(**kwargs))


def run_episode(team, rng: np.random.Generator) -> list:
    """Plays one episode with random available actions; returns the team observations."""
    seen = [team.reset(seed=0)]
    done = False
    while not done:
        avail = seen[-1].avail
        actions = np.array([rng.choice(np.flatnonzero(row)) for row in avail])
        step = team.step(actions)
        seen.append(step.obs)
        done = step.terminated or step.truncated
    return seen


@st.composite
def faulty_envs(draw, kinds):
    n = draw(st.integers(1, 4))
    length = draw(st.integers(2, 6))
    kind = draw(st.sampled_from(sorted(kinds)))
    first = 1 if kind in ("nan_reward", "text_reward", "tuple_len", "not_dict", "back_after_done") else 0
    if kind == "raises":
        step = draw(st.sampled_from([0, 2]))
    else:
        # An agent's final observation, at the step it terminates, is not used: faults in it don't count.
        last = length - 1 if kind in AGENT_OBS_FAULTS else length
        step = draw(st.integers(2 if kind == "back_after_done" else first, last))
    fault = Fault(kind, step, draw(st.integers(0, n - 1)), draw(st.sampled_from([np.nan, np.inf, -np.inf])))
    env_kwargs = dict(n=n, obs_dim=draw(st.integers(1, 5)), n_actions=draw(st.integers(2, 5)), length=length)
    return env_kwargs, fault, draw(st.booleans())


FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 150)),  # FUZZ_EXAMPLES=5000 for a longer hunt
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(faulty_envs(REFUSED))
def test_refused_faults_raise_one_error_naming_env_step_and_agent(case):
    env_kwargs, fault, parallel = case
    team = make(parallel, fault=fault, **env_kwargs)
    with pytest.raises(TeamEnvError) as info:
        run_episode(team, np.random.default_rng(0))
    message = str(info.value)
    words, names_agent = REFUSED[fault.kind]
    assert words in message, message
    env_name = "FaultyParallelEnv" if parallel else "FaultyEnv"
    assert message.startswith((f"{env_name} ", f"{env_name}:")), message
    assert f"at episode step {fault.step}" in message, message
    if names_agent:
        assert f"'agent_{fault.agent}'" in message, message
    assert "\n" not in message
    if fault.kind == "raises":  # the env raised once: the next episode runs
        assert len(run_episode(team, np.random.default_rng(1))) == env_kwargs["length"] + 1


@FUZZ
@given(faulty_envs(TOLERATED))
def test_tolerated_faults_give_a_well_formed_team_view(case):
    env_kwargs, fault, parallel = case
    team = make(parallel, fault=fault, **env_kwargs)
    seen = run_episode(team, np.random.default_rng(0))
    assert len(seen) == env_kwargs["length"] + 1
    spec = team.spec
    for t, obs in enumerate(seen):
        assert obs.obs.shape == (spec.n_agents, spec.obs_dim) and obs.obs.dtype == np.float32
        assert obs.state.shape == (spec.state_dim,) and np.isfinite(obs.state).all()
        assert obs.avail.shape == (spec.n_agents, spec.n_actions) and obs.avail.any(axis=1).all()
        row = obs.obs[fault.agent]
        missing = (fault.kind == "late" and t < fault.step) or (fault.kind == "absent" and t >= fault.step)
        missing |= t == env_kwargs["length"]  # all terminated: their final observations are masked
        if missing:  # not acting: zero observation, only the no-op available
            assert not row.any() and obs.avail[fault.agent].tolist() == [True] + [False] * (spec.n_actions - 1)
        else:
            expected = np.linspace(-1, 1, spec.obs_dim).astype(np.float32) * (t + 1) / env_kwargs["length"]
            if fault.kind == "int_obs" and t == fault.step:
                expected = np.round(expected)
            np.testing.assert_allclose(row, expected, rtol=1e-6)


@pytest.mark.parametrize(
    "kind,words",
    [
        ("nan_obs", "returned a non-finite observation (NaN or inf) for agent 'agent_1' at episode step 2"),
        ("nan_state", "returned a non-finite global state (NaN or inf) at episode step 2"),
        ("shape", "returned an observation that changed shape: 4 values, expected 3, for agent 'agent_1'"),
        ("extra_key", "returned observations for 'intruder', which is not one of its declared agents"),
    ],
)
def test_algorithm_stores_nothing_from_a_refused_step(ray_local, kind, words):
    """Episodes 1-2 are good; episode 3 goes wrong at its step 2: the error names it, and the
    replay holds exactly the good episodes, all finite."""

    class ThirdEpisodeGoesWrong(FaultyEnv):
        def __init__(self, config=None):
            super().__init__(n=2, obs_dim=3, n_actions=3, length=3)
            self.episode = 0

        def reset(self, *, seed=None, options=None):
            self.episode += 1
            self.fault = Fault(kind, 2, 1) if self.episode == 3 else None
            return super().reset(seed=seed, options=options)

    config = (
        QMIXConfig()
        .environment(ThirdEpisodeGoesWrong)
        .env_runners(num_env_runners=0, num_envs_per_env_runner=1, rollout_fragment_length=3)
        .training(episode_batch_size=2, learning_starts=2, replay_capacity=8)
        .debugging(seed=0)
    )
    algo = config.build_algo()
    try:
        algo.train()
        algo.train()
        assert len(algo.replay_buffer) == 2
        with pytest.raises(TeamEnvError) as info:
            algo.train()
        assert str(info.value).startswith("ThirdEpisodeGoesWrong ") and words in str(info.value)
        assert len(algo.replay_buffer) == 2 and algo.replay_buffer.num_added == 2
        stored = algo.replay_buffer.gather(np.arange(2))
        for key in ("obs", "state", "rewards"):
            assert np.isfinite(stored[key]).all(), key
    finally:
        algo.stop()
