"""The variant screen: arm specs, reading learning.py's logs, windowed tables, and a real launch."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.benchmarks._load import BENCHMARKS, load_benchmark

screen = load_benchmark("screen")
_PATH = BENCHMARKS / "screen.py"


def _log(example: str, seed: int, returns: list[float], every: int = 25_000, win: float = 0.0) -> str:
    lines = ["2026-11-26 07:31:29 INFO worker.py -- Started a local Ray instance."]
    for i, ret in enumerate(returns):
        lines.append(
            f"[{example} seed {seed}] env_steps={i * every}  minutes={i * 0.5}  eval_win_rate={win}  "
            f"eval_return={ret}  train_win_rate=None  train_return=nan  epsilon=0.05"
        )
    return "\n".join(lines) + "\n"


def test_arm_specs():
    assert screen.parse_arm("base") == ("base", [])
    assert screen.parse_arm("lam08:td_lambda=0.8, lr=0.0005") == ("lam08", ["td_lambda=0.8", "lr=0.0005"])
    for bad in ["", "a b:lr=1", "lam:td_lambda"]:
        with pytest.raises(SystemExit, match="--arm expects"):
            screen.parse_arm(bad)


def test_log_parsing_keeps_the_evaluation_points_only():
    points = screen.parse_log(_log("smac_mmm2", 3, [1.0, 2.5]) + "*** SIGTERM received ***\n")
    assert [p["env_steps"] for p in points] == [0, 25_000]
    assert points[1]["eval_return"] == 2.5
    assert points[0]["train_win_rate"] is None


def test_windows_average_evaluations_then_seeds(tmp_path):
    (tmp_path / "base.seed0.log").write_text(_log("smac", 0, [0, 1, 3, 5, 7]))  # to 100k
    (tmp_path / "base.seed1.log").write_text(_log("smac", 1, [0, 3, 5]))  # to 50k
    (tmp_path / "lam.seed0.log").write_text(_log("smac", 0, [0, 2, 2, 2, 2], win=0.25))
    (tmp_path / "notes.txt").write_text("not a log")
    summary = screen.summarize(screen.read_logs(tmp_path), window=50_000)
    base = summary["base"]
    assert base["env_steps_reached"] == {0: 100_000, 1: 50_000}
    first, second = base["windows"]
    # Window (0, 50k]: seed 0 has points at 25k, 50k -> 2.0; seed 1 -> 4.0.
    assert first["per_seed"] == {0: 2.0, 1: 4.0} and first["mean"] == 3.0 and first["range"] == [2.0, 4.0]
    assert second["per_seed"] == {0: 6.0}  # seed 1 did not reach 100k: left out, not counted as 0
    assert summary["lam"]["best_eval_win_rate"] == 0.25


def test_no_logs_is_an_error(tmp_path):
    (tmp_path / "base.seed0.log").write_text("Ray started, then killed before its first evaluation\n")
    with pytest.raises(SystemExit, match="no evaluation points"):
        screen.read_logs(tmp_path)


def test_table_from_logs_cli(tmp_path):
    (tmp_path / "base.seed0.log").write_text(_log("smac", 0, [1, 2, 3]))
    (tmp_path / "screen.json").write_text(json.dumps({"arms": {"base": []}}))
    tag = "t"
    out = tmp_path / "out" / f"screen_smac_{tag}.json"
    try:
        res = subprocess.run(
            [
                sys.executable,
                str(_PATH),
                "smac",
                "--from-logs",
                str(tmp_path),
                "--tag",
                tag,
                "--window",
                "25000",
                "--out",
                str(tmp_path / "out"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert res.returncode == 0, res.stderr
        assert "25-50k" in res.stdout and "2.00 [2.0, 2.0] n=1" in res.stdout
        saved = json.loads(out.read_text())
        assert saved["arms"]["base"]["settings"] == [] and saved["window"] == 25_000
    finally:
        out.unlink(missing_ok=True)


def test_launch_stops_every_run_at_the_wall_limit(tmp_path):
    """Two real learning.py runs (3m) with a budget far beyond the limit: both are cut, both leave a curve."""
    start = time.monotonic()
    screen.launch(
        "smac",
        [("base", []), ("lr", ["lr=0.001"])],
        [0],
        [],
        tmp_path,
        tmp_path / "out",
        wall_limit=45,
        eval_every=500,
        eval_episodes=1,
        max_steps=10_000_000,
    )
    assert time.monotonic() - start < 45 + 40
    curves = screen.read_logs(tmp_path)
    assert set(curves) == {"base", "lr"} and all(curves[a][0] for a in curves)
    assert json.loads((tmp_path / "screen.json").read_text())["arms"] == {"base": [], "lr": ["lr=0.001"]}
    assert not list((tmp_path / "out").glob("learning_smac_screen_*.partial.json"))
