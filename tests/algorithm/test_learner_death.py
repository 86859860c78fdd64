"""A learner actor that dies (``num_learners=2``): the run stops with one clear error and
resumes exactly from its last checkpoint (RLlib 2.60 does not restart learner actors)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from rllib_qmix import QMIX, LearnerDiedError
from tests.algorithm.crash_in_save import agent_weights, learner_pids
from tests.algorithm.test_qmix import two_step_config
from tests.cli.test_cli import REPO, _env, write_yaml

pytestmark = pytest.mark.integration


def test_dead_learner_stops_training_with_one_error_and_resumes_exactly(ray_local, tmp_path):
    config = two_step_config(store_replay_buffer_in_checkpoints=True).learners(num_learners=2, num_cpus_per_learner=0)
    algo = config.build_algo()
    try:
        for _ in range(3):
            algo.train()
        path = algo.save_to_path(tmp_path / "ckpt")
        saved = agent_weights(algo)
        replay_saved = len(algo.replay_buffer)
        pids = learner_pids(algo)
        assert len(set(pids)) == 2 and os.getpid() not in pids
        os.kill(pids[1], signal.SIGKILL)
        time.sleep(1.0)
        with pytest.raises(LearnerDiedError) as info:
            algo.train()
        message = str(info.value)
        assert message.startswith("QMIX training iteration 4: learner 1 of 2 died. ")
        assert "does not restart learner actors" in message
        assert "`rllib train file EXP.yaml --resume`, `Algorithm.from_checkpoint(path)`" in message
    finally:
        algo.stop()

    restored = QMIX.from_checkpoint(path)
    try:
        assert restored.iteration == 3
        assert len(restored.replay_buffer) == replay_saved
        weights = agent_weights(restored)
        for k in saved:
            np.testing.assert_array_equal(weights[k], saved[k], err_msg=k)
        assert restored.config.num_learners == 2
        result = restored.train()
        assert result["training_iteration"] == 4
    finally:
        restored.stop()


def test_cli_trial_with_max_failures_restarts_from_checkpoint_after_learner_death(tmp_path):
    yaml_path = write_yaml(
        tmp_path / "exp.yaml",
        textwrap.dedent("""\
        learner_dies:
          run: tests.algorithm.crash_in_save:KillLearnerQMIX
          env: two_step_game
          stop: {training_iteration: 8}
          checkpoint_freq: 2
          max_failures: 1
          config:
            num_env_runners: 0
            num_envs_per_env_runner: 4
            rollout_fragment_length: 2
            episode_batch_size: 8
            learning_starts: 8
            num_learners: 2
            num_cpus_per_learner: 0.5
        """),
    )
    env = {**_env(), "QMIX_KILL_LEARNER_AT": "6", "QMIX_KILL_LEARNER_MARK": str(tmp_path / "killed")}
    cmd = [sys.executable, "-m", "rllib_qmix.cli.main", "train", "file", str(yaml_path)]
    proc = subprocess.run(
        [*cmd, "--storage-path", str(tmp_path / "results"), "-v"],
        env=env,
        cwd=str(REPO),
        capture_output=True,
        text=True,
        timeout=300,
    )
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text
    assert (tmp_path / "killed").read_text() == "5"  # killed before iteration 6
    assert "LearnerDiedError: QMIX training iteration 6: learner 1 of 2 died" in text
    # Tune restarted the trial from its checkpoint of iteration 4, and it ran to the end.
    iters = [int(m) for m in re.findall(r"iter +(\d+) \|", text)]
    assert iters[:5] == [1, 2, 3, 4, 5] and iters[5:] == [5, 6, 7, 8], iters
    print(
        f"\nfigure: learner actor died (max_failures=1) | trial restarted from iteration {iters[5] - 1}, "
        f"{iters[4] - iters[5] + 1} iteration(s) repeated"
    )
