"""Checks on QMIX checkpoints: one clear error for another algorithm's or a damaged checkpoint.

``QMIX.from_checkpoint`` and ``QMIX.restore_from_path`` (which ``Algorithm.from_checkpoint``,
``algo.restore()`` and Tune's restore end in) run ``check_qmix_checkpoint`` first, and turn
read errors of the state files (truncated or garbled pickles, missing files) into a
``CheckpointError`` that names the checkpoint.

A QMIX checkpoint directory (RLlib 2.60's layout) holds::

    rllib_checkpoint.json  class_and_ctor_args.pkl  algorithm_state.pkl
    learner_group/{state.pkl, learner/state.pkl, learner/rl_module/<module>/module_state.pkl}
    env_runner/...   (the local env runner's state, when there is one)
"""

from __future__ import annotations

import contextlib
import io
import json
import pathlib
import pickle
from collections.abc import Iterator
from typing import Any, Union

PathLike = Union[str, pathlib.Path]

#: Files every QMIX checkpoint has, relative to its directory.
REQUIRED_FILES = (
    "rllib_checkpoint.json",
    "class_and_ctor_args.pkl",
    "learner_group/state.pkl",
    "learner_group/learner/state.pkl",
    "learner_group/learner/rl_module/default_policy/module_state.pkl",
)
_STATE_FILES = ("algorithm_state.pkl", "algorithm_state.msgpack", "algorithm_state.msgpck")


class CheckpointError(ValueError):
    """A checkpoint QMIX can't restore, with a message that says why and what to do."""


def is_local_checkpoint(path: PathLike, filesystem: Any = None) -> bool:
    """Whether ``path`` names a directory on this machine (no URI, no remote filesystem)."""
    local_fs = filesystem is None or type(filesystem).__name__ == "LocalFileSystem"
    return local_fs and "://" not in str(path)


def check_qmix_checkpoint(path: PathLike, algo_cls: type) -> pathlib.Path:
    """Checks that ``path`` is a complete checkpoint of ``algo_cls`` (cheap: no state is loaded).

    Args:
        path: The checkpoint directory.
        algo_cls: The algorithm class the checkpoint must hold (``QMIX`` or a subclass).

    Returns:
        The checkpoint directory.

    Raises:
        CheckpointError: ``path`` is not a directory, is not an RLlib checkpoint, was written
            by another algorithm, or misses one of its files.
    """
    root = pathlib.Path(path).expanduser()
    if not root.is_dir():
        raise CheckpointError(f"No checkpoint directory at {root}.")
    if not (root / "rllib_checkpoint.json").is_file() and not (root / "class_and_ctor_args.pkl").is_file():
        raise CheckpointError(
            f"{root} is not an RLlib checkpoint (it has no rllib_checkpoint.json or "
            "class_and_ctor_args.pkl): pass the directory that `algo.save()` returned."
        )
    try:
        json.loads((root / "rllib_checkpoint.json").read_text())
        with open(root / "class_and_ctor_args.pkl", "rb") as f:
            stored_cls = pickle.load(f)["class"]
    except (OSError, EOFError, pickle.UnpicklingError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise CheckpointError(_damaged(root, e)) from e
    except (ImportError, AttributeError) as e:
        raise CheckpointError(
            f"The checkpoint at {root} was written by a class this installation can't import ({e}); "
            "it comes from another version or package."
        ) from e
    if not (isinstance(stored_cls, type) and issubclass(stored_cls, algo_cls)):
        name = getattr(stored_cls, "__name__", repr(stored_cls))
        raise CheckpointError(
            f"The checkpoint at {root} is a {name} checkpoint, not a QMIX one. Restore it with "
            f"`Algorithm.from_checkpoint(path)` (which builds a {name}), or pass a QMIX checkpoint."
        )
    missing = [f for f in REQUIRED_FILES if not (root / f).is_file()]
    if not any((root / f).is_file() for f in _STATE_FILES):
        missing.append("algorithm_state.pkl")
    empty = [f for f in REQUIRED_FILES if (root / f).is_file() and (root / f).stat().st_size == 0]
    if missing or empty:
        what = ", ".join([f"missing {f}" for f in missing] + [f"empty {f}" for f in empty])
        raise CheckpointError(f"The QMIX checkpoint at {root} is damaged ({what}); restore an earlier checkpoint.")
    return root


def _damaged(root: pathlib.Path, error: BaseException) -> str:
    detail = " ".join(str(error).split()) or type(error).__name__
    return (
        f"The QMIX checkpoint at {root} is damaged ({type(error).__name__}: {detail}); restore an earlier checkpoint."
    )


@contextlib.contextmanager
def checkpoint_read_errors(path: PathLike) -> Iterator[None]:
    """Turns errors from reading a checkpoint's state files into a ``CheckpointError``."""
    try:
        yield
    except CheckpointError:
        raise
    except (pickle.UnpicklingError, EOFError, OSError, io.UnsupportedOperation) as e:
        raise CheckpointError(_damaged(pathlib.Path(path), e)) from e


__all__ = ["CheckpointError", "check_qmix_checkpoint", "checkpoint_read_errors", "is_local_checkpoint"]
