"""The battle state the compiled kernels share: its columns, and the geometry every rule asks.

State of E battles with U units each (allies first, then enemies): ``F[E, U, NF]`` floats and
``I[E, U, NI]`` ints, columns below; ``P[U, N_PARAMS]`` the static unit figures in engine units
(``units.py``: game loops, map units per loop, radians).
"""

from __future__ import annotations

import math

from ._jit import njit
from .units import KIND_HEAL, P_AIR, P_BIO, P_HITS_AIR, P_KIND, P_RADIUS

# Float columns: position; life, shields, energy; weapon cooldown (loops, <= 0: ready); loops
# since last damaged; move goal; life and shields at the step's start (reward); facing (a
# unit vector); the weapon's phase timer (loops left of the damage point or the backswing); the
# cooldown the attack in progress took (refunded if it is cut before its damage point); the
# missile in flight (position, speed); loops to the next hit of an attack's later hits.
X, Y, HP, SH, EN, CD, SINCE, GX, GY, PHP, PSH, FX, FY, WT, WINC, MX, MY, MV, HT = range(19)
NF = 19
# Int columns: order; order / AI target; last unit that damaged it; death counted in the
# reward; weapon phase; target of the attack in progress and of its effects in flight; the
# target the weapon holds (fires on it out to range + rangeSlop); hits still to land; what
# they are (a missile in flight or timed hits); the side it tries first around a blocker;
# whether the attack in progress uses the unit's close-range weapon; the target it could not
# reach last (its melee ring full), which the AI then passes over for another.
ORD, TGT, LASTATK, DEADT, WPH, WTG, LOCK, HN, HKIND, SIDE, WMEL, BLOCKED = range(12)
NI = 12

O_IDLE, O_MOVE, O_ATTACK, O_HEAL = 0, 1, 2, 3
#: Weapon phases: ready (or cooling down), winding up to the damage point, backswing; a
#: healer's phase reads ``W_HEALING`` in the loops it heals.
W_READY, W_WINDUP, W_BACKSWING, W_HEALING = 0, 1, 2, 3
#: What an attack's later hits are: none, a missile in flight, hits after a delay.
H_NONE, H_MISSILE, H_TIMED = 0, 1, 2

EPS = 1e-6


@njit(inline="always")
def edge_dist(F, P, e, u, v):
    """Edge-to-edge distance between units u and v."""
    dx, dy = F[e, v, X] - F[e, u, X], F[e, v, Y] - F[e, u, Y]
    return math.sqrt(dx * dx + dy * dy) - P[u, P_RADIUS] - P[v, P_RADIUS]


@njit(inline="always")
def can_hit(P, u, v):
    """Whether u's weapon (or heal) can target v: air units only by anti-air weapons, heals
    only on biological units."""
    if P[u, P_KIND] == KIND_HEAL:
        return P[v, P_BIO] > 0
    return P[v, P_AIR] == 0 or P[u, P_HITS_AIR] > 0


@njit(inline="always")
def alive(F, e, u):
    return F[e, u, HP] > 0.0
