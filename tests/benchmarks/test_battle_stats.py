"""benchmarks/battle_stats.py: greedy battles of a saved agent network, broken down per battle."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from ray.rllib.core import DEFAULT_MODULE_ID

from rllib_qmix import QMIXConfig
from rllib_qmix.envs.team import TeamSpec
from tests.benchmarks._load import BENCHMARKS, load_benchmark

battle_stats = load_benchmark("battle_stats")
_PATH = BENCHMARKS / "battle_stats.py"

SPEC_3M = TeamSpec(n_agents=3, obs_dim=30, state_dim=48, n_actions=9)  # smac-reference map table


@pytest.fixture(scope="module")
def module_3m(tmp_path_factory):
    """An untrained 3m agent network, saved the way an algorithm checkpoint holds it."""
    config = QMIXConfig().debugging(seed=0)
    learner = config.build_learner(spaces={DEFAULT_MODULE_ID: (SPEC_3M.observation_space(), SPEC_3M.action_space())})
    ckpt = tmp_path_factory.mktemp("ckpt")
    module = learner.module[DEFAULT_MODULE_ID]
    module.save_to_path(str(ckpt / "learner_group" / "learner" / "rl_module" / "default_policy"))
    return module, ckpt


def test_every_battle_ends_once_and_counts_add_up(module_3m):
    module, _ = module_3m
    battles, types = battle_stats.play(module, "3m", episodes=6, seed=0)
    assert len(battles) == 6 and types == ["marine"] * 6
    for b in battles:
        assert 1 <= b["length"] <= 60
        assert not (b["won"] and b["timed_out"])
        assert sum(b["ally_deaths"].values()) <= 3 and sum(b["enemy_deaths"].values()) <= 3
        if b["won"]:
            assert b["enemy_deaths"] == {"marine": 3} and b["enemy_hp_left"] == 0.0
        elif not b["timed_out"]:  # a defeat
            assert b["ally_deaths"] == {"marine": 3}
        # Every alive agent chooses once per step: at most 3 choices per step.
        assert 0 < sum(b["actions"].values()) <= 3 * b["length"]
    s = battle_stats.summarize(battles, ["marine"], ["marine"])
    assert s["win_rate"] + s["defeat_rate"] + s["timeout_rate"] == pytest.approx(1.0)
    assert sum(s["action_fractions"].values()) == pytest.approx(1.0)


def test_cli_on_a_checkpoint_folder(module_3m, tmp_path):
    _, ckpt = module_3m
    out = tmp_path / "stats.json"
    res = subprocess.run(
        [sys.executable, str(_PATH), str(ckpt), "--map", "3m", "--episodes", "4", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "battles 4: won" in res.stdout and "distinct enemies shot per step" in res.stdout
    saved = json.loads(out.read_text())
    assert saved["summary"]["battles"] == 4 and len(saved["battles"]) == 4


def test_wrong_map_and_missing_network_are_clear_errors(module_3m, tmp_path):
    module, _ = module_3m
    with pytest.raises(SystemExit, match="pass the map it was trained on"):
        battle_stats.play(module, "8m", episodes=1, seed=0)
    with pytest.raises(SystemExit, match="no QMIX agent network"):
        battle_stats.module_dir(tmp_path)
