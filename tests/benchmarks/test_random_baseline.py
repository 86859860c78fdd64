"""The random-policy baseline: the two-step game's expected random return, computed by hand."""

from __future__ import annotations

import pytest

from tests.benchmarks._load import load_benchmark

baseline = load_benchmark("random_baseline")


def test_random_return_of_the_two_step_game_is_the_hand_value():
    # Agent 1's first action picks 2A (pays 7) or 2B ([[0, 1], [1, 8]]), each with p = 1/2:
    # 0.5 * 7 + 0.5 * (0 + 1 + 1 + 8) / 4 = 4.75. Standard error over 4000 episodes ~0.04.
    row = baseline.random_returns("two_step_game", episodes=4000, seed=0)
    assert row["return_mean"] == pytest.approx(4.75, abs=0.15)
    assert row["episode_len_mean"] == 2.0 and row["win_rate"] is None


def test_the_iteration_cap_plays_fewer_episodes(tmp_path, monkeypatch, capsys):
    import json
    import sys

    monkeypatch.setenv("RLLIB_QMIX_MAX_ITERATIONS", "3")
    argv = ["random_baseline.py", "two_step_game", "--episodes", "200", "--out", str(tmp_path)]
    monkeypatch.setattr(sys, "argv", argv)
    baseline.main()
    assert "RLLIB_QMIX_MAX_ITERATIONS=3: 3 episodes per env instead of 200" in capsys.readouterr().out
    (row,) = json.loads((tmp_path / "random_baseline.json").read_text())["rows"]
    assert row["episodes"] == 3
