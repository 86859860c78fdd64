"""backend="sc2": a stand-in with real SMAC's signatures and info conventions, driven through
``QMIXConfig().environment("smac", env_config={"backend": "sc2", ...})``; the install errors.

The stand-in (``FakeSMAC``) follows oxwhirl/smac's ``StarCraft2Env``: every option a keyword of
``__init__`` (no ``**kwargs``), the seed given at construction, ``seed()`` without an argument
returning it, ``reset()`` -> (obs, state), ``step(actions)`` -> (reward, terminated, info) with
``info["episode_limit"]`` only when ``continuing_episode=True``, and ``timeouts`` /
``battles_won`` / ``battles_game`` counters. Each episode plays out a scripted ending.
"""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from rllib_qmix import QMIXConfig
from rllib_qmix.envs.sc2 import make_sc2_env
from rllib_qmix.envs.smac_rllib import SMACMultiAgentEnv
from rllib_qmix.envs.team import SMACTeamEnv, as_team_env, reseeds_per_episode
from rllib_qmix.sampling.env_runner import QMIXEnvRunner

# map: (n_agents, n_enemies, episode limit) - small made-up limits keep episodes short
MAPS = {"3m": (3, 3, 6), "2s3z": (5, 5, 6)}
DEFEAT_AT, WIN_AT = 2, 3  # steps at which a scripted defeat / win happens


class FakeSMAC:
    """Stand-in for ``smac.env.StarCraft2Env`` (signatures and info conventions only)."""

    instances: list[FakeSMAC] = []
    script: list[str] = ["timeout"]  # endings of the episodes, in order, cycled

    def __init__(
        self,
        map_name="8m",
        step_mul=8,
        move_amount=2,
        difficulty="7",
        game_version=None,
        seed=None,
        continuing_episode=False,
        obs_all_health=True,
        obs_own_health=True,
        obs_last_action=False,
        obs_pathing_grid=False,
        obs_terrain_height=False,
        obs_instead_of_state=False,
        obs_timestep_number=False,
        state_last_action=True,
        state_timestep_number=False,
        reward_sparse=False,
        reward_only_positive=True,
        reward_death_value=10,
        reward_win=200,
        reward_defeat=0,
        reward_negative_scale=0.5,
        reward_scale=True,
        reward_scale_rate=20,
        replay_dir="",
        replay_prefix="",
        window_size_x=1920,
        window_size_y=1200,
        heuristic_ai=False,
        heuristic_rest=False,
        debug=False,
    ):
        self.map_name = map_name
        self.n_agents, self.n_enemies, self.episode_limit = MAPS[map_name]
        self.n_actions = 6 + self.n_enemies
        self.continuing_episode = continuing_episode
        self._seed = seed
        self.battles_won = self.battles_game = self.timeouts = self.force_restarts = 0
        self._episode_count = 0
        self._steps = 0
        self._ending = "timeout"
        self.closed = False
        FakeSMAC.instances.append(self)

    def seed(self):
        return self._seed

    def get_env_info(self):
        return {
            "state_shape": self.get_state_size(),
            "obs_shape": self.get_obs_size(),
            "n_actions": self.n_actions,
            "n_agents": self.n_agents,
            "episode_limit": self.episode_limit,
        }

    def get_obs_size(self):
        return 4 + 5 * self.n_enemies + 5 * (self.n_agents - 1) + 1

    def get_state_size(self):
        return 4 * self.n_agents + 3 * self.n_enemies + self.n_agents * self.n_actions

    def reset(self):
        self._ending = self.script[self._episode_count % len(self.script)]
        self._steps = 0
        return self.get_obs(), self.get_state()

    def step(self, actions):
        actions = [int(a) for a in actions]
        avail = self.get_avail_actions()
        for a_id, act in enumerate(actions):
            assert avail[a_id][act] == 1, f"Agent {a_id} cannot perform action {act}"
        self._steps += 1
        info = {"battle_won": False, "dead_allies": 0, "dead_enemies": 0}
        terminated, reward = False, 0.5
        if self._ending == "defeat" and self._steps >= DEFEAT_AT:
            terminated = True
            self.battles_game += 1
            info["dead_allies"] = self.n_agents
        elif self._ending == "win" and self._steps >= WIN_AT:
            terminated = True
            self.battles_game += 1
            self.battles_won += 1
            info["battle_won"] = True
            info["dead_enemies"] = self.n_enemies
            reward += 10.0
        elif self._steps >= self.episode_limit:
            terminated = True
            if self.continuing_episode:
                info["episode_limit"] = True
            self.battles_game += 1
            self.timeouts += 1
        if terminated:
            self._episode_count += 1
        return reward, terminated, info

    def get_obs(self):
        return [np.full(self.get_obs_size(), 0.1 * self._steps, np.float32) for _ in range(self.n_agents)]

    def get_obs_agent(self, agent_id):
        return self.get_obs()[agent_id]

    def get_state(self):
        return np.full(self.get_state_size(), 0.01 * self._steps, np.float32)

    def get_avail_agent_actions(self, agent_id):
        return [0, 1, 1, 1, 1, 1] + [1] * self.n_enemies  # alive: no no-op

    def get_avail_actions(self):
        return [self.get_avail_agent_actions(i) for i in range(self.n_agents)]

    def get_stats(self):
        return {"battles_won": self.battles_won, "battles_game": self.battles_game, "timeouts": self.timeouts}

    def close(self):
        self.closed = True


@pytest.fixture
def fake_smac(monkeypatch):
    """Installs ``FakeSMAC`` as ``smac.env.StarCraft2Env``; yields the class."""
    smac = types.ModuleType("smac")
    smac.__path__ = []  # a package
    env = types.ModuleType("smac.env")
    env.StarCraft2Env = FakeSMAC
    smac.env = env
    monkeypatch.setitem(sys.modules, "smac", smac)
    monkeypatch.setitem(sys.modules, "smac.env", env)
    monkeypatch.setattr(FakeSMAC, "instances", [])
    monkeypatch.setattr(FakeSMAC, "script", ["timeout", "defeat", "win"])
    return FakeSMAC


def runner(**env_config) -> QMIXEnvRunner:
    config = (
        QMIXConfig()
        .environment("smac", env_config={"backend": "sc2", "map_name": "3m", "seed": 3, **env_config})
        .env_runners(num_env_runners=0, num_envs_per_env_runner=1)
        .training(agent_hidden_dim=8, epsilon_start=1.0, epsilon_finish=1.0)
        .debugging(seed=0)
    )
    return QMIXEnvRunner(config=config)


def test_sc2_episodes_through_the_env_runner(fake_smac):
    """Seeded at construction (no TypeError at reset); time-out -> truncated, defeat/win -> terminated."""
    r = runner()
    episodes = r.sample(num_episodes=3, explore=True)
    (env,) = fake_smac.instances
    assert env.seed() == 3  # the env config's seed went to the constructor
    timeout, defeat, win = episodes
    assert (len(timeout), timeout.truncated, timeout.terminated) == (6, True, False)
    assert (len(defeat), defeat.truncated, defeat.terminated) == (DEFEAT_AT, False, True)
    assert (len(win), win.truncated, win.terminated) == (WIN_AT, False, True)
    assert win.info["battle_won"] and not defeat.info["battle_won"]
    assert "episode_limit" not in timeout.info  # recognised by the timeouts counter alone
    assert env.timeouts == 1


def test_sc2_timeout_is_terminal(fake_smac):
    """``timeout_is_terminal=True``: pymarl's convention, a time-out is a termination."""
    timeout, defeat = runner(timeout_is_terminal=True).sample(num_episodes=2, explore=True)
    assert (timeout.terminated, timeout.truncated) == (True, False)
    assert (defeat.terminated, defeat.truncated) == (True, False)


@pytest.mark.parametrize("timeout_is_terminal", [False, True])
def test_sc2_continuing_episode_info_key_agrees(fake_smac, timeout_is_terminal):
    """With ``continuing_episode=True`` SMAC also sets info["episode_limit"]: same outcome."""
    (timeout,) = runner(continuing_episode=True, timeout_is_terminal=timeout_is_terminal).sample(
        num_episodes=1, explore=True
    )
    assert timeout.info["episode_limit"] is True
    assert (timeout.terminated, timeout.truncated) == (timeout_is_terminal, not timeout_is_terminal)


def test_sc2_multi_agent_env_view(fake_smac):
    """The RLlib MultiAgentEnv view has the same seeding and end flags as the team view."""
    env = SMACMultiAgentEnv({"backend": "sc2", "map_name": "2s3z", "seed": 7})
    assert not env.reseeds and env.smac_env.seed() == 7
    for ending, steps in (("timeout", 6), ("defeat", DEFEAT_AT), ("win", WIN_AT)):
        obs, _ = env.reset(seed=123)  # ignored: real SMAC can't be reseeded
        assert len(obs) == 5
        for _ in range(steps):
            obs, _, term, trunc, _ = env.step({a: 1 for a in obs})
        assert (term["__all__"], trunc["__all__"]) == (ending != "timeout", ending == "timeout"), ending
    terminal = SMACMultiAgentEnv({"backend": "sc2", "map_name": "3m", "timeout_is_terminal": True})
    team = as_team_env(terminal)
    assert isinstance(team, SMACTeamEnv) and team.timeout_is_terminal
    terminal.reset()
    for _ in range(6):
        _, _, term, trunc, _ = terminal.step({a: 1 for a in terminal.agents})
    assert term["__all__"] and not trunc["__all__"]


def test_reseeding_is_decided_by_the_seed_signature(fake_smac):
    from rllib_qmix.envs.smac import StarCraft2Env

    assert reseeds_per_episode(StarCraft2Env("3m", seed=0))  # seed(seed)
    assert not reseeds_per_episode(FakeSMAC("3m", seed=0))  # seed()
    assert not reseeds_per_episode(object())  # no seed at all


def test_lite_seed_without_argument_only_reports_the_seed():
    """As SMAC's ``seed()``: no argument returns the seed and leaves the battles alone."""
    from rllib_qmix.envs.smac import StarCraft2Env

    a, b = StarCraft2Env("3m", seed=5), StarCraft2Env("3m", seed=5)
    assert a.seed() == 5
    assert np.array_equal(a.reset()[1], b.reset()[1])
    assert a.seed(9) == 9 and a.seed() == 9


def test_lite_timeouts_are_truncations_unless_asked(monkeypatch):
    """The embedded simulator: the same rule, found by the counter even without the info key."""
    from rllib_qmix.envs.smac import StarCraft2Env

    for terminal in (False, True):
        env = StarCraft2Env("3m", seed=0)
        real_step = env.step

        def step_without_key(actions, real_step=real_step):
            reward, done, info = real_step(actions)
            info.pop("episode_limit", None)  # as real SMAC without continuing_episode
            return reward, done, info

        env.step = step_without_key
        team = SMACTeamEnv(env, timeout_is_terminal=terminal)
        assert team.reseeds
        team.reset(seed=1)
        health = env.engine.units()["health"]
        health[: env.n_agents] = 1e6  # allies that stand still and outlast the enemy's fire
        env.engine.set_units(0, health=health)
        for _ in range(env.episode_limit):
            step = team.step(np.ones(env.n_agents, int))
        assert env.timeouts == 1 and not step.info["battle_won"]
        assert (step.terminated, step.truncated) == (terminal, not terminal)


def test_sc2_trains_through_the_algorithm(fake_smac, ray_local):
    """Build the algorithm on backend="sc2" (local env runner) and train two iterations."""
    config = (
        QMIXConfig()
        .environment("smac", env_config={"backend": "sc2", "map_name": "3m", "seed": 3})
        .env_runners(num_env_runners=0, num_envs_per_env_runner=2, rollout_fragment_length=6)
        .training(
            agent_hidden_dim=8,
            mixing_embed_dim=4,
            hypernet_embed=8,
            episode_batch_size=2,
            learning_starts=2,
            async_sampling=False,
        )
        .debugging(seed=0)
    )
    algo = config.build_algo()
    try:
        for _ in range(2):
            result = algo.train()
    finally:
        algo.stop()
    assert result["env_runners"]["num_episodes_lifetime"] >= 2
    assert fake_smac.instances and all(env.seed() == 3 for env in fake_smac.instances)


def test_install_error_when_smac_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "smac", None)  # as if not installed
    with pytest.raises(ImportError) as err:
        make_sc2_env("3m")
    msg = str(err.value)
    assert "no package named `smac` is installed" in msg
    assert "pip install git+https://github.com/oxwhirl/smac.git" in msg and "SC2PATH" in msg
    assert "`pip install smac` installs SMAC3" in msg


def test_install_error_when_smac_is_smac3(monkeypatch):
    """SMAC3 (automl's optimiser, what `pip install smac` installs) has no ``smac.env``."""
    smac3 = types.ModuleType("smac")
    smac3.__path__ = []
    smac3.__file__ = "/site-packages/smac/__init__.py"
    monkeypatch.setitem(sys.modules, "smac", smac3)
    monkeypatch.delitem(sys.modules, "smac.env", raising=False)
    with pytest.raises(ImportError, match=r"has no `smac.env`: it is not oxwhirl's SMAC") as err:
        make_sc2_env("3m")
    assert "`pip install smac` installs SMAC3" in str(err.value)
    env = types.ModuleType("smac.env")  # a smac.env without StarCraft2Env
    monkeypatch.setitem(sys.modules, "smac.env", env)
    with pytest.raises(ImportError, match=r"has no `StarCraft2Env`: it is not oxwhirl's SMAC"):
        make_sc2_env("3m")
