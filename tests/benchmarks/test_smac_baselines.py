"""The scripted SMAC yardsticks used to put QMIX's win rates in context."""

from __future__ import annotations

import numpy as np

from rllib_qmix.envs.smac import StarCraft2Env
from tests.benchmarks._load import load_benchmark

baselines = load_benchmark("smac_baselines")


def test_policies_only_choose_available_actions():
    rng = np.random.default_rng(0)
    for policy in baselines.POLICIES.values():
        env = StarCraft2Env("MMM2", seed=0)  # medivacs: their target slots are allies
        env.reset()
        done = False
        while not done:
            actions = policy(env, rng)
            avail = env.get_avail_actions_array()
            assert all(avail[a, act] for a, act in enumerate(actions))
            _, done, _ = env.step(actions)


def test_focus_fire_deals_far_more_damage_than_random():
    focus = baselines.evaluate("3m", baselines.focus_fire_policy, episodes=20)
    rand = baselines.evaluate("3m", baselines.random_policy, episodes=20)
    assert focus["return_mean"] > rand["return_mean"] + 5, (focus, rand)
    assert focus["win_rate"] > rand["win_rate"]


def test_move_towards_prefers_the_longer_axis_and_falls_back():
    av = np.ones(9, bool)
    assert baselines._move_towards(av, 3.0, -1.0) == baselines.EAST
    assert baselines._move_towards(av, 0.5, -2.0) == baselines.SOUTH
    av[baselines.SOUTH] = False
    assert baselines._move_towards(av, -0.5, -2.0) == baselines.WEST
