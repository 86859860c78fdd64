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
