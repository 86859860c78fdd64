"""A cap on training iterations for smoke runs: ``RLLIB_QMIX_MAX_ITERATIONS=N``.

With the variable set, ``rllib train`` ends every trial after at most N training iterations
per command (a ``--resume`` trains up to N more), ``benchmarks/learning.py`` cuts each run
after N iterations as if its session ended there, and the README's Python example trains N
iterations. The commands stay as they are written; only their length changes. CI runs every
command of README.md and docs/ this way (tests/test_docs.py); a user may use it to try a
command quickly. Unset (the default), nothing is capped.
"""

from __future__ import annotations

import os
from typing import Optional

#: The environment variable that caps training iterations.
ENV_VAR = "RLLIB_QMIX_MAX_ITERATIONS"


def max_iterations() -> Optional[int]:
    """The cap set by ``RLLIB_QMIX_MAX_ITERATIONS`` (None when unset or empty).

    Raises:
        ValueError: The variable is not a positive integer.
    """
    raw = os.environ.get(ENV_VAR, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{ENV_VAR} must be a positive integer (training iterations), got {raw!r}")
    return value
