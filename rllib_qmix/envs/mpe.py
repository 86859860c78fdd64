"""mpe2's ``simple_spread_v3`` (discrete actions, PettingZoo parallel API) for QMIX.

Registered as the env "mpe_simple_spread"; needs the ``mpe2`` package (the ``test`` extra).
The global state is mpe2's own ``state()`` (all agents' observations).
"""

from __future__ import annotations

from typing import Any, Optional


def make_simple_spread(env_config: Optional[dict] = None) -> Any:
    """Creates ``simple_spread_v3.parallel_env`` with ``N``, ``local_ratio``, ``max_cycles`` from the config."""
    try:
        from mpe2 import simple_spread_v3
    except ImportError as err:
        raise ImportError("The env 'mpe_simple_spread' needs mpe2: `pip install mpe2`.") from err
    cfg = dict(env_config or {})
    return simple_spread_v3.parallel_env(
        N=int(cfg.get("N", 3)),
        local_ratio=float(cfg.get("local_ratio", 0.5)),
        max_cycles=int(cfg.get("max_cycles", 25)),
        continuous_actions=False,
    )
