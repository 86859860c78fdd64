"""QMIXConfig and QMIX: the algorithm on RLlib's new API stack.

Each ``training_step`` samples whole team episodes from the env runners, stores them in the
episode replay, and, once ``learning_starts`` episodes are stored, runs
``updates_per_episode`` learner updates per new episode on batches of ``episode_batch_size``
episodes, then sends the new agent weights (and the global env-step count that drives
epsilon) to the env runners.

.. testcode::

    from rllib_qmix import QMIXConfig
    config = (
        QMIXConfig()
        .environment("smac", env_config={"map_name": "3m"})
        .training(mixer="qmix", td_lambda=0.6, optimizer="adam")
        .env_runners(num_env_runners=0, num_envs_per_env_runner=8)
    )
"""

from __future__ import annotations

import logging
import math
import pathlib
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional

import numpy as np
import ray
from ray.exceptions import RayError
from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.algorithms.algorithm_config import AlgorithmConfig, NotProvided
from ray.rllib.core import COMPONENT_LEARNER, COMPONENT_LEARNER_GROUP, COMPONENT_RL_MODULE, DEFAULT_MODULE_ID
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.env.env_runner_group import EnvRunnerGroup
from ray.rllib.execution.rollout_ops import synchronous_parallel_sample
from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch
from ray.rllib.utils.annotations import override
from ray.rllib.utils.metrics import (
    ENV_RUNNER_RESULTS,
    ENV_RUNNER_SAMPLING_TIMER,
    EVALUATION_RESULTS,
    LEARNER_RESULTS,
    LEARNER_UPDATE_TIMER,
    NUM_ENV_STEPS_SAMPLED_LIFETIME,
    REPLAY_BUFFER_ADD_DATA_TIMER,
    REPLAY_BUFFER_SAMPLE_TIMER,
    SYNCH_WORKER_WEIGHTS_TIMER,
    TIMERS,
)

from rllib_qmix import keys as K
from rllib_qmix.algorithm.checkpoints import (
    check_qmix_checkpoint,
    checkpoint_read_errors,
    is_local_checkpoint,
    write_checkpoint,
)
from rllib_qmix.algorithm.confirm import (
    CONFIRMED,
    DEFAULT_CONFIRM_EPISODES,
    check_confirm_settings,
    episode_metrics,
    sample_quietly,
    targets_met,
)
from rllib_qmix.algorithm.old_rllib_keys import OLD_TRAINING_KEYS, ROLLOUTS_KEYS, translate_old_keys
from rllib_qmix.algorithm.old_rllib_keys import warn as warn_old_key
from rllib_qmix.algorithm.placement import check_placement
from rllib_qmix.algorithm.presets import PRESETS
from rllib_qmix.envs.creator import make_team_env
from rllib_qmix.envs.team import TeamSpec
from rllib_qmix.learning.learner import LearnerDiedError, NonFiniteUpdateError, QMIXTorchLearner
from rllib_qmix.learning.replay import DEFAULT_MAX_LEN as REPLAY_DEFAULT_LEN
from rllib_qmix.learning.replay import EpisodeReplayBuffer, shard_episode_batch
from rllib_qmix.learning.replay_budget import replay_memory_line
from rllib_qmix.learning.reward_stats import RunningMeanStd
from rllib_qmix.learning.targets import TRACES
from rllib_qmix.models.rl_module import DEFAULT_MODEL_CONFIG, QMIXTorchRLModule
from rllib_qmix.sampling.acting import Normalizer
from rllib_qmix.sampling.env_runner import OBS_NORM_STATE, QMIXEnvRunner

logger = logging.getLogger(__name__)

REPLAY_BUFFER_STATE = "qmix_replay_buffer"
REPLAY_BUFFER_DIR = "qmix_replay_buffer"  # in a local checkpoint directory: streamed raw arrays
REWARD_STATS_STATE = "qmix_reward_stats"
REWARD_MEAN = "reward_standardize_mean"
REWARD_STD = "reward_standardize_std"
INPUT_STATS_STATE = "qmix_input_stats"  # running obs/state statistics (normalize_obs/normalize_state)
QMIX_COUNTERS = "qmix_counters"
NUM_EPISODES_IN_REPLAY = "replay_num_episodes"
NUM_LEARNER_UPDATES = "num_learner_updates_lifetime"
NUM_ENV_RUNNER_RESTARTS = "num_env_runner_restarts"
#: Exact seconds spent so far in each phase of the training loop (``timers/<phase>_time_total_s``;
#: RLlib's own ``timers/*_timer`` values are smoothed per call, so they can't be summed).
PHASE_SAMPLING, PHASE_REPLAY, PHASE_LEARNER, PHASE_SYNC = "sampling", "replay", "learner", "weight_sync"

SAMPLE_TAG = "qmix_sample"
_MIXERS = ("qmix", "vdn", None)
#: Inputs whose magnitude exceeds this (in the first stored episodes, with their normalisation
#: off) get a warning that names the normalisation option.
LARGE_INPUT = 10.0
#: Stored episodes checked for large inputs (the check stops after these).
LARGE_INPUT_CHECK_EPISODES = 100
_warned_large_inputs: set[str] = set()  # warned once per process, per input


def _warn_large_inputs(episodes: list, checks: dict[str, str]) -> None:
    """Warns once per process for each input (``obs``/``state`` attribute of the episodes) in
    ``checks`` whose largest magnitude exceeds ``LARGE_INPUT``; ``checks`` maps the attribute to
    the option that normalises it."""
    for attr, option in checks.items():
        if attr in _warned_large_inputs or not episodes:
            continue
        biggest = max(float(np.abs(getattr(ep, attr)).max(initial=0.0)) for ep in episodes)
        if biggest > LARGE_INPUT:
            _warned_large_inputs.add(attr)
            what = "global state" if attr == "state" else "agent observations"
            logger.warning(
                "QMIX: the %s reach |x| = %.3g, far outside [-1, 1]. Unscaled inputs this large can make "
                "Q-values and TD targets blow up (the mixer's hypernetworks take the state as it is); "
                "consider training(%s=True).",
                what,
                biggest,
                option,
            )


def _sample_and_metrics(runner: Any, state: Optional[dict] = None) -> tuple[list, dict]:
    """One asynchronous sampling request to a remote env runner: its episodes and metrics.

    ``state`` (new agent weights and the global env-step count) is applied first. Calls to
    one actor run in order, so the sample always uses the weights sent with it, and weights
    travel in the same round trip as the request.
    """
    if state is not None:
        runner.set_state(state)
    return runner.sample(), runner.get_metrics()


_OPTIMIZERS = ("rmsprop", "adam")

_INT, _REAL = (int, np.integer), (int, float, np.integer, np.floating)
#: Options whose type ``QMIXConfig.validate`` checks first: (name, accepted types, in words).
_TYPED_OPTIONS = (
    *(
        (name, _INT, "an integer")
        for name in (
            "episode_batch_size",
            "replay_capacity",
            "learning_starts",
            "target_update_interval",
            "hypernet_layers",
            "epsilon_anneal_steps",
            "prioritized_replay_beta_anneal_steps",
        )
    ),
    *(
        (name, (*_INT, type(None)), "an integer or None")
        for name in ("target_update_env_steps", "train_batch_env_steps")
    ),
    *(
        (name, _REAL, "a number")
        for name in (
            "gamma",
            "td_lambda",
            "updates_per_episode",
            "epsilon_start",
            "epsilon_finish",
            "prioritized_replay_alpha",
            "prioritized_replay_beta",
            "prioritized_replay_eps",
        )
    ),
    ("lr", (*_REAL, list), "a number (or an RLlib schedule list)"),
    ("target_update_tau", (*_REAL, type(None)), "a number or None"),
    ("grad_clip", (*_REAL, type(None)), "a number or None"),
    *(
        (name, (bool,), "True or False")
        for name in (
            "standardize_rewards",
            "normalize_obs",
            "normalize_state",
            "reuse_freed_memory",
            "prioritized_replay",
        )
    ),
)


class QMIXConfig(AlgorithmConfig):
    """Configuration of QMIX. Defaults were chosen from measurements on SMAC, LBF and MPE
    (docs/results.md, "Choosing the defaults"): pymarl's QMIX with Adam, TD(lambda) 0.6,
    standardised rewards, normalised observations and state, and one update per 4 episodes.
    ``preset("pymarl")`` gives the authors' pymarl configuration.

    Set QMIX options with ``training(...)``; every setter returns ``self``. ``preset(name)``
    applies a named set of settings (``PRESETS``).
    """

    #: Named sets of training settings (``presets.py``).
    PRESETS = PRESETS

    def __init__(self, algo_class: Optional[type] = None) -> None:
        super().__init__(algo_class=algo_class or QMIX)
        # pymarl's values (src/config/default.yaml, algs/qmix.yaml) except where marked "chosen":
        # those were measured across SMAC, LBF and MPE (docs/results.md#choosing-the-defaults).
        self.lr = 5e-4
        self.gamma = 0.99
        self.grad_clip = 10.0
        self.grad_clip_by = "global_norm"
        self.optimizer = "adam"  # chosen (pymarl: RMSprop)
        self.optim_alpha = 0.99
        self.optim_eps = 1e-5
        self.episode_batch_size = 32
        self.replay_capacity = 5000
        self.prioritized_replay = False
        self.prioritized_replay_alpha = 0.6  # pymarl2's per_alpha
        self.prioritized_replay_beta = 0.4  # pymarl2's per_beta
        self.prioritized_replay_beta_anneal_steps = 1_000_000
        self.prioritized_replay_eps = 1e-6
        self.learning_starts = 32
        self.updates_per_episode = 0.25  # chosen (pymarl: 1 per episode)
        self.target_update_interval = 200
        self.target_update_tau: Optional[float] = None
        self.target_update_env_steps: Optional[int] = None  # old RLlib QMIX's target_network_update_freq
        self.train_batch_env_steps: Optional[int] = None  # old RLlib QMIX's train_batch_size
        self.td_lambda = 0.6  # chosen (pymarl: one-step targets)
        self.td_lambda_trace = "naive"
        # The networks: one source of their defaults (the RLModule's).
        model = DEFAULT_MODEL_CONFIG
        self.double_q: bool = model["double_q"]
        self.mixer: Optional[str] = model["mixer"]
        self.mixing_embed_dim: int = model["mixing_embed_dim"]
        self.hypernet_layers: int = model["hypernet_layers"]
        self.hypernet_embed: int = model["hypernet_embed"]
        self.agent_hidden_dim: int = model["hidden_dim"]
        self.obs_agent_id: bool = model["obs_agent_id"]
        self.obs_last_action: bool = model["obs_last_action"]
        self.epsilon_start = 1.0
        self.epsilon_finish = 0.05
        self.epsilon_anneal_steps = 50_000
        self.state_from_obs = False
        self.standardize_rewards = True  # chosen (pymarl: rewards as they are)
        self.normalize_obs = True  # chosen (pymarl: inputs as they are)
        self.normalize_state = True
        self.max_nonfinite_updates = 3
        self.store_replay_buffer_in_checkpoints = False
        self.max_episode_len: Optional[int] = None
        self.async_sampling = True
        self.reuse_freed_memory = False
        # Sampling: our own env runner; pymarl runs one episode per env per iteration.
        self.env_runner_cls = QMIXEnvRunner
        self.rollout_fragment_length = 64
        self.num_envs_per_env_runner = 1
        self.evaluation_config = {"explore": False}
        self.confirm_targets: dict[str, float] = {}
        self.confirm_episodes = DEFAULT_CONFIRM_EPISODES
        self.merge_env_runner_states = False  # no connector states: skip RLlib's merge round trip
        self.metrics_num_episodes_for_smoothing = 32
        self.min_sample_timesteps_per_iteration = 0

    @override(AlgorithmConfig)
    def training(
        self,
        *,
        optimizer: Optional[str] = NotProvided,
        optim_alpha: Optional[float] = NotProvided,
        optim_eps: Optional[float] = NotProvided,
        episode_batch_size: Optional[int] = NotProvided,
        replay_capacity: Optional[int] = NotProvided,
        prioritized_replay: Optional[bool] = NotProvided,
        prioritized_replay_alpha: Optional[float] = NotProvided,
        prioritized_replay_beta: Optional[float] = NotProvided,
        prioritized_replay_beta_anneal_steps: Optional[int] = NotProvided,
        prioritized_replay_eps: Optional[float] = NotProvided,
        learning_starts: Optional[int] = NotProvided,
        updates_per_episode: Optional[float] = NotProvided,
        target_update_interval: Optional[int] = NotProvided,
        target_update_tau: Optional[float] = NotProvided,
        target_update_env_steps: Optional[int] = NotProvided,
        train_batch_env_steps: Optional[int] = NotProvided,
        td_lambda: Optional[float] = NotProvided,
        td_lambda_trace: Optional[str] = NotProvided,
        double_q: Optional[bool] = NotProvided,
        mixer: Optional[str] = NotProvided,
        mixing_embed_dim: Optional[int] = NotProvided,
        hypernet_layers: Optional[int] = NotProvided,
        hypernet_embed: Optional[int] = NotProvided,
        agent_hidden_dim: Optional[int] = NotProvided,
        obs_agent_id: Optional[bool] = NotProvided,
        obs_last_action: Optional[bool] = NotProvided,
        epsilon_start: Optional[float] = NotProvided,
        epsilon_finish: Optional[float] = NotProvided,
        epsilon_anneal_steps: Optional[int] = NotProvided,
        state_from_obs: Optional[bool] = NotProvided,
        standardize_rewards: Optional[bool] = NotProvided,
        normalize_obs: Optional[bool] = NotProvided,
        normalize_state: Optional[bool] = NotProvided,
        max_nonfinite_updates: Optional[int] = NotProvided,
        store_replay_buffer_in_checkpoints: Optional[bool] = NotProvided,
        max_episode_len: Optional[int] = NotProvided,
        async_sampling: Optional[bool] = NotProvided,
        reuse_freed_memory: Optional[bool] = NotProvided,
        **kwargs: Any,
    ) -> QMIXConfig:
        """Sets QMIX's training options (and RLlib's: ``lr``, ``gamma``, ``grad_clip`` ...).

        Args:
            optimizer: "adam" (default, pymarl2) or "rmsprop" (pymarl).
            optim_alpha: RMSprop smoothing constant.
            optim_eps: Optimizer epsilon.
            episode_batch_size: Episodes per learner update.
            replay_capacity: Episodes kept in the replay buffer.
            prioritized_replay: Sample episodes by priority (proportional prioritised replay,
                Schaul et al. 2016, over whole episodes) instead of uniformly. An episode's
                priority is ``(s + prioritized_replay_eps) ** prioritized_replay_alpha`` with
                ``s = sum_t |delta_t| / sqrt(T)`` over its ``T`` transitions in the update that
                last sampled it (pymarl2's statistic: hijkzzz/pymarl2,
                ``src/learners/nq_learner.py``); new episodes get the largest priority so far.
                Each sampled episode's squared TD errors are weighted by its importance weight
                ``(N * P(i)) ** -beta``, scaled so the largest possible weight is 1. Priorities
                are updated after every learner update and kept in checkpoints with the replay.
                Off by default (uniform replay).
            prioritized_replay_alpha: Priority exponent, >= 0 (0: uniform draws).
            prioritized_replay_beta: Importance-weight exponent at the start, in [0, 1]; it is
                annealed linearly to 1 over ``prioritized_replay_beta_anneal_steps`` env steps.
            prioritized_replay_beta_anneal_steps: Env steps over which beta reaches 1.
            prioritized_replay_eps: Added to each statistic so no priority is 0; > 0.
            learning_starts: Episodes stored before the first update.
            updates_per_episode: Learner updates per newly sampled episode.
            target_update_interval: Learner updates between hard target copies.
            target_update_tau: If set, soft target updates with this tau after every update.
            target_update_env_steps: If set, hard target copies once this many env steps were
                sampled since the last copy (old RLlib QMIX's ``target_network_update_freq``)
                instead of every ``target_update_interval`` updates.
            train_batch_env_steps: If set, each learner batch holds whole episodes drawn
                uniformly until it has at least this many env steps (old RLlib QMIX's
                ``train_batch_size``) instead of ``episode_batch_size`` episodes.
            td_lambda: TD(lambda) for targets; 0 gives one-step targets.
            td_lambda_trace: How far the lambda-return follows an episode (no effect with
                ``td_lambda=0``). "naive" (default): through every step, whatever was taken
                there, so with exploring actions the return partly values the exploring policy's
                continuation rather than the greedy one. "watkins" (Watkins's Q(lambda)): the
                trace is cut where the joint action taken at the next step is not the greedy one
                (each agent's argmax over its available actions, under the network that picks the
                bootstrap action: the online network with ``double_q``, else the target network),
                so an exploring step falls back to the one-step target ``r + gamma * V`` and greedy
                stretches keep the long return. Without a mixer each agent's own trace is cut.
                On the two-step game under full exploration "naive" TD(lambda) 0.6 learns 7,
                "watkins" the optimum 8 (docs/qmix.md, "TD(lambda) traces").
            double_q: Choose the next action with the online network (double Q-learning).
            mixer: "qmix", "vdn" or None (independent Q-learning).
            mixing_embed_dim: Width of the QMIX mixing layer.
            hypernet_layers: 1 or 2 layers in the hypernetworks.
            hypernet_embed: Hidden width of 2-layer hypernetworks.
            agent_hidden_dim: Width of the agent's FC layer and GRU.
            obs_agent_id: Append a one-hot agent id to the agent's input.
            obs_last_action: Append the one-hot previous action to the agent's input.
            epsilon_start: Exploration rate at the start.
            epsilon_finish: Exploration rate after annealing.
            epsilon_anneal_steps: Env steps over which epsilon anneals linearly.
            state_from_obs: Opt in to the concatenated observations as the global state for
                envs that have no state.
            standardize_rewards: Standardise sampled team rewards with the running mean and
                std of all stored rewards before building targets (EPyMARL's trick for tasks
                with long, time-limited episodes). On by default; the mean shift changes the
                optimal policy where episodes can end early (docs/qmix.md).
            normalize_obs: Normalise each agent observation feature with the running mean and
                std of every stored observation (pooled over agents), clipped to [-10, 10]; the
                agent network sees normalised observations when acting and when learning.
                On by default (chosen from measurements: docs/results.md).
            normalize_state: Normalise each global-state feature the same way before the mixer
                (for envs whose state is far outside [-1, 1]). On by default, as above.
            max_nonfinite_updates: Learner updates in a row with non-finite values (each is
                skipped) before training stops with a ``NonFiniteUpdateError``; >= 1.
            store_replay_buffer_in_checkpoints: Save the replay buffer in checkpoints.
            max_episode_len: Initial time length of the replay arrays (default: the env's
                episode limit); grows if a longer episode arrives.
            async_sampling: With remote env runners, sample the next episodes while the
                learner updates (weights one iteration old); False waits for samples first.
            reuse_freed_memory: In the learner's process, keep the memory an update frees for
                the next one (glibc's malloc thresholds, ``rllib_qmix.learning.memory``) instead
                of returning it to the OS and faulting it back in every update. Measured 1.16x
                faster on full-length MMM2 updates, no faster on 8m or in the training loop
                (docs/benchmarks.md), so off by default. A process-wide setting: the process
                keeps its peak heap size. No effect where malloc is not glibc's.

        Returns:
            This config object.
        """
        # Old RLlib QMIX keys (``old_rllib_keys``): each becomes our setting, with a warning.
        old = {k: kwargs.pop(k) for k in OLD_TRAINING_KEYS if k in kwargs}
        given = {k: v for k, v in locals().items() if k not in ("self", "kwargs", "old") and v is not NotProvided}
        if old or (optim_alpha is not NotProvided and optimizer is NotProvided):
            given.update(old)
            new = translate_old_keys(given, self.optimizer)
            optimizer = new.pop("optimizer", optimizer)
            if new:
                self.training(**new)
        super().training(**kwargs)
        if optimizer is not NotProvided:
            self.optimizer = optimizer
        if optim_alpha is not NotProvided:
            self.optim_alpha = optim_alpha
        if optim_eps is not NotProvided:
            self.optim_eps = optim_eps
        if episode_batch_size is not NotProvided:
            self.episode_batch_size = episode_batch_size
        if replay_capacity is not NotProvided:
            self.replay_capacity = replay_capacity
        if prioritized_replay is not NotProvided:
            self.prioritized_replay = prioritized_replay
        if prioritized_replay_alpha is not NotProvided:
            self.prioritized_replay_alpha = prioritized_replay_alpha
        if prioritized_replay_beta is not NotProvided:
            self.prioritized_replay_beta = prioritized_replay_beta
        if prioritized_replay_beta_anneal_steps is not NotProvided:
            self.prioritized_replay_beta_anneal_steps = prioritized_replay_beta_anneal_steps
        if prioritized_replay_eps is not NotProvided:
            self.prioritized_replay_eps = prioritized_replay_eps
        if learning_starts is not NotProvided:
            self.learning_starts = learning_starts
        if updates_per_episode is not NotProvided:
            self.updates_per_episode = updates_per_episode
        if target_update_interval is not NotProvided:
            self.target_update_interval = target_update_interval
        if target_update_tau is not NotProvided:
            self.target_update_tau = target_update_tau
        if target_update_env_steps is not NotProvided:
            self.target_update_env_steps = target_update_env_steps
        if train_batch_env_steps is not NotProvided:
            self.train_batch_env_steps = train_batch_env_steps
        if td_lambda is not NotProvided:
            self.td_lambda = td_lambda
        if td_lambda_trace is not NotProvided:
            self.td_lambda_trace = td_lambda_trace
        if double_q is not NotProvided:
            self.double_q = double_q
        if mixer is not NotProvided:
            self.mixer = mixer
        if mixing_embed_dim is not NotProvided:
            self.mixing_embed_dim = mixing_embed_dim
        if hypernet_layers is not NotProvided:
            self.hypernet_layers = hypernet_layers
        if hypernet_embed is not NotProvided:
            self.hypernet_embed = hypernet_embed
        if agent_hidden_dim is not NotProvided:
            self.agent_hidden_dim = agent_hidden_dim
        if obs_agent_id is not NotProvided:
            self.obs_agent_id = obs_agent_id
        if obs_last_action is not NotProvided:
            self.obs_last_action = obs_last_action
        if epsilon_start is not NotProvided:
            self.epsilon_start = epsilon_start
        if epsilon_finish is not NotProvided:
            self.epsilon_finish = epsilon_finish
        if epsilon_anneal_steps is not NotProvided:
            self.epsilon_anneal_steps = epsilon_anneal_steps
        if state_from_obs is not NotProvided:
            self.state_from_obs = state_from_obs
        if standardize_rewards is not NotProvided:
            self.standardize_rewards = standardize_rewards
        if normalize_obs is not NotProvided:
            self.normalize_obs = normalize_obs
        if normalize_state is not NotProvided:
            self.normalize_state = normalize_state
        if max_nonfinite_updates is not NotProvided:
            self.max_nonfinite_updates = max_nonfinite_updates
        if store_replay_buffer_in_checkpoints is not NotProvided:
            self.store_replay_buffer_in_checkpoints = store_replay_buffer_in_checkpoints
        if max_episode_len is not NotProvided:
            self.max_episode_len = max_episode_len
        if async_sampling is not NotProvided:
            self.async_sampling = async_sampling
        if reuse_freed_memory is not NotProvided:
            self.reuse_freed_memory = reuse_freed_memory
        return self

    @override(AlgorithmConfig)
    def update_from_dict(self, config_dict: dict) -> QMIXConfig:
        """RLlib's ``update_from_dict``, taking old RLlib QMIX's keys too (``rllib_qmix.algorithm.old_rllib_keys``: each
        becomes this package's setting, with one warning, or is refused with an error that
        names the setting to use)."""
        settings = dict(config_dict)
        new = translate_old_keys(settings, self.optimizer)
        return super().update_from_dict({**settings, **new})

    @override(AlgorithmConfig)
    def to_dict(self) -> dict:
        """RLlib's ``to_dict`` without the old-stack keys QMIX never reads (``train_batch_size``,
        ``model``, ``exploration_config``, ``simple_optimizer``), so that the dict goes back
        through ``update_from_dict`` (Tune does that) without being taken for old RLlib QMIX's."""
        out = super().to_dict()
        for key in ("train_batch_size", "model", "exploration_config", "simple_optimizer"):
            out.pop(key, None)
        return out

    @override(AlgorithmConfig)
    def evaluation(
        self,
        *,
        confirm_targets: Optional[dict[str, float]] = NotProvided,
        confirm_episodes: Optional[int] = NotProvided,
        **kwargs: Any,
    ) -> QMIXConfig:
        """RLlib's evaluation settings, and QMIX's confirmation of evaluation targets.

        Args:
            confirm_targets: ``{metric: threshold}`` with metrics inside the evaluation results
                (``"env_runners/battle_won_mean"``; ``confirm.CONFIRMABLE`` lists them). An
                evaluation that meets one is followed at once by a confirmation of
                ``confirm_episodes`` episodes with the same weights, reported under
                ``evaluation/confirmed/...``; stop on ``evaluation/confirmed/<metric>`` to stop
                only at a target that held twice. ``rllib train file`` sets this from a YAML
                stop on an evaluation metric (docs/qmix.md, "Confirmed target stops").
            confirm_episodes: Episodes of a confirmation (default 128).
            **kwargs: RLlib's ``AlgorithmConfig.evaluation`` settings.

        Returns:
            This config object.
        """
        super().evaluation(**kwargs)
        if confirm_targets is not NotProvided:
            self.confirm_targets = confirm_targets if confirm_targets is not None else {}
        if confirm_episodes is not NotProvided:
            self.confirm_episodes = confirm_episodes
        return self

    def exploration(self, *, explore: Optional[bool] = NotProvided, exploration_config: Optional[dict] = NotProvided):
        """Old RLlib's exploration setter: ``exploration_config`` (EpsilonGreedy) becomes
        ``epsilon_start``/``epsilon_finish``/``epsilon_anneal_steps`` with a warning,
        ``explore`` goes to ``env_runners(explore=...)``."""
        if exploration_config is not NotProvided:
            self.training(**translate_old_keys({"exploration_config": exploration_config}, self.optimizer))
        if explore is not NotProvided:
            self.env_runners(explore=explore)
        return self

    def rollouts(self, **kwargs: Any) -> QMIXConfig:
        """Old RLlib's rollouts setter: its arguments go to ``env_runners(...)`` under their new
        names (``num_rollout_workers`` -> ``num_env_runners``, ``num_envs_per_worker`` ->
        ``num_envs_per_env_runner``), with a warning."""
        unknown = sorted(set(kwargs) - set(ROLLOUTS_KEYS))
        if unknown:
            raise ValueError(f"rollouts() got {unknown}; use env_runners(...) (rollouts takes {sorted(ROLLOUTS_KEYS)})")
        new = {ROLLOUTS_KEYS[k]: v for k, v in kwargs.items()}
        old_args, new_args = ", ".join(f"{k}=..." for k in kwargs), ", ".join(f"{k}=..." for k in new)
        warn_old_key(f"`rollouts({old_args})` becomes `env_runners({new_args})`.")
        return self.env_runners(**new)

    def preset(self, name: str) -> QMIXConfig:
        """Applies a named set of training settings (``presets.PRESETS``): ``"pymarl"`` is
        pymarl's QMIX configuration, for parity with published curves. Later ``training(...)``
        calls override it."""
        if name not in PRESETS:
            raise ValueError(f"unknown QMIX preset {name!r}; presets: {sorted(PRESETS)}")
        return self.training(**PRESETS[name])

    @override(AlgorithmConfig)
    def validate(self) -> None:
        super().validate()
        if not self.enable_rl_module_and_learner or not self.enable_env_runner_and_connector_v2:
            self._value_error("QMIX runs on RLlib's new API stack only: don't call `api_stack(...)` to disable it.")
        for name, kinds, what in _TYPED_OPTIONS:  # before the range checks compare them with numbers
            value = getattr(self, name)
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                self._value_error(f"`{name}` must be {what}, got {value!r}.")
        by_steps = self.train_batch_env_steps is not None  # batches counted in env steps, not episodes
        checks = [
            (self.mixer in _MIXERS, f"`mixer` must be 'qmix', 'vdn' or None, got {self.mixer!r}."),
            (self.optimizer in _OPTIMIZERS, f"`optimizer` must be 'rmsprop' or 'adam', got {self.optimizer!r}."),
            (not isinstance(self.lr, (int, float)) or self.lr > 0, f"`lr` must be > 0, got {self.lr}."),
            (0.0 <= self.gamma <= 1.0, f"`gamma` must be in [0, 1], got {self.gamma}."),
            (0.0 <= self.td_lambda <= 1.0, f"`td_lambda` must be in [0, 1], got {self.td_lambda}."),
            (
                self.prioritized_replay_alpha >= 0,
                f"`prioritized_replay_alpha` must be >= 0, got {self.prioritized_replay_alpha}.",
            ),
            (
                0.0 <= self.prioritized_replay_beta <= 1.0,
                f"`prioritized_replay_beta` must be in [0, 1], got {self.prioritized_replay_beta}.",
            ),
            (
                self.prioritized_replay_eps > 0,
                f"`prioritized_replay_eps` must be > 0, got {self.prioritized_replay_eps}.",
            ),
            (
                self.prioritized_replay_beta_anneal_steps >= 0,
                "`prioritized_replay_beta_anneal_steps` must be >= 0, got "
                f"{self.prioritized_replay_beta_anneal_steps}.",
            ),
            (
                not (self.prioritized_replay and by_steps),
                "`prioritized_replay` draws `episode_batch_size` episodes per batch: set `train_batch_env_steps` "
                "to None to use it.",
            ),
            (
                self.td_lambda_trace in TRACES,
                f"`td_lambda_trace` must be one of {', '.join(map(repr, TRACES))}, got {self.td_lambda_trace!r}.",
            ),
            (self.episode_batch_size >= 1, f"`episode_batch_size` must be >= 1, got {self.episode_batch_size}."),
            (
                by_steps or self.replay_capacity >= self.episode_batch_size,
                f"`episode_batch_size` ({self.episode_batch_size}) can't exceed `replay_capacity` "
                f"({self.replay_capacity}): lower the batch or raise the capacity.",
            ),
            (
                self.episode_batch_size >= max(1, self.num_learners),
                f"`episode_batch_size` ({self.episode_batch_size}) must be >= `num_learners` "
                f"({self.num_learners}): each data-parallel learner needs at least one episode.",
            ),
            (
                by_steps or self.learning_starts >= self.episode_batch_size,
                f"`learning_starts` ({self.learning_starts}) must be >= `episode_batch_size` "
                f"({self.episode_batch_size}) episodes.",
            ),
            (self.updates_per_episode > 0, f"`updates_per_episode` must be > 0, got {self.updates_per_episode}."),
            (
                self.target_update_interval >= 1,
                f"`target_update_interval` must be >= 1, got {self.target_update_interval}.",
            ),
            (
                self.target_update_tau is None or 0.0 < self.target_update_tau <= 1.0,
                f"`target_update_tau` must be None or in (0, 1], got {self.target_update_tau}.",
            ),
            (
                self.target_update_env_steps is None or self.target_update_env_steps >= 1,
                f"`target_update_env_steps` must be None or >= 1, got {self.target_update_env_steps}.",
            ),
            (
                self.target_update_env_steps is None or self.target_update_tau is None,
                "`target_update_env_steps` (hard copies every N env steps) and `target_update_tau` (soft updates) "
                "exclude each other: set one of them to None.",
            ),
            (
                self.train_batch_env_steps is None or self.train_batch_env_steps >= 1,
                f"`train_batch_env_steps` must be None or >= 1, got {self.train_batch_env_steps}.",
            ),
            (self.hypernet_layers in (1, 2), f"`hypernet_layers` must be 1 or 2, got {self.hypernet_layers}."),
            (
                0.0 <= self.epsilon_finish <= 1.0 and 0.0 <= self.epsilon_start <= 1.0,
                "`epsilon_start` and `epsilon_finish` must be in [0, 1].",
            ),
            (self.epsilon_anneal_steps >= 0, f"`epsilon_anneal_steps` must be >= 0, got {self.epsilon_anneal_steps}."),
            (
                isinstance(self.max_nonfinite_updates, int)
                and not isinstance(self.max_nonfinite_updates, bool)
                and self.max_nonfinite_updates >= 1,
                f"`max_nonfinite_updates` must be an integer >= 1, got {self.max_nonfinite_updates!r}.",
            ),
        ]
        for ok, message in checks:
            if not ok:
                self._value_error(message)
        problem = check_confirm_settings(self.confirm_targets, self.confirm_episodes)
        if problem is not None:
            self._value_error(problem)

    @override(AlgorithmConfig)
    def get_default_rl_module_spec(self) -> RLModuleSpec:
        return RLModuleSpec(module_class=QMIXTorchRLModule, model_config=self.model_config)

    @override(AlgorithmConfig)
    def get_default_learner_class(self) -> type:
        return QMIXTorchLearner

    @property
    @override(AlgorithmConfig)
    def _model_config_auto_includes(self) -> dict[str, Any]:
        return {
            "hidden_dim": self.agent_hidden_dim,
            "obs_agent_id": self.obs_agent_id,
            "obs_last_action": self.obs_last_action,
            "mixer": self.mixer,
            "mixing_embed_dim": self.mixing_embed_dim,
            "hypernet_layers": self.hypernet_layers,
            "hypernet_embed": self.hypernet_embed,
            "double_q": self.double_q,
        }


def _normalizer(stats: Optional[RunningMeanStd]) -> Optional[Normalizer]:
    """The frozen normaliser of running input statistics (None: off, or nothing stored yet)."""
    if stats is None or stats.count == 0:
        return None
    return Normalizer.from_moments(stats.mean, stats.std)


def _nonfinite_update_error(error: BaseException) -> Optional[NonFiniteUpdateError]:
    """The learner's ``NonFiniteUpdateError`` behind ``error`` (a remote learner's arrives wrapped
    in a ``RayTaskError`` whose ``cause`` it is), or None."""
    cause = getattr(error, "cause", error)
    return cause if isinstance(cause, NonFiniteUpdateError) else None


def _first_nonfinite(tree: Any, path: str = "") -> Optional[str]:
    """The path of the first float array (or tensor) with a non-finite value in a nested dict."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            found = _first_nonfinite(value, f"{path}/{key}" if path else str(key))
            if found is not None:
                return found
        return None
    if hasattr(tree, "detach"):  # a torch tensor
        tree = tree.detach().cpu().numpy()
    if isinstance(tree, np.ndarray) and np.issubdtype(tree.dtype, np.floating) and not np.isfinite(tree).all():
        return path
    return None


def _env_creation_error(config: AlgorithmConfig, creator: Any) -> Optional[Exception]:
    """The error that creating one team env in this process raises, or None if it works."""
    try:
        make_team_env(config, creator=creator).close()
    except Exception as e:  # noqa: BLE001 - any failure is the answer
        return e
    return None


def _without_nan(tree: dict) -> dict:
    """``tree`` without its NaN number leaves (and the dicts left empty by that)."""
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            value = _without_nan(value)
            if not value:
                continue
        elif isinstance(value, (float, np.floating)) and math.isnan(value):
            continue
        out[key] = value
    return out


class QMIX(Algorithm):
    """QMIX (Rashid et al. 2018) on RLlib's new API stack."""

    @classmethod
    @override(Algorithm)
    def get_default_config(cls) -> QMIXConfig:
        return QMIXConfig()

    @override(Algorithm)
    def setup(self, config: AlgorithmConfig) -> None:
        # RLlib would wait for env runners and learners the cluster can't place without a word.
        check_placement(config, "QMIX", type(self))
        try:
            super().setup(config)
        except Exception as error:
            # RLlib only logs env runners that fail in their constructor (restart_failed_env_runners
            # is on by default) and then fails reading their spaces (an IndexError): raise the
            # env's own error (unknown map, no global state, ...) instead.
            env_error = _env_creation_error(config, self.env_creator)
            if env_error is not None:
                raise env_error from error
            raise
        spec = self._team_spec()
        max_len = int(self.config.max_episode_len or spec.episode_limit or REPLAY_DEFAULT_LEN)
        # One line with the replay's memory at capacity; an error now if it can't fit.
        print(replay_memory_line(spec, self.config.replay_capacity, max_len), flush=True)
        self.replay_buffer = EpisodeReplayBuffer(
            spec,
            self.config.replay_capacity,
            self.config.max_episode_len,
            seed=self.config.seed,
            prioritized=self.config.prioritized_replay,
            alpha=self.config.prioritized_replay_alpha,
            eps=self.config.prioritized_replay_eps,
        )
        self._update_credit = 0.0
        self._num_updates = 0
        self._num_restarts = 0
        self.reward_stats: Optional[RunningMeanStd] = RunningMeanStd() if self.config.standardize_rewards else None
        #: Running statistics of the stored observations ([obs_dim], pooled over agents) and states.
        self.obs_stats: Optional[RunningMeanStd] = (
            RunningMeanStd(shape=(spec.obs_dim,)) if self.config.normalize_obs else None
        )
        self.state_stats: Optional[RunningMeanStd] = (
            RunningMeanStd(shape=(spec.state_dim,)) if self.config.normalize_state else None
        )
        self._episodes_checked = 0  # stored episodes checked for large inputs
        self._sampled_slots: Optional[np.ndarray] = None  # replay slots of the batch in flight (prioritised)

    @override(Algorithm)
    def step(self) -> dict:
        """One iteration's results. In an iteration that ran no learner update (frequent when
        ``updates_per_episode`` < 1), RLlib reports the learner's per-update metrics as NaN;
        they are left out instead, as before the first update, so NaN never means "no update"."""
        updates_before = self._num_updates
        results = super().step()
        if self._num_updates == updates_before and isinstance(results.get(LEARNER_RESULTS), dict):
            learners = _without_nan(results[LEARNER_RESULTS])
            if learners:
                results[LEARNER_RESULTS] = learners
            else:
                del results[LEARNER_RESULTS]
        return results

    def _team_spec(self) -> TeamSpec:
        """The team's sizes and episode limit, as the env runner reported them with the spaces."""
        return self.spaces[K.TEAM_SPEC]

    @override(Algorithm)
    def training_step(self) -> None:
        """One training step (``_training_step``); a learner actor that died stops it with a
        ``LearnerDiedError`` that says how to resume."""
        try:
            self._training_step()
        except RayError as e:
            dead = self._dead_learner_ranks()
            if not dead:
                raise
            n = self.config.num_learners
            which = ", ".join(str(r) for r in dead)
            raise LearnerDiedError(
                f"QMIX training iteration {self.iteration + 1}: learner {which} of {n} died. RLlib "
                f"{ray.__version__} does not restart learner actors (their torch DDP group is fixed when it "
                "starts), so the run stops here. Resume it from its last checkpoint, which restores weights, "
                "optimizer, counters and (with store_replay_buffer_in_checkpoints) the replay exactly: "
                "`rllib train file EXP.yaml --resume`, `Algorithm.from_checkpoint(path)`, or set Tune's "
                "max_failures (YAML `max_failures: N`) to restart the trial from it automatically."
            ) from e

    def _dead_learner_ranks(self) -> list[int]:
        """The ranks of remote learners that no longer answer (empty with a local learner)."""
        manager = getattr(self.learner_group, "_worker_manager", None)  # None when the learner is local
        if manager is None:
            return []
        ids = manager.actor_ids()
        results = manager.foreach_actor(lambda w: True, healthy_only=False, timeout_seconds=30, mark_healthy=True)
        answered = {r.actor_id for r in results.ignore_errors()}
        return [rank for rank, actor_id in enumerate(ids) if actor_id not in answered]

    def _training_step(self) -> None:
        """Samples episodes, stores them, runs the learner updates they earn, syncs weights.

        With remote env runners and ``async_sampling`` (default), the runners sample the next
        episodes while the learner updates on the replay, so sampling and learning overlap.
        """
        group = self.env_runner_group
        if not (self.config.async_sampling and group.num_healthy_remote_workers() > 0):
            with self._timed(ENV_RUNNER_SAMPLING_TIMER, PHASE_SAMPLING):
                episodes, runner_results = synchronous_parallel_sample(
                    worker_set=group,
                    concat=True,
                    sample_timeout_s=self.config.sample_timeout_s,
                    _uses_new_env_runners=True,
                    _return_metrics=True,
                )
            self._store(episodes, runner_results)
            if self._run_updates():
                self._sync_env_runners()
            elif self.obs_stats is not None:  # no new weights, but new observation statistics
                self._sync_env_runners(weights=False)
            return
        if group.num_in_flight_async_reqs(SAMPLE_TAG) == 0:
            group.foreach_env_runner_async(_sample_and_metrics, tag=SAMPLE_TAG)
        num_updates = self._run_updates()  # while the runners sample
        with self._timed(ENV_RUNNER_SAMPLING_TIMER, PHASE_SAMPLING):
            results = []
            deadline = time.monotonic() + (self.config.sample_timeout_s or 60.0)
            while group.num_in_flight_async_reqs(SAMPLE_TAG) > 0 and time.monotonic() < deadline:
                results += group.fetch_ready_async_reqs(tags=SAMPLE_TAG, timeout_seconds=0.5)
        self._store([ep for _, (eps, _) in results for ep in eps], [m for _, (_, m) in results])
        state = None
        if num_updates or self.obs_stats is not None:
            with self._timed(SYNCH_WORKER_WEIGHTS_TIMER, PHASE_SYNC):
                state = self.runner_state(remote=True, weights=bool(num_updates))
        group.foreach_env_runner_async(_sample_and_metrics, tag=SAMPLE_TAG, kwargs={"state": state})

    @contextmanager
    def _timed(self, timer: str, phase: str) -> Iterator[None]:
        """RLlib's smoothed per-call ``timer`` plus the exact running total of ``phase``."""
        start = time.perf_counter()
        with self.metrics.log_time((TIMERS, timer)):
            yield
        self.metrics.log_value((TIMERS, f"{phase}_time_total_s"), time.perf_counter() - start, reduce="lifetime_sum")

    def _store(self, episodes: list, runner_results: list) -> None:
        """Adds sampled episodes to the replay, updates the running statistics with every step
        stored (raw values: the replay keeps raw data) and earns the episodes' learner updates."""
        cfg = self.config
        self.metrics.aggregate(runner_results, key=ENV_RUNNER_RESULTS)
        with self._timed(REPLAY_BUFFER_ADD_DATA_TIMER, PHASE_REPLAY):
            self.replay_buffer.add(episodes)
            for episode in episodes:
                if len(episode) == 0:  # not stored
                    continue
                if self.reward_stats is not None:
                    self.reward_stats.update(episode.rewards)
                if self.obs_stats is not None:
                    self.obs_stats.update(episode.obs)
                if self.state_stats is not None:
                    self.state_stats.update(episode.state)
        if self._episodes_checked < LARGE_INPUT_CHECK_EPISODES:
            options = (("state", "normalize_state"), ("obs", "normalize_obs"))
            _warn_large_inputs(episodes, {attr: opt for attr, opt in options if not getattr(cfg, opt)})
            self._episodes_checked += len(episodes)
        self.metrics.log_value(NUM_EPISODES_IN_REPLAY, len(self.replay_buffer), window=1)
        if self.reward_stats is not None:
            self.metrics.log_value(REWARD_MEAN, self.reward_stats.mean, window=1)
            self.metrics.log_value(REWARD_STD, self.reward_stats.std, window=1)
        if self._replay_ready():
            self._update_credit += len(episodes) * cfg.updates_per_episode

    def _replay_ready(self) -> bool:
        """Whether the replay holds enough to learn from (``learning_starts`` episodes and one
        batch: ``episode_batch_size`` episodes, or ``train_batch_env_steps`` transitions)."""
        cfg, replay = self.config, self.replay_buffer
        if cfg.train_batch_env_steps is not None:
            return len(replay) >= max(cfg.learning_starts, cfg.num_learners, 1) and (
                replay.num_steps() >= cfg.train_batch_env_steps
            )
        return len(replay) >= max(cfg.learning_starts, cfg.episode_batch_size)

    def _run_updates(self) -> int:
        """Runs the learner updates earned so far; returns how many."""
        num_updates = int(math.floor(self._update_credit))
        self._update_credit -= num_updates
        env_steps = self.metrics.peek((ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME), default=0)
        for _ in range(num_updates):
            with self._timed(REPLAY_BUFFER_SAMPLE_TIMER, PHASE_REPLAY):
                batch = self._learner_batch()
            with self._timed(LEARNER_UPDATE_TIMER, PHASE_LEARNER):
                try:
                    results = self.learner_group.update(
                        batches=batch if isinstance(batch, list) else None,
                        batch=None if isinstance(batch, list) else batch,
                        timesteps={NUM_ENV_STEPS_SAMPLED_LIFETIME: env_steps},
                    )
                except Exception as error:
                    nonfinite = _nonfinite_update_error(error)
                    if nonfinite is None:
                        raise
                    # One error, raised here in the driver however the learner ran (a remote
                    # learner's arrives wrapped in Ray's error with its traceback).
                    raise NonFiniteUpdateError(
                        f"QMIX training iteration {self.iteration + 1}, {nonfinite.args[0]}"
                    ) from None
            self.metrics.aggregate(results, key=LEARNER_RESULTS)
            if self._sampled_slots is not None:
                statistics = self._learner_td_statistics()
                if statistics is not None:
                    self.replay_buffer.update_priorities(self._sampled_slots, statistics)
                self._sampled_slots = None
            self._num_updates += 1
        self.metrics.log_value(NUM_LEARNER_UPDATES, self._num_updates, window=1)
        return num_updates

    def _learner_batch(self):
        """A replay sample as one MultiAgentBatch, or one shard per learner (rewards standardised,
        observations and states normalised, if so configured)."""
        cfg = self.config
        if cfg.train_batch_env_steps is not None:
            data = self.replay_buffer.sample_env_steps(cfg.train_batch_env_steps, min_episodes=max(1, cfg.num_learners))
        elif cfg.prioritized_replay:
            data, self._sampled_slots = self.replay_buffer.sample_prioritized(
                cfg.episode_batch_size, self.prioritized_replay_beta()
            )
        else:
            data = self.replay_buffer.sample(cfg.episode_batch_size)
        if self.reward_stats is not None:
            data = {**data, K.REWARDS: self.reward_stats.standardize(data[K.REWARDS], data[K.MASK])}
        data = self._normalize_inputs(data)
        num_learners = max(1, cfg.num_learners)

        def as_batch(d: dict) -> MultiAgentBatch:
            return MultiAgentBatch({DEFAULT_MODULE_ID: SampleBatch(d)}, env_steps=int(d[K.MASK].sum()))

        if num_learners == 1:
            return as_batch(data)
        return [as_batch(shard) for shard in shard_episode_batch(data, num_learners)]

    def prioritized_replay_beta(self) -> float:
        """Prioritised replay's importance-weight exponent now: ``prioritized_replay_beta``
        annealed linearly to 1 over ``prioritized_replay_beta_anneal_steps`` env steps."""
        cfg = self.config
        steps = float(self.metrics.peek((ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME), default=0))
        frac = (
            1.0 if cfg.prioritized_replay_beta_anneal_steps == 0 else steps / cfg.prioritized_replay_beta_anneal_steps
        )
        return min(1.0, cfg.prioritized_replay_beta + (1.0 - cfg.prioritized_replay_beta) * frac)

    def _learner_td_statistics(self) -> Optional[np.ndarray]:
        """The priority statistics of the last update's episodes, in batch order (data-parallel
        learners' shards are contiguous runs of the batch, in rank order); None if a learner
        has none."""
        group = self.learner_group
        if group.is_local:
            return group._learner.td_statistics()
        parts = [r.get() for r in group.foreach_learner(lambda learner: learner.td_statistics())]
        return None if any(part is None for part in parts) else np.concatenate(parts)

    def _normalize_inputs(self, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """``data`` with normalised copies of its observations and states (``normalize_obs`` /
        ``normalize_state``), with the statistics as of now; padding steps stay 0."""
        out, lengths = data, None
        for key, stats in ((K.OBS, self.obs_stats), (K.STATE, self.state_stats)):
            normalizer = _normalizer(stats)
            if normalizer is None:
                continue
            if lengths is None:
                out, lengths = dict(data), data[K.MASK].sum(axis=1).astype(np.int64)
            x = normalizer(data[key])
            for row, length in enumerate(lengths):
                x[row, length + 1 :] = 0.0  # the steps after each episode's final observation
            out[key] = x
        return out

    def _sync_env_runners(self, weights: bool = True) -> None:
        """Sends the learner's agent weights, the global env-step count and the observation
        statistics to the runners (``weights=False``: the statistics only)."""
        with self._timed(SYNCH_WORKER_WEIGHTS_TIMER, PHASE_SYNC):
            self._send_state_to_runners(weights=weights)

    def runner_state(self, remote: bool = False, weights: bool = True) -> dict:
        """The learner's agent weights, the global env-step count and (``normalize_obs``) the
        observation statistics, as env runners take them (``remote``: the weights as one
        object-store copy that each runner fetches; ``weights=False``: the statistics only)."""
        state: dict = {}
        if weights:
            env_steps = self.metrics.peek((ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME), default=0)
            module_state = self.learner_group.get_state(
                components=COMPONENT_LEARNER + "/" + COMPONENT_RL_MODULE, inference_only=True
            )[COMPONENT_LEARNER]
            state = {**module_state, NUM_ENV_STEPS_SAMPLED_LIFETIME: env_steps}
            if remote:
                state[COMPONENT_RL_MODULE] = ray.put(state[COMPONENT_RL_MODULE])
        if self.obs_stats is not None:
            normalizer = _normalizer(self.obs_stats)
            state[OBS_NORM_STATE] = normalizer.get_state() if normalizer is not None else None
        return state

    def _send_state_to_runners(
        self,
        group: Optional[EnvRunnerGroup] = None,
        remote_worker_ids: Optional[list[int]] = None,
        weights: bool = True,
    ) -> None:
        """Sets the learner's agent weights, the global env-step count and (``normalize_obs``) the
        observation statistics on the runners now (``weights=False``: the statistics only).

        A blocking call (for synchronous sampling, restored runners and restores). RLlib's
        ``sync_env_runner_states`` sends weights fire-and-forget and drops the new send when
        the previous one is not yet seen as finished, so a runner could act on stale weights.
        """
        group = group if group is not None else self.env_runner_group
        if remote_worker_ids is None and group.num_healthy_remote_workers() == 0:
            if group.local_env_runner is not None:
                group.local_env_runner.set_state(self.runner_state(remote=False, weights=weights))
            return
        group.foreach_env_runner(
            "set_state",
            kwargs={"state": self.runner_state(remote=True, weights=weights)},
            remote_worker_ids=remote_worker_ids,
            local_env_runner=False,
        )

    @override(Algorithm)
    def _before_evaluate(self) -> None:
        """Gives evaluation env runners the observation statistics (RLlib sends them only the
        weights). Evaluation episodes are never stored, so they never change the statistics."""
        super()._before_evaluate()
        group = self.eval_env_runner_group
        if self.obs_stats is None or group is None:
            return
        state = self.runner_state(remote=False, weights=False)
        if group.local_env_runner is not None:
            group.local_env_runner.set_state(state)
        if group.num_remote_env_runners() > 0:
            group.foreach_env_runner("set_state", kwargs={"state": state}, local_env_runner=False)

    @override(Algorithm)
    def restore_env_runners(self, env_runner_group: EnvRunnerGroup) -> list[int]:
        """Brings restarted env runners back with the learner's weights and the step count."""
        restored = env_runner_group.probe_unhealthy_env_runners()
        if restored:
            self._num_restarts += len(restored)
            self._send_state_to_runners(env_runner_group, remote_worker_ids=restored)
        self.metrics.log_value(NUM_ENV_RUNNER_RESTARTS, self._num_restarts, window=1)
        return restored

    @override(Algorithm)
    def evaluate(self, parallel_train_future: Any = None) -> dict:
        """RLlib's evaluation; where it meets one of ``confirm_targets``, a confirmation of
        ``confirm_episodes`` more episodes with the same weights follows, under ``confirmed``
        (``rllib_qmix.algorithm.confirm``)."""
        results = super().evaluate(parallel_train_future=parallel_train_future)
        if self.config.confirm_targets and targets_met(results, self.config.confirm_targets):
            results[CONFIRMED] = episode_metrics(self._confirmation_episodes(self.config.confirm_episodes))
        return results

    def _confirmation_episodes(self, n: int) -> list:
        """``n`` evaluation episodes (at least; split over remote evaluation env runners) with
        the weights of the evaluation just run, on the env runners it ran on."""
        explore = bool(self.evaluation_config.explore)
        group = self.eval_env_runner_group
        if group is None or group.num_remote_env_runners() == 0:
            runner = self.env_runner if group is None else self.eval_env_runner
            return sample_quietly(runner, n, explore)
        per_runner = -(-n // max(1, group.num_healthy_remote_workers()))
        parts = group.foreach_env_runner(
            lambda runner: sample_quietly(runner, per_runner, explore), local_env_runner=False
        )
        return [episode for part in parts for episode in part]

    @override(Algorithm)
    def _evaluate_on_local_env_runner(self, env_runner: Any) -> tuple:
        """Evaluation on a local env runner, greedy unless ``evaluation_config.explore``.

        Without evaluation env runners RLlib evaluates on the training env runner, whose
        config explores; the evaluation's ``explore`` is passed to its ``sample`` call.
        """
        if self.config.evaluation_parallel_to_training:
            return super()._evaluate_on_local_env_runner(env_runner)
        unit, duration = self.config.evaluation_duration_unit, self.config.evaluation_duration
        episodes = env_runner.sample(
            num_timesteps=duration if unit == "timesteps" else None,
            num_episodes=duration if unit == "episodes" else None,
            explore=bool(self.evaluation_config.explore),
        )
        self.metrics.aggregate([env_runner.get_metrics()], key=(EVALUATION_RESULTS, ENV_RUNNER_RESULTS))
        env_steps = sum(e.env_steps() for e in episodes)
        agent_steps = sum(e.agent_steps() for e in episodes)
        return None, env_steps, agent_steps, []

    # ------------------------------------------------------------- checkpoints
    @override(Algorithm)
    def get_state(self, *args, **kwargs) -> dict:
        state = super().get_state(*args, **kwargs)
        state[QMIX_COUNTERS] = {
            "update_credit": self._update_credit,
            "num_updates": self._num_updates,
            "num_restarts": self._num_restarts,
        }
        if self.reward_stats is not None:
            state[REWARD_STATS_STATE] = self.reward_stats.get_state()
        if self.obs_stats is not None or self.state_stats is not None:
            state[INPUT_STATS_STATE] = {
                "obs": self.obs_stats.get_state() if self.obs_stats is not None else None,
                "state": self.state_stats.get_state() if self.state_stats is not None else None,
            }
        learner_module = state.get(COMPONENT_LEARNER_GROUP, {}).get(COMPONENT_LEARNER, {}).get(COMPONENT_RL_MODULE)
        bad = _first_nonfinite(learner_module) if learner_module is not None else None
        if bad is not None:
            raise NonFiniteUpdateError(
                f"Refusing to save QMIX's state: the learner weight '{bad}' is non-finite (NaN or inf), "
                "and a checkpoint must hold finite weights. Restore an earlier checkpoint."
            )
        if self.config.store_replay_buffer_in_checkpoints and not self._replay_saved_beside:
            state[REPLAY_BUFFER_STATE] = self.replay_buffer.get_state()
        return state

    # A local checkpoint keeps the replay in its own files, written an episode at a time,
    # instead of in the pickled state, which needs the whole buffer packed (and maybe copied
    # again) in memory while saving and loading.
    _replay_saved_beside = False

    @override(Algorithm)
    def save_to_path(self, path=None, *, state=None, filesystem=None, use_msgpack=False) -> str:
        """Saves a checkpoint; a local one atomically (``checkpoints.write_checkpoint``): a save
        killed or out of disk space at any point leaves ``path`` as it was."""
        if path is not None and not is_local_checkpoint(path, filesystem):
            return super().save_to_path(path, state=state, filesystem=filesystem, use_msgpack=use_msgpack)
        if path is None:
            path = pathlib.Path(tempfile.gettempdir()) / uuid.uuid4().hex
        beside = self.config.store_replay_buffer_in_checkpoints and state is None

        def write(tmp: pathlib.Path) -> None:
            self._replay_saved_beside = beside
            try:
                super(QMIX, self).save_to_path(str(tmp), state=state, use_msgpack=use_msgpack)
            finally:
                self._replay_saved_beside = False
            if beside:
                self.replay_buffer.save_to_dir(tmp / REPLAY_BUFFER_DIR)

        return str(write_checkpoint(path, self._checkpoint_size_estimate(beside), write))

    def _checkpoint_size_estimate(self, with_replay: bool) -> int:
        """About how many bytes a checkpoint takes: the replay's files, and the learner's
        weights three times over (weights and Adam's two moments) plus 1 MB for the rest."""
        module = self.learner_group.get_state(components=COMPONENT_LEARNER + "/" + COMPONENT_RL_MODULE)
        weights = sum(
            np.asarray(v).nbytes
            for m in module[COMPONENT_LEARNER][COMPONENT_RL_MODULE].values()
            for v in m.values()
            if hasattr(v, "shape")
        )
        replay = self.replay_buffer.saved_nbytes() if with_replay else 0
        return replay + 3 * weights + 2**20

    @override(Algorithm)
    def set_state(self, state: dict) -> None:
        super().set_state(state)
        counters = state.get(QMIX_COUNTERS)
        if counters:
            self._update_credit = float(counters["update_credit"])
            self._num_updates = int(counters["num_updates"])
            self._num_restarts = int(counters["num_restarts"])
        if REPLAY_BUFFER_STATE in state:
            self.replay_buffer.set_state(state[REPLAY_BUFFER_STATE])
        if self.reward_stats is not None and REWARD_STATS_STATE in state:
            self.reward_stats.set_state(state[REWARD_STATS_STATE])
        input_stats = state.get(INPUT_STATS_STATE) or {}
        for key, stats in (("obs", self.obs_stats), ("state", self.state_stats)):
            if stats is not None and input_stats.get(key) is not None:
                stats.set_state(input_stats[key])
        self._send_state_to_runners()

    @classmethod
    @override(Algorithm)
    def from_checkpoint(cls, path, filesystem=None, **kwargs) -> QMIX:
        """``Algorithm.from_checkpoint`` that refuses another algorithm's or a damaged checkpoint
        with one ``CheckpointError`` (checked before anything is built)."""
        if is_local_checkpoint(path, filesystem):
            check_qmix_checkpoint(path, QMIX)
        return super().from_checkpoint(path, filesystem=filesystem, **kwargs)

    @override(Algorithm)
    def restore_from_path(self, path, *args, **kwargs) -> None:
        """Restores a whole checkpoint (or a component); a damaged or foreign whole checkpoint
        raises a ``CheckpointError`` instead of failing deep inside RLlib."""
        whole_local = (
            not args and kwargs.get("component") is None and is_local_checkpoint(path, kwargs.get("filesystem"))
        )
        if whole_local:
            check_qmix_checkpoint(path, QMIX)
        with checkpoint_read_errors(path):
            super().restore_from_path(path, *args, **kwargs)
            replay_dir = pathlib.Path(path) / REPLAY_BUFFER_DIR
            if whole_local and replay_dir.is_dir():
                self.replay_buffer.load_from_dir(replay_dir)
