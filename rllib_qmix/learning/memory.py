"""Keeping the memory a learner frees for reuse, instead of handing it back to the OS (glibc).

Every learner update allocates and frees the same large tensors (a batch's inputs, the GRU's
states and gates, gradients: tens of MB on SMAC's larger maps). glibc's malloc serves large
requests with fresh ``mmap`` pages and returns freed memory to the OS (``munmap``, heap
trimming). Raising the ``mmap`` threshold and the trim threshold keeps freed memory in the
process's heap for the next update; the process keeps its peak heap size.

Measured by ``benchmarks/throughput.py``'s learner-update rows ("malloc" column): 1.16x on
full-length MMM2 updates, none on 8m. Why is not settled: a 24 MB tensor allocated and filled
again still took ~1,150 minor page faults with the thresholds raised, as without them.
"""

from __future__ import annotations

import ctypes
import platform
import sys

#: glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Requests up to this size come from the heap, not from fresh mmap pages.
MMAP_THRESHOLD_BYTES = 1 << 30
#: Free memory at the top of the heap kept before trimming it back to the OS.
TRIM_THRESHOLD_BYTES = 1 << 32

_applied = False


def keep_freed_memory() -> bool:
    """Sets glibc malloc's thresholds in this process so that freed memory is reused.

    Idempotent; a process-wide setting (it lasts until the process ends).

    Returns:
        True if the thresholds are set (now or before); False where malloc is not glibc's
        (macOS, Windows, musl), where nothing is changed.
    """
    global _applied
    if _applied:
        return True
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    ok = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
    ok = libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1 and ok
    _applied = ok
    return ok


def freed_memory_kept() -> bool:
    """Whether ``keep_freed_memory`` has set the thresholds in this process."""
    return _applied
