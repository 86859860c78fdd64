"""The QMIX env runner: masks respected, exact episodes and end flags, GRU state reset per
episode, epsilon schedule, acting Q-values equal to the training unroll."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from ray.rllib.env.multi_agent_env import MultiAgentEnv

from rllib_qmix import QMIXConfig
from rllib_qmix import keys as K
from rllib_qmix.envs.matrix import TwoStepGame
from rllib_qmix.keys import PREV_ACTIONS, STATE_IN
from rllib_qmix.learning.replay import EpisodeReplayBuffer
from rllib_qmix.sampling.env_runner import QMIXEnvRunner, epsilon_at
from rllib_qmix.sampling.episode import EpisodeBuilder


class MaskedEnv(MultiAgentEnv):
    """3 agents, 5 actions, a random mask each step; choosing a masked action raises."""

    def __init__(self, config=None):
        super().__init__()
        self.agents = self.possible_agents = ["a0", "a1", "a2"]
        space = gym.spaces.Dict(
            {"observations": gym.spaces.Box(-1, 1, (4,)), "action_mask": gym.spaces.Box(0, 1, (5,))}
        )
        self.observation_spaces = {a: space for a in self.agents}
        self.action_spaces = {a: gym.spaces.Discrete(5) for a in self.agents}
        self.state_space = gym.spaces.Box(-1, 1, (2,))
        self.rng = np.random.default_rng(0)
        self.t = 0

    def state(self):
        return np.array([self.t / 10, 1.0], np.float32)

    def _obs(self):
        self.masks = {}
        out = {}
        for a in self.agents:
            m = (self.rng.random(5) < 0.4).astype(np.float32)
            m[self.rng.integers(5)] = 1.0
            self.masks[a] = m
            out[a] = {"observations": self.rng.normal(size=4).astype(np.float32), "action_mask": m}
        return out

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return self._obs(), {}

    def step(self, action_dict):
        for a, act in action_dict.items():
            if not self.masks[a][act]:
                raise AssertionError(f"{a} chose unavailable action {act}")
        self.t += 1
        done = self.t >= 7
        return self._obs(), {a: 0.1 for a in self.agents}, {"__all__": done}, {"__all__": False}, {}


def runner(env=MaskedEnv, **training):
    config = (
        QMIXConfig()
        .environment(env)
        .env_runners(num_envs_per_env_runner=3, rollout_fragment_length=10)
        .training(**training)
        .debugging(seed=3)
    )
    return QMIXEnvRunner(config=config)


@pytest.mark.parametrize("explore", [True, False])
def test_unavailable_actions_never_chosen(explore):
    r = runner(epsilon_start=1.0, epsilon_finish=1.0)
    episodes = r.sample(num_timesteps=300, explore=explore)
    assert len(episodes) >= 30
    for ep in episodes:
        chosen = np.take_along_axis(ep.avail[:-1], ep.actions[..., None], axis=-1)
        assert chosen.all()


class TruncatedEnv(MaskedEnv):
    """MaskedEnv whose episodes are cut by a time limit after 7 steps instead of terminating."""

    def step(self, action_dict):
        obs, rew, term, trunc, info = super().step(action_dict)
        return obs, rew, {"__all__": False}, {"__all__": term["__all__"]}, info


@pytest.mark.parametrize(
    "env, terminated, truncated", [(MaskedEnv, True, False), (TruncatedEnv, False, True)], ids=["term", "trunc"]
)
def test_episodes_are_whole_and_consistent(env, terminated, truncated):
    """``num_episodes=4`` returns exactly 4 whole 7-step episodes (3 envs: 3 + 1 more), each
    with the end flags its env gave: terminated (no bootstrap) or truncated (time limit)."""
    r = runner(env=env)
    eps = r.sample(num_episodes=4, explore=True)
    assert len(eps) == 4
    for ep in eps:
        assert len(ep) == 7 and ep.obs.shape == (8, 3, 4) and ep.state.shape == (8, 2)
        assert ep.get_return() == pytest.approx(0.7 * 3)  # team reward = sum of agents' rewards
        assert (ep.terminated, ep.truncated) == (terminated, truncated)


def test_gru_state_resets_at_episode_start():
    r = runner()
    r.sample(num_timesteps=18, explore=False)  # 6 steps in each of 3 envs (episodes have 7)
    assert r._actor.hidden.abs().sum() > 0
    r.sample(num_timesteps=9, explore=False)  # 3 more: crosses the boundary at step 7
    # After step 7 the hidden state of every env was zeroed, then advanced twice from zero:
    # recompute from scratch on the new episode's first two observations.
    ep_start_obs = [b.obs[:2] for b in r._builders]
    module = r.module
    for i, obs in enumerate(ep_start_obs):
        h = module.initial_hidden(1)
        prev = torch.full((1, 3), -1)
        for t in range(2):
            out = module._forward({"obs": torch.from_numpy(obs[t][None]), PREV_ACTIONS: prev, STATE_IN: h})
            h = out["state_out"]
            prev = torch.from_numpy(r._builders[i].actions[t][None])
        assert torch.allclose(h, r._actor.hidden[i * 3 : (i + 1) * 3], atol=1e-6)


def test_epsilon_schedule_and_sync():
    assert epsilon_at(0, 1.0, 0.05, 100) == 1.0
    assert epsilon_at(50, 1.0, 0.05, 100) == pytest.approx(0.525)
    assert epsilon_at(10_000, 1.0, 0.05, 100) == pytest.approx(0.05)
    r = runner(epsilon_start=1.0, epsilon_finish=0.0, epsilon_anneal_steps=1000)
    r.set_state({"num_env_steps_sampled_lifetime": 500})
    assert r.epsilon == pytest.approx(0.5)
    r.sample(num_timesteps=30, explore=True)
    assert r.epsilon == pytest.approx(0.47)


def test_spaces_and_weights_round_trip():
    r = runner(env=TwoStepGame)
    spaces = r.get_spaces()
    obs_space, act_space = spaces["default_policy"]
    assert obs_space["obs"].shape == (2, 5) and list(act_space.nvec) == [2, 2]
    state = r.get_state()
    assert "mixer" not in str(list(state["rl_module"].keys()))  # inference-only: agent alone
    r2 = runner(env=TwoStepGame)
    r2.set_state(state)
    for p, q in zip(r.module.parameters(), r2.module.parameters()):
        assert torch.equal(p, q)


def test_num_episodes_runs_exactly_that_many_unbiased():
    """Evaluation episodes: exactly N started and finished, short ones don't crowd out long ones."""

    class VarLen(MaskedEnv):
        starts = 0  # shared by all envs: episodes alternate 3 and 30 steps in start order

        def reset(self, *, seed=None, options=None):
            self.length = 3 if VarLen.starts % 2 == 0 else 30
            VarLen.starts += 1
            return super().reset(seed=seed)

        def step(self, action_dict):
            obs, rew, term, trunc, info = super().step(action_dict)
            term["__all__"] = self.t >= self.length
            return obs, rew, term, trunc, info

    r = runner(env=VarLen)
    VarLen.starts = 0
    eps = r.sample(num_episodes=20, explore=False)
    assert len(eps) == 20 and VarLen.starts == 20
    lengths = [len(e) for e in eps]
    # With 3 envs, a "first 20 to finish" rule would return mostly 3-step episodes.
    assert sum(length == 30 for length in lengths) == 10


@pytest.mark.parametrize(
    "env, env_config, steps",
    [("smac", {"map_name": "3m"}, 300), ("two_step_game", {}, 24)],
    ids=["smac_3m", "two_step_game"],
)
def test_acting_q_values_equal_the_training_unroll(env, env_config, steps, monkeypatch):
    """The Q-values the runner acted on at every step of every finished episode equal the
    learner-side module's training unroll (``_train_inputs`` + ``_unroll``, with and without
    the padding-skipping lengths) of the replayed batch of those episodes, at every real step:
    a wrong last-action shift, agent id or row order between acting and training fails here."""
    config = (
        QMIXConfig()
        .environment(env, env_config=env_config)
        .env_runners(num_envs_per_env_runner=3)
        .training(epsilon_start=1.0, epsilon_finish=1.0)  # random play: short, varied episodes
        .debugging(seed=5)
    )
    r = QMIXEnvRunner(config=config)

    # Record each acting step's Q-values under the episode (builder) of each env it was for.
    acted: dict = {}  # builder -> [Q [N, A] at step 0, 1, ...]
    q_values = r._actor.q_values

    def recording_q_values(obs):
        q = q_values(obs)
        for i, builder in enumerate(r._builders):
            assert len(acted.setdefault(builder, [])) == len(builder)  # one acting step per env step
            np.testing.assert_array_equal(obs[i], builder.obs[-1])
            acted[builder].append(q[i].copy())
        return q

    monkeypatch.setattr(r._actor, "q_values", recording_q_values)
    builder_of: dict = {}  # id(episode) -> its builder
    finish = EpisodeBuilder.finish

    def recording_finish(self, *args, **kwargs):
        episode = finish(self, *args, **kwargs)
        builder_of[id(episode)] = self
        return episode

    monkeypatch.setattr(EpisodeBuilder, "finish", recording_finish)
    episodes = r.sample(num_timesteps=steps, explore=True)
    assert len(episodes) >= 6 and len({len(ep) for ep in episodes}) >= (2 if env == "smac" else 1)

    # The learner-side module (inference_only=False) with the runner's weights.
    module = config.get_rl_module_spec(spaces=r.get_spaces(), inference_only=False).build()
    module.set_state(r.module.get_state())
    for p, q in zip(module.agent.parameters(), r.module.agent.parameters()):
        assert torch.equal(p, q)

    # The batch the learner sees: the episodes through the replay buffer, in a shuffled order.
    buffer = EpisodeReplayBuffer(r.spec, capacity=len(episodes))
    buffer.add(episodes)
    order = np.random.default_rng(0).permutation(len(episodes))
    batch = {k: torch.from_numpy(v) for k, v in buffer.gather(order).items()}
    with torch.no_grad():
        inputs = module._train_inputs(batch)
        lengths = batch[K.MASK].sum(dim=1).long() + 1
        unrolls = [module._unroll(module.agent, inputs), module._unroll(module.agent, inputs, lengths)]

    for row, idx in enumerate(order):
        ep = episodes[idx]
        q_acted = np.stack(acted[builder_of[id(ep)]])  # [L, N, A]
        assert q_acted.shape == (len(ep), r.spec.n_agents, r.spec.n_actions)
        for q_train in unrolls:
            np.testing.assert_allclose(q_train[row, : len(ep)].numpy(), q_acted, atol=1e-5, rtol=0)
