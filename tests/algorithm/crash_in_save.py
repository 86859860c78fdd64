"""Fault injection for the save tests: a driver SIGKILLed in the middle of writing a checkpoint.

``python -m tests.algorithm.crash_in_save POINT ROOT`` trains a small QMIX (replay saved in
checkpoints), saves ``ROOT/ckpt_a``, writes its agent weights to ``ROOT/weights_a.npz``, trains
on, and saves ``ROOT/ckpt_b`` with a SIGKILL of its whole process group at POINT:

* ``state``: after RLlib wrote the metadata files, while QMIX's state is gathered;
* ``learner``: after the learner group's files, before the algorithm's state file;
* ``replay``: half-way through the replay buffer's first file;
* ``publish``: with every file and the manifest written, before the rename.

Also used by the CLI test: ``CrashInSaveQMIX`` (``run: tests.algorithm.crash_in_save:CrashInSaveQMIX``)
kills the run (the process group in the file ``QMIX_CRASH_PGID_FILE``) in the middle of Tune's
copy of its checkpoint number ``QMIX_CRASH_AT_SAVE`` to the storage path.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import numpy as np

from rllib_qmix import QMIX

POINTS = ("state", "learner", "replay", "publish")


def die() -> None:
    """SIGKILL this process's group: the driver and the Ray it started, at once."""
    sys.stdout.flush()
    os.killpg(os.getpgrp(), signal.SIGKILL)


def agent_weights(algo: QMIX) -> dict[str, np.ndarray]:
    state = algo.learner_group.get_state(components="learner/rl_module")["learner"]["rl_module"]
    return {k: np.asarray(v) for k, v in state["default_policy"].items()}


def arm(point: str) -> None:
    """Patches the save path so that the next save dies at ``point``."""
    from ray.rllib.core.learner.learner_group import LearnerGroup

    from rllib_qmix.algorithm import checkpoints
    from rllib_qmix.learning.replay import EpisodeReplayBuffer

    if point == "state":
        original_get_state = QMIX.get_state
        QMIX.get_state = lambda self, *a, **k: die() or original_get_state(self, *a, **k)
    elif point == "learner":
        original_save = LearnerGroup.save_to_path

        def save_then_die(self, *a, **k):
            original_save(self, *a, **k)
            die()

        LearnerGroup.save_to_path = save_then_die
    elif point == "replay":

        def half_then_die(self, directory: Path) -> None:
            directory.mkdir(parents=True, exist_ok=True)
            key, arr = next(iter(self._data.items()))
            with open(directory / f"{key}.bin", "wb") as f:
                f.write(memoryview(arr[: max(self.size // 2, 1)]).cast("B"))
                f.flush()
            die()

        EpisodeReplayBuffer.save_to_dir = half_then_die
    elif point == "publish":
        checkpoints.publish_checkpoint = lambda tmp, final: die()
    else:
        raise ValueError(f"unknown point {point!r}; one of {POINTS}")


def main(point: str, root: str) -> None:
    from tests.algorithm.test_qmix import two_step_config

    root_path = Path(root)
    algo = two_step_config(store_replay_buffer_in_checkpoints=True).build_algo()
    for _ in range(3):
        algo.train()
    algo.save_to_path(root_path / "ckpt_a")
    np.savez(root_path / "weights_a.npz", **agent_weights(algo))
    for _ in range(2):
        algo.train()
    arm(point)
    print("saving ckpt_b", flush=True)
    algo.save_to_path(root_path / "ckpt_b")
    print("ckpt_b saved: the crash did not happen", flush=True)
    sys.exit(3)


class CrashInSaveQMIX(QMIX):
    """QMIX whose run dies half-way through Tune's copy of save number ``QMIX_CRASH_AT_SAVE``
    (1-based) to the storage path, leaving a partial ``checkpoint_00000N`` there."""

    _saves = 0

    def save_checkpoint(self, checkpoint_dir: str) -> None:
        super().save_checkpoint(checkpoint_dir)
        type(self)._saves += 1
        if str(type(self)._saves) == os.environ.get("QMIX_CRASH_AT_SAVE"):  # unset: no crash
            _copy_half_then_die()


def _copy_half_then_die() -> None:
    """Makes Tune's next copy of a checkpoint to storage copy half of the files, then die."""
    import shutil

    from ray.train._internal import storage

    def half_copy(source, destination, **kwargs) -> None:
        files = sorted(p for p in Path(source).rglob("*") if p.is_file())
        for p in files[: len(files) // 2]:
            target = Path(destination) / p.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, target)
        # Ray's workers have their own process group: kill the CLI's, which the test wrote down.
        pgid = int(Path(os.environ["QMIX_CRASH_PGID_FILE"]).read_text())
        os.killpg(pgid, signal.SIGKILL)

    storage._pyarrow_fs_copy_files = half_copy


def learner_pids(algo: QMIX) -> list[int]:
    """The process ids of ``algo``'s remote learners, by rank."""
    return [r.get() for r in algo.learner_group._worker_manager.foreach_actor(lambda w: os.getpid())]


class KillLearnerQMIX(QMIX):
    """QMIX that SIGKILLs its learner of rank 1 before training iteration ``QMIX_KILL_LEARNER_AT``,
    once per run (the marker file ``QMIX_KILL_LEARNER_MARK`` records that it happened)."""

    def training_step(self) -> None:
        mark = Path(os.environ.get("QMIX_KILL_LEARNER_MARK", "/nonexistent/mark"))
        if str(self.iteration + 1) == os.environ.get("QMIX_KILL_LEARNER_AT") and not mark.exists():
            mark.write_text(str(self.iteration))
            os.kill(learner_pids(self)[1], signal.SIGKILL)
            import time

            time.sleep(1.0)  # let Ray see the death
        super().training_step()


if __name__ == "__main__":
    main(*sys.argv[1:3])
