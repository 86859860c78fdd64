"""The replay's memory at capacity: computed by hand, equal to the real arrays, one line at
build, and an error before training that names the capacity that fits."""

import pytest

from rllib_qmix import QMIXConfig
from rllib_qmix.envs.team import TeamSpec
from rllib_qmix.learning.replay import EpisodeReplayBuffer
from rllib_qmix.learning.replay_budget import ReplayMemoryError, bytes_per_episode, replay_memory_line

SPEC_3M = TeamSpec(n_agents=3, obs_dim=30, state_dim=48, n_actions=9, episode_limit=60)


def test_bytes_per_episode_by_hand():
    # 61 steps x (3 x 30 x 4 obs + 48 x 4 state + 3 x 9 masks) + 60 x (3 x 8 actions + 4 reward + 4 terminated)
    assert bytes_per_episode(SPEC_3M, 60) == 61 * (360 + 192 + 27) + 60 * 32 == 37239


def test_it_is_what_the_replay_allocates():
    replay = EpisodeReplayBuffer(SPEC_3M, capacity=7)
    assert sum(a.nbytes for a in replay._data.values()) == 7 * bytes_per_episode(SPEC_3M, 60)


def test_line_and_error():
    line = replay_memory_line(SPEC_3M, 5000, 60, available=2**30)
    assert line.startswith("QMIX replay buffer: 177.6 MB at capacity (5000 episodes x 60 steps x 3 agents")
    assert line.endswith("1.00 GB available")
    # 100 MB: 104857600 // 37239 = 2815 episodes fit (2816 would need 104865024 bytes).
    with pytest.raises(ReplayMemoryError, match=r"set replay_capacity=2815 or less"):
        replay_memory_line(SPEC_3M, 5000, 60, available=100 * 2**20)


def test_said_at_build_and_refused_before_training(ray_local, capfd):
    config = QMIXConfig().environment("smac", env_config={"map_name": "3m"}).env_runners(num_env_runners=0)
    algo = config.copy().training(replay_capacity=100).build_algo()
    algo.stop()
    assert "QMIX replay buffer: 3.6 MB at capacity (100 episodes x 60 steps" in capfd.readouterr().out
    with pytest.raises(
        ReplayMemoryError, match=r"can't fit in the .* available on this machine: set replay_capacity=\d+"
    ):
        config.copy().training(replay_capacity=10**9).build_algo()  # 37 TB
