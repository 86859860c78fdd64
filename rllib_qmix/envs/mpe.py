"""mpe2's ``simple_spread_v3`` and ``simple_speaker_listener_v4`` (discrete actions, PettingZoo
parallel API) for QMIX.

Registered as the envs "mpe_simple_spread" and "mpe_simple_speaker_listener"; both need the
``mpe2`` package (the ``test`` extra). The global state is mpe2's own ``state()`` (all agents'
observations). The speaker (3 observations, 3 actions) and the listener (11, 5) differ, so
``simple_speaker_listener`` is padded to one size (``envs/padded.py``).
"""

from __future__ import annotations

from typing import Any, Optional

from rllib_qmix.envs.creator import env_options
from rllib_qmix.envs.padded import PaddedParallelEnv


def _mpe2(module: str, name: str) -> Any:
    try:
        import importlib

        return importlib.import_module(f"mpe2.{module}")
    except ImportError as err:
        raise ImportError(
            f"The env '{name}' needs mpe2: `pip install mpe2` (or install rllib_qmix with its 'mpe' extra, "
            'e.g. `pip install -e ".[mpe]"` in its folder).'
        ) from err


def make_simple_spread(env_config: Optional[dict] = None) -> Any:
    """``simple_spread_v3.parallel_env`` with ``N`` (3), ``local_ratio`` (0.5), ``max_cycles`` (25)."""
    cfg = env_options("mpe_simple_spread", env_config, {"N": 3, "local_ratio": 0.5, "max_cycles": 25})
    return _mpe2("simple_spread_v3", "mpe_simple_spread").parallel_env(
        N=int(cfg["N"]),
        local_ratio=float(cfg["local_ratio"]),
        max_cycles=int(cfg["max_cycles"]),
        continuous_actions=False,
    )


def make_simple_speaker_listener(env_config: Optional[dict] = None) -> PaddedParallelEnv:
    """``simple_speaker_listener_v4.parallel_env`` with ``max_cycles`` (25), padded to one
    observation size (11) and one action count (5; the speaker's last two are masked)."""
    cfg = env_options("mpe_simple_speaker_listener", env_config, {"max_cycles": 25})
    module = _mpe2("simple_speaker_listener_v4", "mpe_simple_speaker_listener")
    return PaddedParallelEnv(module.parallel_env(max_cycles=int(cfg["max_cycles"]), continuous_actions=False))
