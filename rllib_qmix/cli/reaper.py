"""Ends the local Ray a killed ``rllib`` command leaves behind.

When the CLI's process dies without a chance to clean up (``kill -9``, the OOM killer), the
local Ray it started mostly follows it, but Ray 2.60's dashboard and runtime-env agents stay
alive forever. :func:`start_reaper` starts a small watcher process beside the CLI: it learns the
CLI's descendants (Ray's processes) every second, and once the CLI is gone (the pipe it holds
closes) gives them a few seconds to exit on their own, then ends the rest. After a normal exit
Ray has already stopped everything and the watcher just exits.

    python -m rllib_qmix.cli.reaper DRIVER_PID [GRACE_S]   (started by start_reaper)
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from typing import Optional

#: Seconds Ray's processes get to exit by themselves after the CLI died.
GRACE_S = 5.0
_WATCHER: dict[str, subprocess.Popen] = {}


def start_reaper(grace_s: float = GRACE_S) -> Optional[subprocess.Popen]:
    """Starts the watcher of this process's descendants (once per process); returns it."""
    if "proc" in _WATCHER and _WATCHER["proc"].poll() is None:
        return _WATCHER["proc"]
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rllib_qmix.cli.reaper", str(os.getpid()), str(grace_s)],
            stdin=subprocess.PIPE,  # this process holds the write end: EOF there = this process is gone
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # not in the terminal's process group: Ctrl-C is not for it
        )
    except OSError:  # no watcher: nothing worse than before
        return None
    _WATCHER["proc"] = proc
    return proc


def _descendants(pid: int) -> dict[int, float]:
    """``{pid: create_time}`` of the descendants of ``pid`` (not this watcher)."""
    import psutil

    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return {}
    out = {}
    for child in children:
        try:
            if child.pid != os.getpid():
                out[child.pid] = child.create_time()
        except psutil.Error:
            continue
    return out


def _alive(procs: dict[int, float]) -> list:
    """The processes of ``procs`` still running (the same processes: their start time matches)."""
    import psutil

    alive = []
    for pid, created in procs.items():
        try:
            p = psutil.Process(pid)
            if p.create_time() == created and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(p)
        except psutil.Error:
            continue
    return alive


def watch(driver_pid: int, grace_s: float = GRACE_S) -> None:
    """Follows ``driver_pid``'s descendants until stdin closes, then ends those still alive."""
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    known: dict[int, float] = {}
    while True:
        known.update(_descendants(driver_pid))
        ready, _, _ = select.select([sys.stdin], [], [], 1.0)
        if ready and not os.read(sys.stdin.fileno(), 4096):
            break  # the driver is gone
    import psutil

    deadline = time.monotonic() + grace_s
    while _alive(known) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _alive(known)
    for p in left:
        try:
            p.terminate()
        except psutil.Error:
            pass
    _, left = psutil.wait_procs(left, timeout=3.0)
    for p in left:
        try:
            p.kill()
        except psutil.Error:
            pass


if __name__ == "__main__":
    watch(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else GRACE_S)
