"""QMIXEnvRunner: steps a vector of team envs with the shared DRQN, epsilon-greedy.

QMIX owns its sampling path (RLlib 2.60's recurrent multi-agent sampling crashes, and its
replay buffers cannot hold whole multi-agent episodes): each runner steps
``num_envs_per_env_runner`` team envs in lock-step, acts for all teams and agents with one
batched forward pass (``TeamActor``: GRU state per env, zeroed at episode start; epsilon-greedy
over available actions only), and returns finished episodes as compact ``TeamEpisode`` arrays.
Episodes in progress carry over to the next ``sample()``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from typing import Any, Optional, Union

import numpy as np
import torch
from ray.rllib.core import COMPONENT_RL_MODULE, DEFAULT_MODULE_ID
from ray.rllib.env import INPUT_ENV_SPACES
from ray.rllib.env.env_runner import EnvRunner
from ray.rllib.utils.annotations import override
from ray.rllib.utils.checkpoints import Checkpointable
from ray.rllib.utils.metrics import (
    EPISODE_LEN_MAX,
    EPISODE_LEN_MEAN,
    EPISODE_LEN_MIN,
    EPISODE_RETURN_MAX,
    EPISODE_RETURN_MEAN,
    EPISODE_RETURN_MIN,
    NUM_AGENT_STEPS_SAMPLED,
    NUM_AGENT_STEPS_SAMPLED_LIFETIME,
    NUM_ENV_STEPS_SAMPLED,
    NUM_ENV_STEPS_SAMPLED_LIFETIME,
    NUM_EPISODES,
    NUM_EPISODES_LIFETIME,
    NUM_MODULE_STEPS_SAMPLED,
    NUM_MODULE_STEPS_SAMPLED_LIFETIME,
    SAMPLE_TIMER,
    WEIGHTS_SEQ_NO,
)

from rllib_qmix import keys as K
from rllib_qmix.envs.creator import make_team_env
from rllib_qmix.envs.team import TeamEnv, TeamObs, TeamSpec
from rllib_qmix.sampling.acting import Normalizer, TeamActor, epsilon_at
from rllib_qmix.sampling.episode import EpisodeBuilder, TeamEpisode

logger = logging.getLogger(__name__)

EPSILON = "epsilon"
#: Key of a runner's own sampling state (RNG, episode seeds, episodes in progress).
SAMPLING_STATE = "qmix_sampling"
#: Key of the observation statistics (``Normalizer.get_state()``, or None) in the state the
#: algorithm sends to env runners (``normalize_obs``).
OBS_NORM_STATE = "qmix_obs_normalizer"
TEAM_AGENT_ID = "team"  # the whole team acts as one grouped agent
#: Team-level info keys averaged per episode into ``<key>_mean`` metrics.
EPISODE_INFO_KEYS = ("battle_won", "dead_allies", "dead_enemies")


class QMIXEnvRunner(EnvRunner, Checkpointable):
    """Samples whole team episodes for QMIX (the only place the agent network acts)."""

    def __init__(self, *, config: Any, **kwargs: Any) -> None:
        super().__init__(config=config, **kwargs)
        self._env_creator = kwargs.get("env_creator")
        self.num_envs = max(1, int(self.config.num_envs_per_env_runner))
        self._weights_seq_no = 0
        self._global_steps = 0  # env steps of all runners at the last sync (for epsilon)
        self._steps_since_sync = 0
        self._rng = np.random.default_rng(self._seed)
        # Each episode starts from a seed derived from (base, runner, env, episode number), so
        # an episode in progress at a checkpoint can be replayed exactly on restore.
        self._seed_base = int(self._seed) if self._seed is not None else int(np.random.SeedSequence().entropy % 2**63)
        self._episodes_started = np.zeros(self.num_envs, np.int64)
        self._episode_seeds = np.zeros(self.num_envs, np.int64)
        self._explore_mode: Optional[bool] = None
        self.make_env()
        self.make_module()

    # ------------------------------------------------------------------ setup
    @override(EnvRunner)
    def make_env(self) -> None:
        """Creates ``num_envs_per_env_runner`` team envs from ``config.env``."""
        for env in getattr(self, "envs", None) or []:
            env.close()
        self.envs: list[TeamEnv] = [
            make_team_env(
                self.config,
                worker_index=self.worker_index or 0,
                vector_index=i,
                num_workers=self.num_workers or 0,
                creator=self._env_creator,
            )
            for i in range(self.num_envs)
        ]
        self.spec: TeamSpec = self.envs[0].spec
        #: Teams per env (the groups of a grouped env; 1 for most envs); team slot ``i * n_teams + g``.
        self.n_teams = int(getattr(self.envs[0], "n_teams", 1))
        self.num_teams = self.num_envs * self.n_teams
        self._live = np.ones(self.num_teams, dtype=bool)  # slots whose episode is in progress
        self._needs_reset = True

    @override(EnvRunner)
    def make_module(self) -> None:
        """Builds the inference-only QMIX module (the shared agent network)."""
        spec = self.config.get_rl_module_spec(spaces=self.get_spaces(), inference_only=True)
        self.module = spec.build()
        self.module.eval()
        previous = getattr(self, "_actor", None)  # a rebuilt module keeps the statistics it was sent
        self._actor = TeamActor(
            self.module, self.num_teams, self._rng, obs_normalizer=previous.obs_normalizer if previous else None
        )

    @override(EnvRunner)
    def get_spaces(self) -> dict:
        """The team's spaces (as RLlib expects them) and the ``TeamSpec`` (sizes, episode limit)."""
        spaces = (self.spec.observation_space(), self.spec.action_space())
        return {INPUT_ENV_SPACES: spaces, DEFAULT_MODULE_ID: spaces, K.TEAM_SPEC: self.spec}

    @override(EnvRunner)
    def assert_healthy(self) -> None:
        assert self.envs and self.module is not None

    # --------------------------------------------------------------- sampling
    def _reset_all(self) -> None:
        self._obs: list[TeamObs] = [o for i in range(self.num_envs) for o in self._start_episode(i)]
        self._builders = [EpisodeBuilder(o) for o in self._obs]
        self._live[:] = True
        self._actor.reset()
        self._needs_reset = False

    def _start_episode(self, i: int) -> list[TeamObs]:
        """Resets env ``i`` with the next seed of its deterministic seed sequence; the first
        observation of each of its teams."""
        key = [self._seed_base, int(self.worker_index or 0), i, int(self._episodes_started[i])]
        seed = int(np.random.SeedSequence(key).generate_state(1)[0] & 0x7FFFFFFF)
        self._episode_seeds[i] = seed
        self._episodes_started[i] += 1
        return self.envs[i].reset_teams(seed=seed)

    @property
    def epsilon(self) -> float:
        """The current exploration rate (from all runners' env steps at the last sync)."""
        c = self.config
        return epsilon_at(
            self._global_steps + self._steps_since_sync, c.epsilon_start, c.epsilon_finish, c.epsilon_anneal_steps
        )

    @override(EnvRunner)
    def sample(
        self,
        *,
        num_timesteps: Optional[int] = None,
        num_episodes: Optional[int] = None,
        explore: Optional[bool] = None,
        random_actions: bool = False,
        force_reset: bool = False,
        **kwargs: Any,
    ) -> list[TeamEpisode]:
        """Steps the envs and returns the episodes that finished.

        Args:
            num_timesteps: Env steps to take (default ``rollout_fragment_length`` per env).
            num_episodes: Instead, run until this many episodes finished (starts fresh ones).
            explore: Epsilon-greedy (True) or greedy (False); default ``config.explore``.
            random_actions: Uniformly random available actions.
            force_reset: Start new episodes first.
        """
        t0 = time.perf_counter()
        if explore is None:
            explore = bool(self.config.explore)
        if num_episodes is not None or force_reset or self._needs_reset or explore != self._explore_mode:
            self._reset_all()
        self._explore_mode = explore
        if num_timesteps is None and num_episodes is None:
            frag = self.config.get_rollout_fragment_length(self.worker_index or 0)
            num_timesteps = int(frag) * self.num_envs
        done: list[TeamEpisode] = []
        steps = 0
        if num_episodes is None:
            while steps < num_timesteps:
                steps += self._step_all(explore, random_actions, done)
        else:
            # Start exactly num_episodes episodes and wait for all of them, so that short
            # episodes (e.g. quick wins or losses) don't crowd out long ones (time-outs).
            env_episodes = -(-num_episodes // self.n_teams)  # each gives one episode per team
            active = np.arange(self.num_envs) < env_episodes
            self._to_start = max(0, env_episodes - self.num_envs)
            while len(done) < num_episodes:
                steps += self._step_all(explore, random_actions, done, active)
            self._needs_reset = True
        self._log_sampling(steps, done, explore)
        self.metrics.log_value(SAMPLE_TIMER, time.perf_counter() - t0)
        return done

    def _step_all(self, explore: bool, random_actions: bool, done: list, active: Optional[np.ndarray] = None) -> int:
        """One step of every (active) env; finished episodes go to ``done``; returns env steps.

        With ``active``, a finished env starts a new episode only while ``self._to_start`` > 0
        and is deactivated otherwise.
        """
        eps = 1.0 if random_actions else (self.epsilon if explore else 0.0)
        actions = self._actor.act(np.stack([o.obs for o in self._obs]), np.stack([o.avail for o in self._obs]), eps)
        stepped, g = 0, self.n_teams
        for i, env in enumerate(self.envs):
            if active is not None and not active[i]:
                continue
            stepped += 1
            slots = range(i * g, (i + 1) * g)
            steps = env.step_teams([actions[k] if self._live[k] else None for k in slots])
            for k, step in zip(slots, steps):
                if step is None:
                    continue
                self._builders[k].add(actions[k], step.reward, step.obs)
                self._obs[k] = step.obs
                if step.terminated or step.truncated:
                    done.append(self._builders[k].finish(step.terminated, step.truncated, step.info))
                    self._live[k] = False
            if self._live[slots.start : slots.stop].any():  # a team of this env still plays
                continue
            if active is not None:
                if self._to_start <= 0:
                    active[i] = False
                    continue
                self._to_start -= 1
            for k, nxt in zip(slots, self._start_episode(i)):
                self._obs[k], self._builders[k] = nxt, EpisodeBuilder(nxt)
                self._live[k] = True
                self._actor.reset(k)
        if explore:
            self._steps_since_sync += stepped
        return stepped

    def _log_sampling(self, steps: int, done: list[TeamEpisode], explore: bool) -> None:
        m, n_agents = self.metrics, self.spec.n_agents
        self.num_env_steps_sampled_lifetime += steps
        m.log_value(NUM_ENV_STEPS_SAMPLED, steps, reduce="sum")
        m.log_value(NUM_ENV_STEPS_SAMPLED_LIFETIME, steps, reduce="lifetime_sum", with_throughput=True)
        n_agents *= self.n_teams
        m.log_value((NUM_AGENT_STEPS_SAMPLED, TEAM_AGENT_ID), steps * n_agents, reduce="sum")
        m.log_value((NUM_AGENT_STEPS_SAMPLED_LIFETIME, TEAM_AGENT_ID), steps * n_agents, reduce="lifetime_sum")
        m.log_value((NUM_MODULE_STEPS_SAMPLED, DEFAULT_MODULE_ID), steps, reduce="sum")
        m.log_value((NUM_MODULE_STEPS_SAMPLED_LIFETIME, DEFAULT_MODULE_ID), steps, reduce="lifetime_sum")
        m.log_value(NUM_EPISODES, len(done), reduce="sum")
        m.log_value(NUM_EPISODES_LIFETIME, len(done), reduce="lifetime_sum")
        m.log_value(EPSILON, self.epsilon if explore else 0.0, window=1)
        win = max(1, -(-self.config.metrics_num_episodes_for_smoothing // max(1, self.config.num_env_runners or 1)))
        for ep in done:
            length, ret = len(ep), ep.get_return()
            m.log_value(EPISODE_LEN_MEAN, length, window=win)
            m.log_value(EPISODE_RETURN_MEAN, ret, window=win)
            m.log_value(EPISODE_LEN_MIN, length, reduce="min", window=win)
            m.log_value(EPISODE_LEN_MAX, length, reduce="max", window=win)
            m.log_value(EPISODE_RETURN_MIN, ret, reduce="min", window=win)
            m.log_value(EPISODE_RETURN_MAX, ret, reduce="max", window=win)
            for key in EPISODE_INFO_KEYS:
                if key in ep.info:
                    m.log_value(f"{key}_mean", float(ep.info[key]), window=win)

    @override(EnvRunner)
    def get_metrics(self) -> dict:
        return self.metrics.reduce()

    def render_frames(
        self, explore: bool = False, max_steps: Optional[int] = None
    ) -> tuple[list[np.ndarray], TeamEpisode]:
        """Plays one episode in env 0 and returns its RGB frames and the episode (of its first
        team; every team of the env plays)."""
        env = self.envs[0]
        obs = env.reset_teams()
        builder, frames = EpisodeBuilder(obs[0]), [env.render()]
        actor = TeamActor(self.module, self.n_teams, self._rng, obs_normalizer=self._actor.obs_normalizer)
        limit = max_steps or self.spec.episode_limit or 10_000
        live = [True] * self.n_teams
        for _ in range(limit):
            eps = self.epsilon if explore else 0.0
            actions = actor.act(np.stack([o.obs for o in obs]), np.stack([o.avail for o in obs]), eps)
            steps = env.step_teams([a if on else None for a, on in zip(actions, live)])
            for k, step in enumerate(steps):
                if step is not None:
                    obs[k] = step.obs
                    live[k] = not (step.terminated or step.truncated)
            first = steps[0]
            builder.add(actions[0], first.reward, first.obs)
            frames.append(env.render())
            if not live[0]:
                break
        self._needs_reset = True
        return frames, builder.finish(first.terminated, first.truncated, first.info)

    # ------------------------------------------------------------------ state
    @override(Checkpointable)
    def get_state(
        self,
        components: Optional[Union[str, Collection[str]]] = None,
        *,
        not_components: Optional[Union[str, Collection[str]]] = None,
        **kwargs: Any,
    ) -> dict:
        state: dict = {NUM_ENV_STEPS_SAMPLED_LIFETIME: self._global_steps + self._steps_since_sync}
        # This runner's own sampling state: only in full states (checkpoints), never in the
        # connector-only states RLlib broadcasts to the other runners.
        if self._check_component(SAMPLING_STATE, components, not_components):
            state[SAMPLING_STATE] = self._sampling_state()
        if self._check_component(COMPONENT_RL_MODULE, components, not_components):
            state[COMPONENT_RL_MODULE] = self.module.get_state(**kwargs)
            state[WEIGHTS_SEQ_NO] = self._weights_seq_no
        return state

    @property
    def obs_normalizer(self) -> Optional[Normalizer]:
        """The observation statistics this runner acts with (the algorithm's, as last sent)."""
        return self._actor.obs_normalizer

    @override(Checkpointable)
    def set_state(self, state: dict) -> None:
        if OBS_NORM_STATE in state:
            self._actor.obs_normalizer = Normalizer.from_state(state[OBS_NORM_STATE])
        if COMPONENT_RL_MODULE in state:
            seq = state.get(WEIGHTS_SEQ_NO, 0)
            if seq == 0 or self._weights_seq_no < seq:
                weights = state[COMPONENT_RL_MODULE]
                if not isinstance(weights, dict):  # an ObjectRef
                    import ray

                    weights = ray.get(weights)
                weights = weights.get(DEFAULT_MODULE_ID, weights)
                self.module.set_state(weights)
            if seq > 0:
                self._weights_seq_no = seq
        if NUM_ENV_STEPS_SAMPLED_LIFETIME in state:
            self._global_steps = int(state[NUM_ENV_STEPS_SAMPLED_LIFETIME])
            self._steps_since_sync = 0
        if SAMPLING_STATE in state:
            self._set_sampling_state(state[SAMPLING_STATE])

    def _sampling_state(self) -> dict:
        """Exploration RNG, episode seeds and the episodes in progress (for exact resume)."""
        state = {
            "rng": self._rng.bit_generator.state,
            "explore_mode": self._explore_mode,
            "seed_base": self._seed_base,
            "episodes_started": self._episodes_started.copy(),
            "episode_seeds": self._episode_seeds.copy(),
            "in_progress": None,
        }
        if not self._needs_reset:
            state["in_progress"] = {
                "builders": [
                    {
                        "obs": np.stack(b.obs),
                        "state": np.stack(b.state),
                        "avail": np.stack(b.avail),
                        "actions": np.asarray(b.actions, np.int64).reshape(len(b.actions), self.spec.n_agents),
                        "rewards": np.asarray(b.rewards, np.float64),
                    }
                    for b in self._builders
                ],
                "hidden": self._actor.hidden.numpy().copy(),
                "prev": self._actor.prev.numpy().copy(),
            }
        return state

    def _set_sampling_state(self, state: dict) -> None:
        """Restores ``_sampling_state()``: replays each episode in progress from its seed.

        The envs are re-created at their episode's start (same seed) and stepped with the
        recorded actions; if an env does not reproduce the recorded observations (it ignores
        the seed), all episodes in progress are dropped and fresh ones start instead.
        """
        self._rng.bit_generator.state = state["rng"]
        self._explore_mode = state["explore_mode"]
        self._seed_base = int(state["seed_base"])
        self._needs_reset = True
        if len(state["episodes_started"]) != self.num_envs:
            return  # a different num_envs_per_env_runner: start fresh episodes
        if self.n_teams > 1:  # teams of one env end at different steps: not replayed, fresh episodes
            self._episodes_started = np.array(state["episodes_started"], np.int64)
            return
        self._episodes_started = np.array(state["episodes_started"], np.int64)
        self._episode_seeds = np.array(state["episode_seeds"], np.int64)
        progress = state["in_progress"]
        if progress is None:
            return
        obs_now, builders = [], []
        for i, saved in enumerate(progress["builders"]):
            obs = self.envs[i].reset(seed=int(self._episode_seeds[i]))
            builder = EpisodeBuilder(obs)
            for actions, reward in zip(saved["actions"], saved["rewards"]):
                step = self.envs[i].step(actions)
                builder.add(actions, float(reward), step.obs)
                obs = step.obs
            same = (
                np.array_equal(obs.obs, saved["obs"][-1])
                and np.array_equal(obs.state, saved["state"][-1])
                and np.array_equal(obs.avail, saved["avail"][-1])
            )
            if not same:
                logger.warning(
                    "Env %d did not reproduce its episode in progress from the episode's seed; "
                    "starting fresh episodes after the restore.",
                    i,
                )
                return
            obs_now.append(obs)
            builders.append(builder)
        self._obs, self._builders = obs_now, builders
        self._actor.hidden = torch.from_numpy(np.array(progress["hidden"]))
        self._actor.prev = torch.from_numpy(np.array(progress["prev"]))
        self._live[:] = True
        self._needs_reset = False

    @override(Checkpointable)
    def get_ctor_args_and_kwargs(self) -> tuple:
        return (), {"config": self.config}

    @override(EnvRunner)
    def stop(self) -> None:
        for env in getattr(self, "envs", []):
            env.close()


__all__ = ["OBS_NORM_STATE", "QMIXEnvRunner", "epsilon_at"]
