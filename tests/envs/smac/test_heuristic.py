"""SMAC's scripted agent (``heuristic_ai``, ``heuristic_rest``) as SMAC's code plays it.

Source: oxwhirl/smac ``starcraft2.py`` ``get_agent_action_heuristic`` (the same in oxwhirl/smacv2).
"""

import numpy as np
import pytest

from rllib_qmix.envs.smac import BatchedStarCraft2Env, StarCraft2Env, custom_map
from rllib_qmix.envs.smacv2 import SMACv2Env


def make(allies, enemies, step_mul=8, **kw):
    spec = custom_map("h", allies, enemies, limit=200)
    return StarCraft2Env(spec, seed=0, step_mul=step_mul, heuristic_ai=True, **kw)


def units(env):
    return env.engine.units()


def test_each_agent_takes_the_closest_enemy_and_keeps_it_until_it_dies():
    """Agent 0 at (10, 16): enemy 1 (4 away) before enemy 0 (5 away); agent 1 at (10, 20):
    enemy 2 (3 away). The actions taken are written into the caller's list. Enemy 0 then comes
    closer to agent 0 than its target: it keeps its target; when the target dies it takes the
    closest living one."""
    env = make(
        [("marine", 1, (10.0, 16.0)), ("marine", 1, (10.0, 20.0))],
        [("marine", 1, (15.0, 16.0)), ("marine", 1, (14.0, 16.0)), ("marine", 1, (13.0, 20.0))],
    )
    env.reset()
    env.engine.set_units(0, health=np.array([1e6, 1e6, 1e6, 1e6, 1e6]))
    actions = [1, 1]
    env.step(actions)
    assert actions == [6 + 1, 6 + 2]
    env.engine.set_units(0, x=np.array([10.0, 10.0, 11.0, 14.0, 13.0]))  # enemy 0 now 1 away
    actions = [1, 1]
    env.step(actions)
    assert actions[0] == 6 + 1  # kept
    env.engine.set_units(0, health=np.array([1e6, 1e6, 1e6, 0.0, 1e6]))  # its target dies
    actions = [1, 1]
    env.step(actions)
    assert actions == [6 + 0, 6 + 2]


def test_ties_go_to_the_lower_id_and_the_state_keeps_the_given_actions():
    """Two enemies at the same distance: the lower id. The state's last actions are the
    caller's (SMAC computes them before the heuristic replaces the actions)."""
    env = make([("marine", 1, (10.0, 16.0))], [("marine", 1, (14.0, 16.0)), ("marine", 1, (10.0, 20.0))])
    env.reset()
    actions = [1]
    env.step(actions)
    assert actions == [6]
    last = env.get_state()[-env.n_actions :]  # the agent's last-action one-hot ends the state
    assert last.tolist() == [0, 1, 0, 0, 0, 0, 0, 0]


def test_attack_order_walks_to_a_target_out_of_range():
    """The heuristic's order is SC2's attack-unit command: a target 12 away (out of the 6 of
    SMAC's mask and of the marine's range 5) is walked to, then shot."""
    env = make([("marine", 1, (6.0, 16.0))], [("marine", 1, (18.0, 16.0))])
    env.reset()
    env.engine.set_units(0, health=np.array([1e6, 45.0]))
    env.step([1])
    assert units(env)["x"][0] == pytest.approx(6.0 + 8 * 2.25 / 16)  # walked east at full speed
    for _ in range(12):
        env.step([1])
    assert units(env)["health"][1] < 45.0


def test_heuristic_rest_moves_along_the_larger_axis_when_the_attack_is_not_available():
    """heuristic_rest: with its target out of the mask's 6, the agent moves (2 = north, ...,
    5 = west) toward it along the axis of the larger offset instead: dx 9, dy -3: east (4)."""
    env = make([("marine", 1, (6.0, 16.0))], [("marine", 1, (15.0, 13.0))], heuristic_rest=True)
    env.reset()
    actions = [1]
    env.step(actions)
    assert actions == [4]
    assert units(env)["x"][0] > 6.0 and units(env)["y"][0] == 16.0


def test_medivac_heals_the_closest_hurt_ally_and_sends_nothing_without_one():
    """A medivac picks the closest hurt, living non-medivac ally (ties to the lower id); with
    none, it sends no command (its last order stands) and writes action 0."""
    env = make(
        [("marine", 1, (8.0, 16.0)), ("marine", 1, (12.0, 16.0)), ("medivac", 1, (11.0, 16.0))],
        [("marine", 1, (30.0, 16.0))],
    )
    env.reset()
    actions = [1, 1, 1]
    env.step(actions)
    assert actions[2] == 0
    env.engine.set_units(0, health=np.array([30.0, 40.0, 150.0, 45.0]))
    actions = [1, 1, 1]
    env.step(actions)
    assert actions[2] == 6 + 1  # marine 1 is 1 away, marine 0 is 3 away
    assert units(env)["health"][1] > 40.0


def test_marauders_go_for_an_enemy_medivac_and_sc2_refuses_the_order():
    """SMAC means marauders to skip medivacs, but compares the enemy's type with the agents'
    own medivac type: an enemy (stock) medivac closest to a marauder is its target; SC2 refuses
    a ground weapon's order on an air unit, so the marauder does nothing."""
    env = make([("marauder", 1, (10.0, 16.0))], [("medivac", 1, (13.0, 16.0)), ("marine", 1, (18.0, 16.0))])
    env.reset()
    actions = [1]
    env.step(actions)
    assert actions == [6]
    assert units(env)["x"][0] == 10.0 and units(env)["health"][1] == 150.0


def test_batched_and_smacv2_envs_play_the_heuristic():
    """The batched env writes the actions taken into the actions array; SMACv2's env plays the
    heuristic too (every agent's action is an attack on the closest enemy)."""
    b = BatchedStarCraft2Env("3m", 2, seed=0, heuristic_ai=True)
    b.reset()
    actions = np.ones((2, 3), np.int64)
    b.step(actions)
    assert (actions >= 6).all()
    env = SMACv2Env("protoss_5_vs_5", seed=0, heuristic_ai=True)
    env.reset()
    u = units(env)
    actions = [1] * env.n_agents
    env.step(actions)
    for a, act in enumerate(actions):
        d = np.hypot(u["x"][5:] - u["x"][a], u["y"][5:] - u["y"][a])
        assert act == 6 + int(np.argmin(d))


def test_heuristic_rest_needs_heuristic_ai():
    with pytest.raises(ValueError, match="heuristic_rest=True only restricts"):
        StarCraft2Env("3m", heuristic_rest=True)
