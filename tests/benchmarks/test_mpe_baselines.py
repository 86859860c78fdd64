"""The mpe simple_spread reference policies used to put QMIX's return in context."""

from __future__ import annotations

import numpy as np
import pytest

from tests.benchmarks._load import load_benchmark

pytest.importorskip("mpe2")

baselines = load_benchmark("mpe_baselines")


def test_observation_layout_matches_the_simulator():
    from rllib_qmix.envs.mpe import make_simple_spread

    env = make_simple_spread({"N": 3, "max_cycles": 25})
    obs, _ = env.reset(seed=3)
    world = env.unwrapped.world
    vel, landmarks, others = baselines.parse_obs(obs["agent_1"])
    me = world.agents[1].state.p_pos
    np.testing.assert_allclose(vel, world.agents[1].state.p_vel, atol=1e-6)
    np.testing.assert_allclose(landmarks, [lm.state.p_pos - me for lm in world.landmarks], atol=1e-6)
    np.testing.assert_allclose(others, [world.agents[i].state.p_pos - me for i in (0, 2)], atol=1e-6)


def test_scripted_assignment_covers_the_landmarks_far_better_than_random():
    scripted = baselines.team_returns(baselines.scripted_policy, episodes=20, seed=0)
    rand = baselines.team_returns(baselines.random_policy, episodes=20, seed=0)
    assert np.mean(scripted) > np.mean(rand) + 30, (np.mean(scripted), np.mean(rand))
