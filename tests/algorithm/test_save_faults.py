"""Faults while saving: a driver killed mid-save, a disk that fills, a copy cut short.

A local QMIX save writes to a hidden ``.NAME.partial-*`` directory, ends with the manifest
``qmix_checkpoint.json`` and renames the directory to NAME (``checkpoints.write_checkpoint``).
"""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from rllib_qmix import QMIX
from rllib_qmix.algorithm import checkpoints
from rllib_qmix.algorithm.checkpoints import CheckpointError, CheckpointSpaceError, check_qmix_checkpoint
from rllib_qmix.cli.main import find_checkpoint
from rllib_qmix.learning.replay import EpisodeReplayBuffer
from tests.algorithm.crash_in_save import POINTS, agent_weights
from tests.algorithm.test_qmix import two_step_config
from tests.cli.test_cli import REPO, _env, run_cli, write_yaml

pytestmark = pytest.mark.integration


def _assert_weights_equal(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.mark.parametrize("point", POINTS)
def test_driver_killed_mid_save_leaves_previous_checkpoint_intact(ray_local, tmp_path, point):
    proc = subprocess.run(
        [sys.executable, "-m", "tests.algorithm.crash_in_save", point, str(tmp_path)],
        env=_env(),
        cwd=str(REPO),
        capture_output=True,
        text=True,
        timeout=300,
        start_new_session=True,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
    assert "saving ckpt_b" in proc.stdout

    # The new checkpoint never appears under its name; what was written is in a partial directory.
    assert not (tmp_path / "ckpt_b").exists()
    partial = list(tmp_path.glob(".ckpt_b.partial-*"))
    assert len(partial) == 1, sorted(os.listdir(tmp_path))
    assert not checkpoints.is_complete_checkpoint(partial[0])
    with pytest.raises(CheckpointError, match="is a partial QMIX checkpoint: a save into it was interrupted"):
        QMIX.from_checkpoint(partial[0])

    # The previous one is complete and restores the weights it was saved with, replay included.
    assert check_qmix_checkpoint(tmp_path / "ckpt_a", QMIX) == tmp_path / "ckpt_a"
    assert find_checkpoint(str(tmp_path)) == str(tmp_path / "ckpt_a")
    saved = dict(np.load(tmp_path / "weights_a.npz"))
    algo = QMIX.from_checkpoint(tmp_path / "ckpt_a")
    try:
        _assert_weights_equal(agent_weights(algo), saved)
        assert len(algo.replay_buffer) > 0
        algo.train()
    finally:
        algo.stop()
    print(f"\nfigure: driver killed mid-save ({point}) | previous checkpoint intact, restored exactly")


@pytest.fixture
def trained(ray_local, tmp_path):
    algo = two_step_config(store_replay_buffer_in_checkpoints=True).build_algo()
    for _ in range(3):
        algo.train()
    previous = Path(algo.save_to_path(tmp_path / "previous"))
    yield algo, previous
    algo.stop()


def test_disk_too_full_is_refused_before_writing(trained, tmp_path, monkeypatch):
    algo, previous = trained
    before = agent_weights(algo)
    usage = checkpoints.shutil.disk_usage(tmp_path)
    monkeypatch.setattr(checkpoints.shutil, "disk_usage", lambda p: usage._replace(free=4096))
    target = tmp_path / "full"
    with pytest.raises(CheckpointSpaceError) as info:
        algo.save_to_path(target)
    message = str(info.value)
    assert info.value.errno == errno.ENOSPC
    assert f"Not enough disk space to save the QMIX checkpoint at {target}: it needs about" in message
    need = float(re.search(r"needs about ([\d,.]+) MB", message).group(1).replace(",", ""))
    assert need >= algo.replay_buffer.saved_nbytes() / 2**20 > 0  # the replay is counted
    assert "0.0 MB are free there (checked before writing; nothing was written)" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["previous"]
    _assert_weights_equal(agent_weights(algo), before)


def test_disk_filling_during_save_cleans_up_and_keeps_training(trained, tmp_path, monkeypatch):
    algo, previous = trained
    before = agent_weights(algo)
    steps_before = len(algo.replay_buffer)
    previous_files = {p: p.stat().st_size for p in previous.rglob("*") if p.is_file()}

    def fill_up(self, directory: Path) -> None:
        directory.mkdir(parents=True)
        name = directory / "obs.bin"
        name.write_bytes(b"\0" * 1000)
        raise OSError(errno.ENOSPC, "No space left on device", str(name))

    monkeypatch.setattr(EpisodeReplayBuffer, "save_to_dir", fill_up)
    target = tmp_path / "filled"
    with pytest.raises(CheckpointSpaceError, match=r"the disk filled while writing .*obs\.bin") as info:
        algo.save_to_path(target)
    assert str(target) in str(info.value) and "training state are unchanged" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["previous"]  # no partial left behind
    assert {p: p.stat().st_size for p in previous.rglob("*") if p.is_file()} == previous_files
    _assert_weights_equal(agent_weights(algo), before)
    assert len(algo.replay_buffer) == steps_before

    # Training goes on, and with space again the save works and restores.
    monkeypatch.undo()
    algo.train()
    path = algo.save_to_path(target)
    assert checkpoints.is_complete_checkpoint(path)


def test_save_over_an_existing_checkpoint_replaces_it(trained):
    algo, previous = trained
    algo.train()
    after = agent_weights(algo)
    assert algo.save_to_path(previous) == str(previous)
    assert [p.name for p in previous.parent.iterdir() if p.name.startswith(".")] == []
    restored = QMIX.from_checkpoint(previous)
    try:
        _assert_weights_equal(agent_weights(restored), after)
    finally:
        restored.stop()


def test_cli_killed_mid_copy_to_storage_resumes_from_last_complete(tmp_path):
    """Tune copies each checkpoint from the trial's temporary directory to the storage path; a run
    killed half-way through copying its 3rd checkpoint leaves a partial checkpoint_000002 there.
    `rllib evaluate` skips it, restoring it names it incomplete, and `--resume` continues from the
    last complete one."""
    yaml_path = write_yaml(
        tmp_path / "exp.yaml",
        textwrap.dedent("""\
        crashy:
          run: tests.algorithm.crash_in_save:CrashInSaveQMIX
          env: two_step_game
          stop: {training_iteration: 12}
          checkpoint_freq: 2
          config:
            num_env_runners: 0
            num_envs_per_env_runner: 4
            rollout_fragment_length: 2
            episode_batch_size: 8
            learning_starts: 8
            store_replay_buffer_in_checkpoints: true
        """),
    )
    storage = tmp_path / "results"
    cmd = [sys.executable, "-m", "rllib_qmix.cli.main", "train", "file", str(yaml_path), "--storage-path", str(storage)]
    pgid_file = tmp_path / "pgid"
    env = {**_env(), "QMIX_CRASH_AT_SAVE": "3", "QMIX_CRASH_PGID_FILE": str(pgid_file)}
    crashed = subprocess.Popen(
        [*cmd, "-v"],
        env=env,
        cwd=str(REPO),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    pgid_file.write_text(str(crashed.pid))  # its own session: the group id is its pid
    try:
        text, _ = crashed.communicate(timeout=240)
    finally:
        if crashed.poll() is None:
            os.killpg(crashed.pid, signal.SIGKILL)
    assert crashed.returncode == -signal.SIGKILL, text
    trial = next((storage / "crashy").glob("*CrashInSaveQMIX*"))
    partial, complete = trial / "checkpoint_000002", trial / "checkpoint_000001"
    assert partial.is_dir() and not checkpoints.is_complete_checkpoint(partial)
    with pytest.raises(CheckpointError, match="is (incomplete|damaged)"):
        check_qmix_checkpoint(partial, QMIX)
    assert checkpoints.is_complete_checkpoint(complete)

    evaluated = run_cli("evaluate", str(trial), "--episodes", "1")
    assert evaluated.returncode == 0, evaluated.stdout + evaluated.stderr
    assert f"note: skipping incomplete checkpoint {partial}" in evaluated.stderr
    assert "checkpoint_000001" in evaluated.stdout + evaluated.stderr

    resumed = subprocess.run(
        [*cmd, "--resume", "-v"], env=_env(), cwd=str(REPO), capture_output=True, text=True, timeout=240
    )
    text = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, text
    first = re.search(r"iter +(\d+) \| steps +(\d+) \|", text)
    assert first is not None, text
    resumed_from = int(first.group(1)) - 1
    assert resumed_from in (2, 4), text  # from checkpoint_000000 or _000001, never the partial
    assert "iter   12 |" in text, text
    print(
        f"\nfigure: run killed mid-copy to storage | resumed from iteration {resumed_from} "
        f"(killed while saving iteration 6), {6 - resumed_from} iterations repeated"
    )
