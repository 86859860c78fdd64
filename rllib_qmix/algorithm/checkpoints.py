"""Checks on QMIX checkpoints: one clear error for another algorithm's or a damaged checkpoint.

``QMIX.from_checkpoint`` and ``QMIX.restore_from_path`` (which ``Algorithm.from_checkpoint``,
``algo.restore()`` and Tune's restore end in) run ``check_qmix_checkpoint`` first, and turn
read errors of the state files (truncated or garbled pickles, missing files) into a
``CheckpointError`` that names the checkpoint.

A QMIX checkpoint directory (RLlib 2.60's layout) holds::

    rllib_checkpoint.json  class_and_ctor_args.pkl  algorithm_state.pkl
    learner_group/{state.pkl, learner/state.pkl, learner/rl_module/<module>/module_state.pkl}
    env_runner/...   (the local env runner's state, when there is one)
    qmix_replay_buffer/...   (with ``store_replay_buffer_in_checkpoints``)
    qmix_checkpoint.json     (the manifest: every file's size; written last)

A local save is atomic (``write_checkpoint``): everything goes to a hidden sibling directory
``.NAME.partial-*``, the manifest is written last, and only then is the directory renamed to
NAME. A save killed at any point leaves NAME as it was (absent, or the previous checkpoint)
and a partial directory that can't be restored. A copy of a checkpoint that was cut short
(e.g. Tune's upload to its storage path) is caught by the manifest's file sizes.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import pathlib
import pickle
import shutil
import uuid
from collections.abc import Callable, Iterator
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


#: The manifest a complete QMIX checkpoint ends with: ``{"format": 1, "files": {relpath: size}}``.
MANIFEST_FILE = "qmix_checkpoint.json"
_PARTIAL = ".partial-"


class CheckpointError(ValueError):
    """A checkpoint QMIX can't restore, with a message that says why and what to do."""


class CheckpointSpaceError(OSError):
    """The disk has no room for a checkpoint (``errno.ENOSPC``); nothing was left behind."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.ENOSPC, message)

    def __str__(self) -> str:
        return self.strerror


def _mb(n: float) -> str:
    return f"{n / 2**20:,.1f} MB"


def _free_bytes(directory: pathlib.Path) -> int:
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    return shutil.disk_usage(directory).free


def _space_error(final: pathlib.Path, need: int, detail: str) -> CheckpointSpaceError:
    free = _free_bytes(final.parent)
    return CheckpointSpaceError(
        f"Not enough disk space to save the QMIX checkpoint at {final}: it needs about {_mb(need)} and "
        f"{_mb(free)} are free there ({detail}). Free some space or save to another path (the CLI's "
        "--storage-path); the previous checkpoints and the training state are unchanged."
    )


def partial_path(final: pathlib.Path) -> pathlib.Path:
    """The hidden sibling directory a save of ``final`` writes to before it is renamed."""
    return final.parent / f".{final.name}{_PARTIAL}{os.getpid()}-{uuid.uuid4().hex[:8]}"


def write_manifest(root: pathlib.Path) -> None:
    """Writes ``MANIFEST_FILE`` listing the size of every file under ``root``, and syncs it."""
    files = {
        p.relative_to(root).as_posix(): p.stat().st_size
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != MANIFEST_FILE
    }
    with open(root / MANIFEST_FILE, "w") as f:
        json.dump({"format": 1, "files": files}, f, indent=0)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(directory: pathlib.Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_checkpoint(tmp: pathlib.Path, final: pathlib.Path) -> None:
    """Renames the finished ``tmp`` to ``final``, replacing what was there (an empty directory,
    as Tune makes, or an older checkpoint saved to the same path)."""
    aside = None
    if final.is_dir() and any(final.iterdir()):
        aside = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
        os.rename(final, aside)
    elif final.is_dir():
        final.rmdir()
    os.rename(tmp, final)
    _fsync_dir(final.parent)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


def write_checkpoint(final: PathLike, need_bytes: int, write: Callable[[pathlib.Path], None]) -> pathlib.Path:
    """Saves a checkpoint to ``final`` atomically: ``write(tmp)`` fills a hidden sibling
    directory, the manifest is added, and the directory is renamed to ``final``.

    Args:
        final: Where the checkpoint goes (a local directory; may exist, as Tune makes it).
        need_bytes: An estimate of the checkpoint's size, checked against the free space first.
        write: Writes the checkpoint's files into the directory it is given.

    Returns:
        ``final``, as an absolute path.

    Raises:
        CheckpointSpaceError: The disk is too full (before writing, or ``ENOSPC`` while writing);
            the partial files are removed.
    """
    final = pathlib.Path(final).expanduser().absolute()
    final.parent.mkdir(parents=True, exist_ok=True)
    free = _free_bytes(final.parent)
    if free < need_bytes:
        raise _space_error(final, need_bytes, "checked before writing; nothing was written")
    tmp = partial_path(final)
    try:
        write(tmp)
        write_manifest(tmp)
        publish_checkpoint(tmp, final)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if e.errno == errno.ENOSPC or "No space left on device" in str(e):
            raise _space_error(final, need_bytes, f"the disk filled while writing {e.filename or 'a file'}") from e
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def manifest_problems(root: pathlib.Path) -> list[str]:
    """What is wrong with ``root`` against its manifest: ``["incomplete"]`` when it has none,
    else the files missing or of the wrong size (empty when it is complete)."""
    try:
        manifest = json.loads((root / MANIFEST_FILE).read_text())
        files = manifest["files"]
    except FileNotFoundError:
        return ["incomplete"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        return [f"unreadable {MANIFEST_FILE} ({type(e).__name__})"]
    problems = []
    for rel, size in files.items():
        p = root / rel
        if not p.is_file():
            problems.append(f"missing {rel}")
        elif p.stat().st_size != size:
            problems.append(f"{rel} has {p.stat().st_size} bytes, not {size}")
    return problems


def is_complete_checkpoint(path: PathLike) -> bool:
    """Whether ``path`` holds a checkpoint whose manifest matches its files."""
    root = pathlib.Path(path)
    return _PARTIAL not in root.name and not manifest_problems(root)


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
    if _PARTIAL in root.name:
        raise CheckpointError(
            f"{root} is a partial QMIX checkpoint: a save into it was interrupted and it was never "
            "renamed to its final name. Restore an earlier checkpoint; this directory can be deleted."
        )
    problems = manifest_problems(root)
    if problems == ["incomplete"]:
        raise CheckpointError(
            f"The QMIX checkpoint at {root} is incomplete: it has no {MANIFEST_FILE}, which a save writes "
            "last, so the save (or a copy of it) was interrupted. Restore an earlier checkpoint."
        )
    if problems:
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        raise CheckpointError(
            f"The QMIX checkpoint at {root} is damaged ({shown}): its files don't match its {MANIFEST_FILE}, "
            "as after a copy that was cut short. Restore an earlier checkpoint."
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


__all__ = [
    "MANIFEST_FILE",
    "CheckpointError",
    "CheckpointSpaceError",
    "check_qmix_checkpoint",
    "checkpoint_read_errors",
    "is_complete_checkpoint",
    "is_local_checkpoint",
    "write_checkpoint",
]
