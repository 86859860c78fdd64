"""``rllib train --resume``: a run stopped by Ctrl-C, or one that reached its stop, continues
to the stop given now; a config that changed since is refused. (A crashed driver's resume is in
test_cli.py.)"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.cli.test_cli import REPO, _env, run_cli

pytestmark = pytest.mark.integration

CONFIG = {
    "num_env_runners": 0,
    "num_envs_per_env_runner": 8,
    "rollout_fragment_length": 2,
    "episode_batch_size": 8,
    "learning_starts": 8,
}


def _train(storage, *extra: str) -> list[str]:
    return [
        "train",
        "--algo",
        "QMIX",
        "--env",
        "two_step_game",
        "--name",
        "ctrl-c",
        "--storage-path",
        str(storage),
        "-v",  # a line per iteration
        *extra,
    ]


def _iterations(text: str) -> list[int]:
    return [int(m) for m in re.findall(r"\] iter +(\d+) \|", text)]


def test_resume_after_ctrl_c_and_after_a_reached_stop(tmp_path) -> None:
    storage = tmp_path / "results"
    args = _train(storage, "--config", json.dumps(CONFIG), "--stop", '{"training_iteration": 100000}')
    proc = subprocess.Popen(
        [sys.executable, "-m", "rllib_qmix.cli.main", *args],
        env=_env(),
        cwd=str(REPO),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    out, deadline = [], time.time() + 180
    try:
        for line in proc.stdout:  # Ctrl-C in a terminal: SIGINT to the whole process group
            out.append(line)
            if "] iter    5 |" in line:
                os.killpg(proc.pid, signal.SIGINT)
            assert time.time() < deadline, "".join(out)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    text = "".join(out)
    assert proc.returncode == 0, text
    assert "Stopped by Ctrl-C" in text
    stopped_at = _iterations(text)[-1]
    assert f"finished at iteration {stopped_at}, {16 * stopped_at:,d} env steps: stopped by Ctrl-C" in text

    # Ctrl-C'd: --resume trains on, from the checkpoint written at the Ctrl-C, to the new stop.
    target = stopped_at + 4
    resumed = run_cli(
        *_train(
            storage, "--config", json.dumps(CONFIG), "--resume", "--stop", json.dumps({"training_iteration": target})
        )
    )
    text = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, text
    assert _iterations(text) == list(range(stopped_at + 1, target + 1)), text
    first = re.search(r"\] iter +\d+ \| steps +([\d,]+) \|", text)
    assert first is not None and int(first.group(1).replace(",", "")) == 16 * (stopped_at + 1), text
    assert f"reached the stop training_iteration >= {target} ({target})" in text

    # It reached that stop: a larger one trains on again.
    resumed = run_cli(
        *_train(
            storage,
            "--config",
            json.dumps(CONFIG),
            "--resume",
            "--stop",
            json.dumps({"training_iteration": target + 2}),
        )
    )
    text = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, text
    assert _iterations(text) == [target + 1, target + 2], text

    # The same stop again: nothing to train, said so, no iteration.
    again = run_cli(
        *_train(
            storage,
            "--config",
            json.dumps(CONFIG),
            "--resume",
            "--stop",
            json.dumps({"training_iteration": target + 2}),
        )
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "every trial already meets the stop criteria" in again.stdout and not _iterations(again.stdout)

    # A resumed trial runs the config it started with: a changed one is refused, not ignored.
    changed = run_cli(
        *_train(
            storage, "--config", json.dumps({**CONFIG, "lr": 0.1}), "--resume", "--stop", '{"training_iteration": 99}'
        )
    )
    assert changed.returncode == 2, changed.stdout + changed.stderr
    (line,) = [ln for ln in changed.stderr.splitlines() if ln.startswith("rllib train: error:")]
    assert "config now differs: lr (was" in line and "now 0.1)" in line
