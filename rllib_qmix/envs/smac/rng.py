"""Each battle's own random stream inside the compiled kernels (SC2's weapon delays and update order).

SC2 draws a random delay for every attack and updates units in a random order within a game
loop (pysc2 ``docs/environment.md``, "Determinism and Randomness"); a replay reproduces them
from the game's seed. Here every battle has one 64-bit state (``xorshift64*``: Marsaglia's
xorshift with Vigna's multiplier), seeded from the battle's numpy generator at each reset, so
one seed gives one battle bit for bit, whichever env class or batch plays it.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit

_MUL = np.uint64(0x2545F4914F6CDD1D)
_S12, _S25, _S27, _S11 = np.uint64(12), np.uint64(25), np.uint64(27), np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2 ** -53


def seed_state(rng: np.random.Generator) -> np.uint64:
    """A non-zero state for a battle's stream, drawn from its numpy generator."""
    return np.uint64(rng.integers(1, 2**63, dtype=np.int64))


@njit(inline="always")
def uniform(S, e):
    """The next float in [0, 1) of battle e's stream (``S``: uint64 states [E], advanced in place)."""
    x = S[e]
    x ^= x >> _S12
    x ^= x << _S25
    x ^= x >> _S27
    S[e] = x
    return float((x * _MUL) >> _S11) * _INV53


@njit(inline="always")
def shuffle(S, e, order, n):
    """A uniformly random permutation of ``order[:n]`` (Fisher-Yates), in place."""
    for i in range(n - 1, 0, -1):
        j = int(uniform(S, e) * (i + 1))
        order[i], order[j] = order[j], order[i]
