"""The replay buffer's memory at capacity, said when the algorithm is built and checked against
the machine's available memory before training starts.

The replay keeps whole episodes in preallocated arrays of ``max_len`` steps (the env's episode
limit, or ``max_episode_len``): per episode ``(T + 1)`` steps of every agent's observation
(float32), the state (float32) and the action masks (bool), and ``T`` steps of actions (int64),
the team reward and the termination flag (float32). Shorter episodes leave part of their slot
untouched, which the OS does not back, so this is the most the replay can take.
"""

from __future__ import annotations

import os
from typing import Optional

from rllib_qmix.envs.team import TeamSpec


class ReplayMemoryError(ValueError):
    """The replay buffer could not fit in the machine's available memory at capacity."""


def bytes_per_episode(spec: TeamSpec, max_len: int) -> int:
    """Bytes of one replay slot of ``max_len`` steps for a team of ``spec``'s sizes."""
    n, t = spec.n_agents, int(max_len)
    per_step = n * spec.obs_dim * 4 + spec.state_dim * 4 + n * spec.n_actions  # obs, state, action masks
    per_transition = n * 8 + 4 + 4  # actions, reward, terminated
    return (t + 1) * per_step + t * per_transition


def available_memory() -> Optional[int]:
    """Bytes of memory available to new allocations (Linux's MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _size(n: float) -> str:
    if n >= 2**30:
        return f"{n / 2**30:,.2f} GB"
    return f"{n / 2**20:,.1f} MB" if n >= 2**20 else f"{n / 2**10:,.1f} KB"


def replay_memory_line(spec: TeamSpec, capacity: int, max_len: int, available: Optional[int] = None) -> str:
    """The one line said at build: the replay's memory at capacity and what it is made of.

    Raises:
        ReplayMemoryError: It exceeds ``available`` bytes (default: ``available_memory()``); the
            message names the largest ``replay_capacity`` that fits.
    """
    per = bytes_per_episode(spec, max_len)
    total = per * int(capacity)
    available = available_memory() if available is None else available
    line = (
        f"QMIX replay buffer: {_size(total)} at capacity ({capacity} episodes x {max_len} steps x "
        f"{spec.n_agents} agents, obs {spec.obs_dim}, state {spec.state_dim}, actions {spec.n_actions}; "
        f"{_size(per)} per episode)"
    )
    if available is None:
        return line
    if total > available:
        fits = available // per
        raise ReplayMemoryError(
            f"{line} can't fit in the {_size(available)} of memory available on this machine: set "
            f"replay_capacity={fits} or less ({_size(fits * per)}), or give the driver a machine with more memory."
        )
    return f"{line}; {_size(available)} available"


__all__ = ["ReplayMemoryError", "available_memory", "bytes_per_episode", "replay_memory_line"]
