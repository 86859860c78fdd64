"""numba's ``njit`` with on-disk caching (numba is a dependency of the package).

numba keys a cached function by its own source file only: after editing one of the simulator's
kernel modules, a function in *another* module that calls it can keep running its old compiled
code. An install writes fresh files and is not affected; when developing, ``make clean`` drops
the caches.
"""

from __future__ import annotations

from numba import njit as _njit


def njit(*args, **kwargs):
    """``numba.njit`` with ``cache=True`` and numpy's error model (a division by zero gives inf
    or nan instead of raising, which spares a check per division) unless told otherwise."""
    kwargs.setdefault("cache", True)
    kwargs.setdefault("error_model", "numpy")
    return _njit(*args, **kwargs)


def njit_noref(*args, **kwargs):
    """``njit`` for a kernel that creates no arrays: compiled without numba's reference counting
    of arrays. Its inlined helpers then pass arrays about for free, where each array argument
    would otherwise cost an atomic increment and decrement per call (measured: a third of the
    battle loop's time). The arrays must outlive the call, as the caller's do."""
    kwargs["_nrt"] = False
    return njit(*args, **kwargs)
