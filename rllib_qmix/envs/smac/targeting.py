"""Compiled target choice of the built-in AI, by SC2's rules (pysc2 ``docs/environment.md``).

SC2's auto-targeting is "based on weapon scan distance, threat and assistance": a unit looks
for targets within its weapon's scan range (``minScanRange``, at least its range); it ranks
enemies with a weapon above those without, and those that can return fire above those that
can't; an enemy that can't return fire but is attacking one of its allies calls for help and
ranks as if it could; a healer ranks higher while it heals; on equal rank the nearest wins.
Units of higher ``attackTargetPriority`` come first (every unit here has 20). How long a unit
keeps a target, chases it and answers its attacker is ``choices.py``'s reading of the game.
"""

from __future__ import annotations

import math

from ._jit import njit
from .state import BLOCKED, HP, LASTATK, LOCK, O_ATTACK, ORD, TGT, W_HEALING, WPH, X, Y, can_hit, edge_dist
from .units import KIND_HEAL, P_CHASE, P_HP, P_KIND, P_PRIO, P_RANGE, P_SCAN, P_SLOP

#: Threat ranks: a healer at rest, a healer healing or a weapon that can't return fire, one
#: that can (or that calls for help).
T_IDLE_HEALER, T_NO_RETURN, T_RETURNS = 1, 2, 3


@njit(inline="always")
def threat(F, I, P, e, A, u, v):
    """SC2's threat rank of enemy v for unit u (pysc2's auto-targeting rules)."""
    if P[v, P_KIND] == KIND_HEAL:
        return T_NO_RETURN if I[e, v, WPH] == W_HEALING else T_IDLE_HEALER
    if can_hit(P, v, u):
        return T_RETURNS
    w = I[e, v, TGT]  # call for help: v is attacking one of u's allies
    if w >= 0 and F[e, w, HP] > 0.0 and (w < A) == (u < A) and (v >= A or I[e, v, ORD] == O_ATTACK):
        return T_RETURNS
    return T_NO_RETURN


@njit(inline="always")
def rank(F, I, P, e, A, u, v):
    """Sort key of target v for u (higher first): attack target priority, then threat."""
    return P[v, P_PRIO] * 8.0 + threat(F, I, P, e, A, u, v)


@njit(inline="always")
def top_rank(F, P, e, A, u):
    """The highest rank any live unit of the other side could have for u."""
    U = F.shape[1]
    lo, hi = (A, U) if u < A else (0, A)
    top = 0.0
    for v in range(lo, hi):
        if F[e, v, HP] > 0.0 and P[v, P_PRIO] > top:
            top = P[v, P_PRIO]
    return top * 8.0 + T_RETURNS


@njit(inline="always")
def acquire(F, I, P, e, A, u, reach, avoid):
    """The best target for u within ``reach`` (edge distance) among the other side's live units
    it can attack: highest rank, then nearest; ``avoid`` (a unit u could not reach) only when no
    other of its rank is there. Returns (target or -1, its rank)."""
    U = F.shape[1]
    lo, hi = (A, U) if u < A else (0, A)
    best, best_k, best_d = -1, -1.0, 1e18
    for v in range(lo, hi):
        if F[e, v, HP] <= 0.0 or not can_hit(P, u, v):
            continue
        d = edge_dist(F, P, e, u, v)
        if d > reach:
            continue
        k = rank(F, I, P, e, A, u, v) - (0.5 if v == avoid else 0.0)
        if k > best_k or (k == best_k and d < best_d):
            best, best_k, best_d = v, k, d
    return best, best_k


@njit(inline="always")
def ai_target(F, I, P, e, A, u, static):
    """The built-in AI's target for unit u this loop (-1: none; go on with the attack-move).

    It keeps the target it is firing on while that stays within reach (range, plus rangeSlop
    once the weapon holds it), unless a higher-ranked enemy comes within scan range; else it
    takes the best enemy within scan range (passing over one it could not reach for another of
    the same rank: melee attackers go where there is room); else it chases its target while
    within sight; else it answers the last unit that damaged it. A structure only fires at what
    is in range."""
    t = I[e, u, TGT]
    t_ok = t >= 0 and F[e, t, HP] > 0.0 and can_hit(P, u, t)
    reach = P[u, P_RANGE] if static else P[u, P_SCAN]
    keep, k = False, 0.0
    if t_ok:
        d = edge_dist(F, P, e, u, t)
        hold = P[u, P_RANGE] + (P[u, P_SLOP] if I[e, u, LOCK] == t else 0.0)
        if d <= hold + 1e-6:
            k = rank(F, I, P, e, A, u, t)
            if k >= top_rank(F, P, e, A, u):  # nothing can outrank it: no need to look
                return t
            keep = True
    best, best_k = acquire(F, I, P, e, A, u, reach, I[e, u, BLOCKED])
    if keep:
        return best if best >= 0 and best_k > k else t
    if best >= 0:
        return best
    if static:
        return -1
    if t_ok and edge_dist(F, P, e, u, t) <= P[u, P_CHASE]:
        return t
    la = I[e, u, LASTATK]
    if la >= 0 and (la < A) != (u < A) and F[e, la, HP] > 0.0 and can_hit(P, u, la):
        return la
    return -1


@njit(inline="always")
def heal_target(F, I, P, e, A, u):
    """An AI medivac's patient: its current one while hurt and alive, else the hurt biological
    ally within its auto-cast range with the smallest life fraction, then the nearest (SC2's
    heal sorts: life fraction, distance); -1 if none."""
    t = I[e, u, TGT]
    if t >= 0 and F[e, t, HP] > 0.0 and F[e, t, HP] < P[t, P_HP]:
        return t
    U = F.shape[1]
    lo, hi = (0, A) if u < A else (A, U)
    best, best_f, best_d = -1, 2.0, 1e18
    for v in range(lo, hi):
        if v == u or F[e, v, HP] <= 0.0 or F[e, v, HP] >= P[v, P_HP] or not can_hit(P, u, v):
            continue
        d = edge_dist(F, P, e, u, v)
        if d > P[u, P_SCAN]:
            continue
        f = F[e, v, HP] / P[v, P_HP]
        if f < best_f or (f == best_f and d < best_d):
            best, best_f, best_d = v, f, d
    return best


@njit(inline="always")
def army_centre(F, P, e, A, u):
    """The centroid of u's live armed allies (u's own position if none)."""
    U = F.shape[1]
    lo, hi = (0, A) if u < A else (A, U)
    cx, cy, n = 0.0, 0.0, 0
    for v in range(lo, hi):
        if v != u and F[e, v, HP] > 0.0 and P[v, P_KIND] != KIND_HEAL:
            cx += F[e, v, X]
            cy += F[e, v, Y]
            n += 1
    if n == 0:
        return F[e, u, X], F[e, u, Y]
    return cx / n, cy / n


@njit
def order_closest(F, I, P, e, A):
    """SMACv2's map trigger, every 8 loops: each live enemy without a live target is ordered to
    attack the closest live agent unit (centre distance) it can target; healers get no order."""
    U = F.shape[1]
    for u in range(A, U):
        if F[e, u, HP] <= 0.0 or P[u, P_KIND] == KIND_HEAL:
            continue
        t = I[e, u, TGT]
        if t >= 0 and F[e, t, HP] > 0.0:
            continue
        best, best_d = -1, 1e18
        for v in range(A):
            if F[e, v, HP] <= 0.0 or not can_hit(P, u, v):
                continue
            d = math.hypot(F[e, v, X] - F[e, u, X], F[e, v, Y] - F[e, u, Y])
            if d < best_d:
                best, best_d = v, d
        I[e, u, TGT] = best
