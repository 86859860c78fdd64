"""A complete copy of Tune's experiment state, so that ``--resume`` survives a kill mid-write.

Tune records an experiment's trials and their checkpoints in ``experiment_state-*.json`` (and
its trial generator's in ``basic-variant-state-*.json``) in the experiment folder, rewriting
them after results by copying them there from the driver's staging folder. The copy is not
atomic: a driver killed while it runs (SIGKILL, a lost machine) leaves a file cut short, and
Tune's restore then starts the whole experiment over from scratch.

While ``rllib train`` runs, :class:`StateKeeper` keeps the last complete version of each such
file beside it (``.complete-<name>``, written atomically). ``--resume`` calls
:func:`repair_cut_state` first: a cut-short state file is replaced by its complete copy (the
trials then continue from the checkpoints it lists, at most a result or two older than the
newest); without a copy, an earlier session's whole file is used, and without one either the
resume is refused with what to do instead of starting over.
"""

from __future__ import annotations

import glob
import json
import os
import pickle
from typing import Optional

from ray.tune import Callback

#: The prefix of the complete copy, beside the state file it copies.
COPY_PREFIX = ".complete-"


class CutStateError(RuntimeError):
    """Tune's experiment state is cut short, with no complete copy and no earlier session's."""


#: Tune's state files in an experiment folder (one per session, named by its start time).
STATE_FILES = ("experiment_state-*.json", "basic-variant-state-*.json")


def _sessions(path: str, pattern: str) -> list[str]:
    """The state files of one kind, oldest first (named by their session's start time; a
    restore reads the last)."""
    return sorted(glob.glob(os.path.join(path, pattern)))


def _newest_states(path: str) -> list[str]:
    """The newest file of each kind in ``STATE_FILES``: the ones a restore reads."""
    return [files[-1] for files in (_sessions(path, pattern) for pattern in STATE_FILES) if files]


def _read_complete(file: str) -> Optional[bytes]:
    """The file's content if it is whole, else None. Tune writes its trial state as JSON and
    its trial generator's as a pickle (under a ``.json`` name); either must load."""
    try:
        with open(file, "rb") as f:
            data = f.read()
        if data.startswith(b"\x80"):  # a pickle's protocol opcode
            pickle.loads(data)
        else:
            json.loads(data)
    except Exception:  # cut short: a JSON or unpickling error of any kind
        return None
    return data


def _write_atomically(file: str, data: bytes) -> None:
    tmp = f"{file}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, file)


class StateKeeper(Callback):
    """Copies each of the experiment's newest state files, whenever it is whole and has
    changed, to its complete copy (checked after every result and checkpoint, and at the end)."""

    def __init__(self, experiment_path: str) -> None:
        self.path = experiment_path
        self._seen: dict[str, tuple[int, int]] = {}  # file -> (mtime_ns, size) when last copied

    def keep(self) -> None:
        """Copies each newest state file that changed since its last copy and parses whole."""
        for state in _newest_states(self.path):
            try:
                st = os.stat(state)
            except OSError:
                continue
            if self._seen.get(state) == (st.st_mtime_ns, st.st_size):
                continue
            data = _read_complete(state)
            if data is None:  # being written now: the next call copies it
                continue
            _write_atomically(os.path.join(self.path, COPY_PREFIX + os.path.basename(state)), data)
            self._seen[state] = (st.st_mtime_ns, st.st_size)

    def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
        self.keep()

    def on_checkpoint(self, iteration, trials, trial, checkpoint, **info) -> None:
        self.keep()

    def on_experiment_end(self, trials, **info) -> None:
        self.keep()


def repair_cut_state(experiment_path: str) -> list[str]:
    """Replaces each cut-short newest state file with its complete copy. A cut file without a
    copy (a session killed before its first complete write) is moved aside to ``.cut-<name>``
    when an earlier session's file of its kind is whole: Tune then restores from that one.

    Returns:
        A line for the user per repaired file (none when every file is whole).

    Raises:
        CutStateError: A file is cut short, with neither a complete copy nor an earlier file.
    """
    said = []
    for pattern in STATE_FILES:
        files = _sessions(experiment_path, pattern)
        while files and _read_complete(files[-1]) is None:
            state = files.pop()
            name = os.path.basename(state)
            data = _read_complete(os.path.join(experiment_path, COPY_PREFIX + name))
            if data is not None:
                _write_atomically(state, data)
                said.append(
                    f"Tune's experiment state {name} was cut short by the crash; resuming from its last complete copy"
                )
                break
            if not files:
                raise CutStateError(
                    f"Tune's experiment state {state} is cut short (the run was killed while writing it) "
                    "and no complete copy of it was kept, so --resume would start every trial over; the "
                    f"trials' checkpoints are in the trial folders under {experiment_path}: load one with "
                    "Algorithm.from_checkpoint, or train a new experiment (another --name or --storage-path)"
                )
            os.replace(state, os.path.join(experiment_path, ".cut-" + name))
            said.append(
                f"Tune's experiment state {name} was cut short by the crash before a complete copy was "
                f"kept; resuming from the earlier {os.path.basename(files[-1])} (the cut file is kept as .cut-{name})"
            )
    return said
