"""numba's ``njit`` with on-disk caching (numba is a dependency of the package)."""

from __future__ import annotations

from numba import njit as _njit


def njit(*args, **kwargs):
    """``numba.njit`` with ``cache=True`` unless told otherwise."""
    kwargs.setdefault("cache", True)
    return _njit(*args, **kwargs)
