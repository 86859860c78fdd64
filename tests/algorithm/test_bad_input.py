"""Bad input at the algorithm level: foreign and damaged checkpoints, unknown map or env, NaN rewards.

(Env-level errors -- no state, continuous or heterogeneous actions, shape changes, empty masks,
NaN at the team view -- are in tests/envs/test_team.py; config values in tests/algorithm/test_qmix.py.)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.env.multi_agent_env import MultiAgentEnv

from rllib_qmix import QMIX, QMIXConfig
from rllib_qmix.algorithm.checkpoints import MANIFEST_FILE, CheckpointError, check_qmix_checkpoint
from rllib_qmix.envs.team import TeamEnvError
from tests.algorithm.test_qmix import two_step_config

MODULE_FILE = "learner_group/learner/rl_module/default_policy/module_state.pkl"


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """A QMIX checkpoint (two-step game) and a PPO checkpoint (CartPole)."""
    import ray
    from ray.rllib.algorithms.ppo import PPOConfig

    if not ray.is_initialized():
        ray.init(
            address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1"
        )
    root = tmp_path_factory.mktemp("ckpts")
    qmix = two_step_config().build_algo()
    try:
        qmix.train()
        qmix_path = Path(qmix.save(str(root / "qmix")).checkpoint.path)
    finally:
        qmix.stop()
    ppo = PPOConfig().environment("CartPole-v1").env_runners(num_env_runners=0).build_algo()
    try:
        ppo_path = Path(ppo.save(str(root / "ppo")).checkpoint.path)
    finally:
        ppo.stop()
    return {"qmix": qmix_path, "ppo": ppo_path, "root": root}


def _damaged_copy(checkpoints: dict, name: str, damage) -> Path:
    path = checkpoints["root"] / name
    shutil.copytree(checkpoints["qmix"], path)
    damage(path)
    return path


def test_good_checkpoint_passes_the_check(checkpoints):
    assert check_qmix_checkpoint(checkpoints["qmix"], QMIX) == checkpoints["qmix"]


def test_ppo_checkpoint_refused_where_qmix_is_expected(checkpoints, ray_local):
    ppo = checkpoints["ppo"]
    message = r"is a PPO checkpoint, not a QMIX one"
    with pytest.raises(CheckpointError, match=message):
        QMIX.from_checkpoint(ppo)
    # Restoring it into a running QMIX fails the same way, before any state is touched.
    algo = two_step_config().build_algo()
    try:
        before = algo.learner_group.get_state(components="learner/rl_module")["learner"]["rl_module"]
        with pytest.raises(CheckpointError, match=message):
            algo.restore_from_path(ppo)
        after = algo.learner_group.get_state(components="learner/rl_module")["learner"]["rl_module"]
        for k, v in before["default_policy"].items():
            np.testing.assert_array_equal(v, after["default_policy"][k])
    finally:
        algo.stop()


@pytest.mark.parametrize(
    "name,damage,match",
    [
        ("missing_dir", lambda p: shutil.rmtree(p), "No checkpoint directory"),
        ("empty_dir", lambda p: [shutil.rmtree(p), p.mkdir()], "not an RLlib checkpoint"),
        (
            "no_learner_state",
            lambda p: (p / "learner_group/learner/state.pkl").unlink(),
            "damaged .missing learner_group/learner/state.pkl",
        ),
        (
            "empty_module",
            lambda p: (p / MODULE_FILE).write_bytes(b""),
            "damaged ." + MODULE_FILE + r" has 0 bytes, not \d+",
        ),
        (
            "no_manifest",
            lambda p: (p / MANIFEST_FILE).unlink(),
            "is incomplete: it has no qmix_checkpoint.json, which a save writes last",
        ),
        ("garbled_class_file", lambda p: (p / "class_and_ctor_args.pkl").write_bytes(b"\x80\x04garbage"), "damaged"),
    ],
)
def test_damaged_checkpoint_refused_before_building(checkpoints, name, damage, match):
    path = _damaged_copy(checkpoints, name, damage)
    with pytest.raises(CheckpointError, match=match):
        QMIX.from_checkpoint(path)


def test_damaged_state_file_gives_one_clear_error(checkpoints, ray_local):
    """State files of the right size that can't be read fail in the restore, named as damage."""

    def garble(p: Path) -> None:
        size = (p / MODULE_FILE).stat().st_size
        (p / MODULE_FILE).write_bytes(b"\x80\x04garbage".ljust(size, b"\0"))

    path = _damaged_copy(checkpoints, "garbled_module", garble)
    with pytest.raises(CheckpointError, match=r"QMIX checkpoint at .*garbled_module is damaged \(\w+: "):
        Algorithm.from_checkpoint(path)  # the generic entry point ends in QMIX.restore_from_path
    # ... which also checks that the files are all there before reading any state.
    path = _damaged_copy(checkpoints, "no_module_generic", lambda p: (p / MODULE_FILE).unlink())
    with pytest.raises(CheckpointError, match="damaged .missing " + MODULE_FILE):
        Algorithm.from_checkpoint(path)


def test_unknown_smac_map_names_the_maps(ray_local):
    with pytest.raises(ValueError, match=r"unknown SMAC map 'nope'; available maps: 3m, 8m"):
        QMIXConfig().environment("smac", env_config={"map_name": "nope"}).build_algo()


def test_unknown_smac_map_with_remote_env_runners(ray_local):
    """RLlib only logs env runners that fail to construct; QMIX raises the env's own error."""
    config = (
        QMIXConfig()
        .environment("smac", env_config={"map_name": "nope"})
        .env_runners(num_env_runners=1, num_cpus_per_env_runner=0.5)
    )
    with pytest.raises(ValueError, match=r"unknown SMAC map 'nope'; available maps:"):
        config.build_algo()


def test_unknown_env_name(ray_local):
    with pytest.raises(Exception, match=r"(?s)'no_such_env'.*Not a tune-registered environment creator"):
        QMIXConfig().environment("no_such_env").build_algo()


class NaNInThirdEpisode(MultiAgentEnv):
    """Two agents, 3-step episodes; the third episode's reward at step 2 is NaN."""

    def __init__(self, config=None):
        super().__init__()
        self.agents = self.possible_agents = ["a", "b"]
        self.observation_spaces = {a: gym.spaces.Box(-1, 1, (2,)) for a in self.agents}
        self.action_spaces = {a: gym.spaces.Discrete(2) for a in self.agents}
        self.state_space = gym.spaces.Box(-1, 1, (2,))
        self.episode, self.t = 0, 0

    def state(self):
        return np.array([self.t / 3, 0.0], np.float32)

    def _obs(self):
        return {a: np.full(2, self.t / 3, np.float32) for a in self.agents}

    def reset(self, *, seed=None, options=None):
        self.episode, self.t = self.episode + 1, 0
        return self._obs(), {}

    def step(self, action_dict):
        self.t += 1
        reward = float("nan") if (self.episode == 3 and self.t == 2) else 0.5
        return self._obs(), {a: reward for a in self.agents}, {"__all__": self.t >= 3}, {"__all__": False}, {}


def test_nan_reward_refused_and_never_stored(ray_local):
    config = (
        QMIXConfig()
        .environment(NaNInThirdEpisode)
        .env_runners(num_env_runners=0, num_envs_per_env_runner=1, rollout_fragment_length=4)
        .training(episode_batch_size=2, learning_starts=2, replay_capacity=8)
        .debugging(seed=0)
    )
    algo = config.build_algo()
    try:
        algo.train()  # episode 1 stored, episode 2 in progress
        assert len(algo.replay_buffer) == 1
        with pytest.raises(
            TeamEnvError,
            match=r"NaNInThirdEpisode returned a non-finite reward \(nan\) for agent 'a' at episode step 2",
        ):
            algo.train()  # finishes episode 2, then episode 3 hits the NaN
        assert len(algo.replay_buffer) == 1 and algo.replay_buffer.num_added == 1
        rewards = algo.replay_buffer.gather(np.arange(len(algo.replay_buffer)))["rewards"]
        assert np.isfinite(rewards).all()
    finally:
        algo.stop()
