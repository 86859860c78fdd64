"""Confirmed target stops: an evaluation that reaches a target is measured again before a stop."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from rllib_qmix import QMIX, QMIXConfig
from rllib_qmix.algorithm.confirm import (
    CONFIRMABLE,
    check_confirm_settings,
    episode_metrics,
    lookup,
    targets_met,
)
from rllib_qmix.cli.experiment import CLIError, confirm_stops, experiment_from_dict
from rllib_qmix.sampling.episode import TeamEpisode
from tests.algorithm.lucky_env import LuckyGame

RETURN = "env_runners/episode_return_mean"


def _episode(rewards: list[float], info: dict) -> TeamEpisode:
    n = len(rewards)
    return TeamEpisode(
        obs=np.zeros((n + 1, 2, 1)),
        state=np.zeros((n + 1, 1)),
        avail=np.ones((n + 1, 2, 2), bool),
        actions=np.zeros((n, 2), int),
        rewards=np.asarray(rewards, float),
        terminated=True,
        truncated=False,
        info=info,
    )


def test_episode_metrics_by_hand():
    eps = [
        _episode([1.0, 2.0], {"battle_won": True}),
        _episode([0.0], {"battle_won": False}),
        _episode([4.0, 0.0, 1.0], {}),
    ]
    out = episode_metrics(eps)["env_runners"]
    assert out["num_episodes"] == 3
    assert out["episode_return_mean"] == pytest.approx((3 + 0 + 5) / 3)
    assert out["episode_len_mean"] == pytest.approx((2 + 1 + 3) / 3)
    assert out["battle_won_mean"] == pytest.approx(0.5)  # over the 2 episodes that report it
    assert episode_metrics([]) == {"env_runners": {"num_episodes": 0}}


def test_lookup_and_targets_met():
    results = {"env_runners": {"battle_won_mean": 0.95, "episode_return_mean": float("nan")}}
    assert lookup(results, "env_runners/battle_won_mean") == 0.95
    assert lookup(results, RETURN) is None and lookup(results, "nope/x") is None
    targets = {"env_runners/battle_won_mean": 0.95, RETURN: 0.0}
    assert targets_met(results, targets) == ["env_runners/battle_won_mean"]
    assert targets_met(results, {"env_runners/battle_won_mean": 0.96}) == []


@pytest.mark.parametrize(
    "targets,episodes,match",
    [
        ({}, 0, "`confirm_episodes` must be an integer >= 1, got 0"),
        ({}, True, "`confirm_episodes` must be an integer >= 1"),
        ([0.9], 128, "`confirm_targets` must be a dict"),
        ({"evaluation/env_runners/battle_won_mean": 0.9}, 128, "a confirmation measures"),
        ({"env_runners/battle_won_mean": "high"}, 128, "must be a number"),
    ],
)
def test_bad_confirm_settings(targets, episodes, match):
    assert match in check_confirm_settings(targets, episodes)
    with pytest.raises(ValueError, match=match.replace("[", r"\[")):
        QMIXConfig().environment("two_step_game").evaluation(
            confirm_targets=targets, confirm_episodes=episodes
        ).validate()


def test_confirm_stops_moves_evaluation_targets():
    config, stop = confirm_stops(
        QMIX,
        {"lr": 1e-3},
        {"evaluation/env_runners/battle_won_mean": 0.95, "num_env_steps_sampled_lifetime": 500_000},
    )
    assert config == {"lr": 1e-3, "confirm_targets": {"env_runners/battle_won_mean": 0.95}}
    assert stop == {"evaluation/confirmed/env_runners/battle_won_mean": 0.95, "num_env_steps_sampled_lifetime": 500_000}
    # A config that sets confirm_targets itself ({} = off) keeps its stops; so does another algorithm.
    same = {"evaluation/env_runners/battle_won_mean": 0.95}
    assert confirm_stops(QMIX, {"confirm_targets": {}}, same) == ({"confirm_targets": {}}, same)
    from ray.rllib.algorithms.ppo import PPO

    assert confirm_stops(PPO, {}, same) == ({}, same)
    assert all(key.startswith("env_runners/") for key in CONFIRMABLE)


def test_every_tuned_example_with_a_greedy_target_confirms_it():
    """Each tuned example whose stop has an evaluation win rate stops on its confirmation."""
    import glob

    import yaml

    found = 0
    for path in sorted(glob.glob("tuned_examples/*.yaml")):
        for name, entry in yaml.safe_load(open(path)).items():
            target = (entry.get("stop") or {}).get("evaluation/env_runners/battle_won_mean")
            if target is None:
                continue
            found += 1
            spec = experiment_from_dict(name, entry)
            assert spec.stop["evaluation/confirmed/env_runners/battle_won_mean"] == target, path
            assert "evaluation/env_runners/battle_won_mean" not in spec.stop, path
            assert spec.param_space["confirm_targets"] == {"env_runners/battle_won_mean": target}, path
    assert found >= 3


def test_bad_confirm_episodes_in_a_yaml_is_one_clear_error():
    entry = {
        "run": "QMIX",
        "env": "two_step_game",
        "stop": {"evaluation/env_runners/episode_return_mean": 8},
        "config": {"confirm_episodes": 0},
    }
    with pytest.raises(CLIError, match="`confirm_episodes` must be an integer >= 1, got 0"):
        experiment_from_dict("x", entry)


def _lucky_config(lucky_episodes: int) -> QMIXConfig:
    return (
        QMIXConfig()
        .environment(LuckyGame, env_config={"lucky_episodes": lucky_episodes})
        .env_runners(num_env_runners=0, num_envs_per_env_runner=4, rollout_fragment_length=1)
        .training(episode_batch_size=4, learning_starts=4)
        .evaluation(
            evaluation_interval=1,
            evaluation_duration=4,
            evaluation_duration_unit="episodes",
            confirm_targets={RETURN: 1.0},
            confirm_episodes=16,
        )
        .debugging(seed=0)
    )


def test_a_lucky_evaluation_is_not_confirmed(ray_local):
    """The first evaluation (each env's first episode) returns 1; its confirmation (16 more
    episodes on the same envs) returns 0 and leaves the regular evaluation metrics alone."""
    algo = _lucky_config(lucky_episodes=1).build_algo()
    try:
        first = algo.evaluate()
        assert first["env_runners"]["episode_return_mean"] == 1.0
        assert first["confirmed"]["env_runners"] == {
            "num_episodes": 16,
            "episode_return_mean": 0.0,
            "episode_len_mean": 1.0,
        }
        second = algo.evaluate()
        # The 16 confirmation episodes are in no regular count: 4 episodes of 1 step each.
        runners = second["env_runners"]
        assert (runners["num_episodes"], runners["num_env_steps_sampled"]) == (4, 4)
        assert runners["episode_return_mean"] == 0.0
        assert "confirmed" not in second  # no target met: no confirmation
    finally:
        algo.stop()


def test_a_target_that_holds_is_confirmed(ray_local):
    algo = _lucky_config(lucky_episodes=10**6).build_algo()
    try:
        result = algo.train()
        assert result["evaluation"]["env_runners"]["episode_return_mean"] == 1.0
        assert result["evaluation"]["confirmed"]["env_runners"]["episode_return_mean"] == 1.0
        assert result["evaluation"]["confirmed"]["env_runners"]["num_episodes"] == 16
    finally:
        algo.stop()


_YAML = """\
lucky:
  run: QMIX
  env: tests.algorithm.lucky_env.LuckyGame
  env_config: {{lucky_episodes: {lucky}}}
  stop:
    evaluation/env_runners/episode_return_mean: 1.0
    training_iteration: 3
  checkpoint_at_end: true
  config:
    num_env_runners: 0
    num_envs_per_env_runner: 4
    rollout_fragment_length: 1
    episode_batch_size: 4
    learning_starts: 4
    evaluation_interval: 1
    evaluation_duration: 4
    evaluation_duration_unit: episodes
    confirm_episodes: 16
"""


# The lucky case through the CLI under -m slow: test_a_lucky_evaluation_is_not_confirmed pins it
# in the algorithm, and the confirmed case shows the CLI stops on the confirmed metric.
@pytest.mark.parametrize(
    "lucky,stops_at", [pytest.param(1, 3, marks=pytest.mark.slow), (10**6, 1)], ids=["lucky", "confirmed"]
)
def test_rllib_train_file_stops_only_on_a_confirmed_target(lucky, stops_at, tmp_path, ray_local):
    """Through ``rllib train file``: a lucky first evaluation (return 1, confirmation 0) does not
    stop the run, which goes on to its iteration limit; a target that holds stops at its first
    evaluation. Either way the final checkpoint is the last iteration's, the one whose target
    was confirmed where the run stopped on it."""
    from tests.cli.test_cli import _trial_dir, run_cli, write_yaml

    path = write_yaml(tmp_path / "lucky.yaml", textwrap.dedent(_YAML.format(lucky=lucky)))
    storage = tmp_path / "results"
    proc = run_cli("train", "file", str(path), "--storage-path", str(storage), "-v")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    trial = _trial_dir(storage, "lucky")
    rows = [json.loads(line) for line in (trial / "result.json").read_text().splitlines()]
    assert [r["training_iteration"] for r in rows] == list(range(1, stops_at + 1))
    first = rows[0]["evaluation"]
    assert first["env_runners"]["episode_return_mean"] == 1.0
    assert first["confirmed"]["env_runners"]["episode_return_mean"] == (0.0 if lucky == 1 else 1.0)
    if lucky != 1:
        assert "reached the stop evaluation/confirmed/env_runners/episode_return_mean >= 1" in proc.stdout
        # What a user runs on the checkpoint left behind measures the target again.
        evaluated = run_cli("evaluate", str(trial), "--episodes", "8")
        assert evaluated.returncode == 0, evaluated.stdout + evaluated.stderr
        assert "return:     1.00" in evaluated.stdout, evaluated.stdout
    checkpoint = sorted(trial.glob("checkpoint_*"))[-1]
    algo = QMIX.from_checkpoint(str(checkpoint))
    try:
        assert algo.iteration == stops_at
    finally:
        algo.stop()
