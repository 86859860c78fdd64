"""numba's ``njit`` when numba is installed, else a no-op decorator (pure Python, slow)."""
from __future__ import annotations

try:  # pragma: no cover - exercised implicitly
    from numba import njit as _njit

    HAVE_NUMBA = True

    def njit(*args, **kwargs):
        """``numba.njit`` with on-disk caching."""
        kwargs.setdefault("cache", True)
        return _njit(*args, **kwargs)

except ImportError:  # pragma: no cover
    HAVE_NUMBA = False

    def njit(*args, **kwargs):
        """Fallback: return the function unchanged."""
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]
        return lambda f: f
