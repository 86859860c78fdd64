"""Exact resume: 2k iterations in one go == k iterations, save, restore in a fresh process, k more.

Everything that decides the next update is restored from the checkpoint: the learner's module
(agent, mixer, targets), the optimizer state, the learner's target-sync counter, QMIX's update
credit and counters, the replay buffer with its sampling RNG
(``store_replay_buffer_in_checkpoints=True``), the env runner's exploration RNG and epsilon
step count, and the episodes in progress (each env is replayed from its episode's seed with
the recorded actions, so mid-episode GRU states, last actions and partial episodes continue).
The test uses SMAC 3m, whose battles are random, with a rollout fragment shorter than a battle
so that episodes are in progress at the checkpoint, and a replay smaller than the run so that
the ring buffer wraps. Each run goes through a fresh Python process (like a driver restart).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.integration

K = 8  # iterations before the checkpoint and after it

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import ray
    from ray.rllib.algorithms.algorithm import Algorithm
    from ray.rllib.core import DEFAULT_MODULE_ID
    from rllib_qmix import QMIXConfig

    mode, k, path, out_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ray.init(address="local", num_cpus=1, include_dashboard=False, _node_ip_address="127.0.0.1")

    def config():
        return (
            QMIXConfig()
            .environment("smac", env_config={"map_name": "3m"})
            .env_runners(num_env_runners=0, num_envs_per_env_runner=2, rollout_fragment_length=12)
            .training(
                episode_batch_size=2, learning_starts=2, replay_capacity=3, target_update_interval=3,
                epsilon_start=1.0, epsilon_finish=0.05, epsilon_anneal_steps=400, agent_hidden_dim=16,
                mixing_embed_dim=8, hypernet_embed=16, store_replay_buffer_in_checkpoints=True,
            )
            .debugging(seed=7)
        )

    def summary(algo):
        state = algo.learner_group.get_state()["learner"]
        weights = state["rl_module"][DEFAULT_MODULE_ID]
        optim = next(iter(state["optimizer"].values()))["state"]["state"]
        runner = algo.env_runner
        return {
            "iteration": algo.iteration,
            "num_updates": algo._num_updates,
            "env_steps": algo.metrics.peek(("env_runners", "num_env_steps_sampled_lifetime")),
            "epsilon": runner.epsilon,
            "replay_added": algo.replay_buffer.num_added,
            "weights": {k: np.asarray(v).tolist() for k, v in weights.items()},
            "optim": {str(i): {n: np.asarray(t).tolist() for n, t in s.items()} for i, s in optim.items()},
            "episode_lengths_in_progress": None if runner._needs_reset else [len(b.actions) for b in runner._builders],
        }

    def write(name, out):
        json.dump(out, open(f"{out_dir}/{name}.json", "w"))

    if mode == "train":
        # The uninterrupted run, then (a separate algorithm) the run that is cut at k.
        algo = config().build_algo()
        for _ in range(2 * k):
            algo.train()
        write("continuous", summary(algo))
        algo.stop()
        algo = config().build_algo()
        for _ in range(k):
            algo.train()
        algo.save(path)
        write("first_half", summary(algo))
        algo.stop()
    else:
        algo = Algorithm.from_checkpoint(path)
        restored = summary(algo)
        for _ in range(k):
            algo.train()
        write("resumed", {**summary(algo), "restored": restored})
        algo.stop()
    """
)


def _run(tmp_path: Path, mode: str, ckpt: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(tmp_path / "run.py"), mode, str(K), str(ckpt), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]


def _max_diff(a: dict, b: dict) -> float:
    assert set(a) == set(b)
    return max(float(np.abs(np.asarray(a[k]) - np.asarray(b[k])).max()) for k in a)


def test_resume_in_fresh_process_is_bitwise_exact(tmp_path):
    (tmp_path / "run.py").write_text(SCRIPT)
    ckpt = tmp_path / "ckpt"
    _run(tmp_path, "train", ckpt)
    _run(tmp_path, "resume", ckpt)  # a fresh process, as after a driver crash
    continuous, first, resumed = (
        json.loads((tmp_path / f"{n}.json").read_text()) for n in ("continuous", "first_half", "resumed")
    )

    # The checkpoint was taken mid-episode, after learning started, with a wrapped replay.
    assert first["episode_lengths_in_progress"] and any(n > 0 for n in first["episode_lengths_in_progress"])
    assert first["num_updates"] > 0 and first["replay_added"] > 3  # more than the capacity: wrapped
    assert resumed["restored"]["episode_lengths_in_progress"] == first["episode_lengths_in_progress"]
    assert _max_diff(resumed["restored"]["weights"], first["weights"]) == 0.0

    # Training on from the checkpoint ends exactly where the uninterrupted run ends.
    assert continuous["num_updates"] > first["num_updates"]
    for key in ("iteration", "num_updates", "env_steps", "epsilon", "replay_added", "episode_lengths_in_progress"):
        assert resumed[key] == continuous[key], key
    assert _max_diff(resumed["weights"], continuous["weights"]) == 0.0
    assert set(resumed["optim"]) == set(continuous["optim"])
    for i in continuous["optim"]:
        assert _max_diff(resumed["optim"][i], continuous["optim"][i]) == 0.0
