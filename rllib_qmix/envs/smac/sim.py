"""Compiled battle mechanics: one game loop of a battle.

A game loop (``choices.py``): timers and regeneration; then every unit, in a random order drawn
from the battle's stream (SC2 updates units in a random order), lands its attack effects in
flight and, if alive, does its part: an agent carries out its order, an enemy its built-in AI
(``targeting.py``); fighting is ``engage`` (turn, attack when ready: ``combat.py``; else walk
into range: ``movement.py``). Columns of the state are in ``state.py``.
"""

from __future__ import annotations

import math

from . import choices as C
from ._jit import njit, njit_noref
from .combat import cut_attack, effects, heal, hit, start_attack, uses_melee, weapon_busy
from .maps import ORDER_CLOSEST_UNIT, ORDER_HUNT, ORDER_NONE
from .movement import MAX_PUSHED, ring_spot, turn_toward, walk
from .rng import shuffle
from .state import (
    BLOCKED,
    CD,
    DEADT,
    EN,
    EPS,
    FX,
    FY,
    GX,
    GY,
    H_NONE,
    HKIND,
    HN,
    HP,
    LASTATK,
    LOCK,
    MV,
    MX,
    MY,
    NF,
    NI,
    O_ATTACK,
    O_HEAL,
    O_IDLE,
    O_MOVE,
    ORD,
    PHP,
    PSH,
    SH,
    SIDE,
    SINCE,
    TGT,
    W_BACKSWING,
    W_HEALING,
    W_READY,
    W_WINDUP,
    WINC,
    WMEL,
    WPH,
    WT,
    WTG,
    X,
    Y,
    can_hit,
    edge_dist,
)
from .targeting import ai_target, army_centre, heal_target
from .units import (
    KIND_HEAL,
    P_ARCCOS,
    P_EMAX,
    P_EREGEN,
    P_HP,
    P_KIND,
    P_MRANGE,
    P_RANGE,
    P_REGEN,
    P_SH,
    P_SHDELAY,
    P_SHREGEN,
    P_SLOP,
    P_STATIC,
)

__all__ = [
    "X",
    "Y",
    "HP",
    "SH",
    "EN",
    "CD",
    "SINCE",
    "GX",
    "GY",
    "PHP",
    "PSH",
    "FX",
    "FY",
    "WT",
    "WINC",
    "MX",
    "MY",
    "MV",
    "NF",
    "ORD",
    "TGT",
    "LASTATK",
    "DEADT",
    "WPH",
    "WTG",
    "LOCK",
    "HN",
    "HKIND",
    "SIDE",
    "WMEL",
    "BLOCKED",
    "NI",
    "O_IDLE",
    "O_MOVE",
    "O_ATTACK",
    "O_HEAL",
    "MAX_PUSHED",
    "can_hit",
    "edge_dist",
    "hit",
    "cut_attack",
    "tick",
]

#: Melee attackers (weapon range below this) head for a free spot around their target, on the
#: ring at this fraction of their range from its edge (choices.py: crowds).
MELEE_RANGE, RING_DEPTH = C.MELEE_RANGE, C.RING_DEPTH
NO_WALK = (False, 0.0, 0.0, 0.0, False)


@njit(inline="always")
def engage(F, I, P, S, e, A, u, t, shapes, clear, NEAR, FULL, BQ):
    """Unit u fights t: in reach (its range, plus rangeSlop once its weapon holds t) it turns to
    t and attacks when its weapon is ready and t within its arc. Else it must walk into range:
    returns (walk, goal x, goal y, how far at most, step aside when blocked) -- a melee attacker
    to a free spot around t; with none free it waits its turn behind the others."""
    d = edge_dist(F, P, e, u, t)
    rng = P[u, P_MRANGE] if uses_melee(F, P, e, u, t, d) else P[u, P_RANGE]
    reach = rng + (P[u, P_SLOP] if I[e, u, LOCK] == t else 0.0)
    if d <= reach + EPS:
        dx, dy = F[e, t, X] - F[e, u, X], F[e, t, Y] - F[e, u, Y]
        n = max(math.sqrt(dx * dx + dy * dy), 1e-12)
        dx, dy = dx / n, dy / n
        turn_toward(F, P, e, u, dx, dy)
        if F[e, u, CD] <= 0.0 and F[e, u, FX] * dx + F[e, u, FY] * dy >= P[u, P_ARCCOS] - 1e-9 and can_hit(P, u, t):
            start_attack(F, I, P, S, e, A, u, t, d, BQ)
        return NO_WALK
    I[e, u, LOCK] = -1
    if P[u, P_STATIC] > 0:
        return NO_WALK
    rng = P[u, P_RANGE]
    if rng < MELEE_RANGE:
        gx, gy, spot = ring_spot(F, P, e, u, t, RING_DEPTH * rng, shapes, clear, NEAR, FULL)
        return True, gx, gy, 1e9, spot or not FULL[t]
    return True, F[e, t, X], F[e, t, Y], d - rng, True


@njit(inline="always")
def tend(F, I, P, e, u, t):
    """Medivac u heals t: within its range it heals (its phase reads healing); else it must fly
    there: returns (walk, goal x, goal y, how far at most, step aside when blocked)."""
    d = edge_dist(F, P, e, u, t)
    if d <= P[u, P_RANGE] + EPS:
        I[e, u, WPH] = W_HEALING if heal(F, P, e, u, t) else W_READY
        return NO_WALK
    I[e, u, WPH] = W_READY
    return True, F[e, t, X], F[e, t, Y], d - P[u, P_RANGE], True


@njit(inline="always")
def _timers(F, P, e, u):
    """One loop of u's cooldown, shield and life regeneration, and energy."""
    if F[e, u, CD] > 0.0:
        F[e, u, CD] -= 1.0
    F[e, u, SINCE] += 1.0
    if P[u, P_SH] > 0 and F[e, u, SINCE] >= P[u, P_SHDELAY]:
        F[e, u, SH] = min(P[u, P_SH], F[e, u, SH] + P[u, P_SHREGEN])
    if P[u, P_REGEN] > 0 and F[e, u, HP] < P[u, P_HP]:
        F[e, u, HP] = min(P[u, P_HP], F[e, u, HP] + P[u, P_REGEN])
    if P[u, P_EMAX] > 0:
        F[e, u, EN] = min(P[u, P_EMAX], F[e, u, EN] + P[u, P_EREGEN])


@njit(inline="always")
def _holds_ground(F, I, P, e, A, u):
    """Whether u holds its ground, fighting: in an attack's animation, healing, or with its
    target in reach. Its own units may not push it aside; they push units standing idle or on
    their way somewhere (choices.py: crowds)."""
    if I[e, u, WPH] != W_READY:
        return True
    t = I[e, u, TGT]
    if t < 0 or F[e, t, HP] <= 0.0 or (u < A and I[e, u, ORD] != O_ATTACK and I[e, u, ORD] != O_HEAL):
        return False
    reach = P[u, P_RANGE] + (P[u, P_SLOP] if I[e, u, LOCK] == t else 0.0)
    return edge_dist(F, P, e, u, t) <= reach + EPS


@njit_noref
def tick(F, I, P, S, e, A, mode, shapes, clear, points, routes, anchors, ORDER, BUSY, QUEUE, SAVED, BQ, NEAR, FULL):
    """Advance battle e by one game loop (``S``: the battles' random streams; the arrays after
    ``anchors`` are scratch space of U rows, ``QUEUE`` and ``SAVED`` of ``MAX_PUSHED``).

    Each unit first decides what it does (its order or its AI): fight a target, heal one, or
    walk to a goal; the fight or the heal may need a walk into range. Every step of that is
    written once below (the helpers are inlined: one place each keeps the kernel small)."""
    U = F.shape[1]
    for u in range(U):
        if F[e, u, HP] > 0.0:
            _timers(F, P, e, u)
    for u in range(U):
        BUSY[u] = F[e, u, HP] > 0.0 and _holds_ground(F, I, P, e, A, u)
        FULL[u] = False
        ORDER[u] = u
    shuffle(S, e, ORDER, U)
    for k in range(U):
        u = ORDER[k]
        if I[e, u, HKIND] != H_NONE:
            effects(F, I, P, e, A, u, BQ, True)
        if F[e, u, HP] <= 0.0:
            continue
        ph = I[e, u, WPH]
        if (ph == W_WINDUP or ph == W_BACKSWING) and weapon_busy(F, I, P, e, A, u, BQ):
            continue
        fight, patient, moving = -1, -1, False
        go, gx, gy, limit, route, aside = False, 0.0, 0.0, 1e9, False, True
        if u < A:
            o = I[e, u, ORD]
            if o == O_MOVE:
                go, gx, gy, moving = True, F[e, u, GX], F[e, u, GY], True
            elif o == O_ATTACK or o == O_HEAL:
                t = I[e, u, TGT]
                if F[e, t, HP] <= 0.0:
                    I[e, u, ORD] = O_IDLE
                    I[e, u, WPH] = W_READY
                elif o == O_HEAL:
                    patient = t
                else:
                    fight = t
        elif P[u, P_KIND] == KIND_HEAL:  # the enemy's medivac: heal, else follow the army
            patient = heal_target(F, I, P, e, A, u)
            I[e, u, TGT] = patient
            if patient < 0:
                I[e, u, WPH] = W_READY
                gx, gy = army_centre(F, P, e, A, u)
                go = (gx - F[e, u, X]) ** 2 + (gy - F[e, u, Y]) ** 2 > 1.0
        elif mode == ORDER_CLOSEST_UNIT:  # attack the unit ordered by order_closest until it dies
            t = I[e, u, TGT]
            if t >= 0 and F[e, t, HP] > 0.0:
                fight = t
            else:
                I[e, u, TGT] = -1
        else:
            fight = ai_target(F, I, P, e, A, u, mode == ORDER_NONE)
            I[e, u, TGT] = fight
            if fight < 0 and mode != ORDER_NONE:
                gx, gy = F[e, u, GX], F[e, u, GY]  # the attack point + its place in the formation
                if mode == ORDER_HUNT:  # attack the ally unit group: the nearest live ally
                    bd = 1e18
                    for v in range(A):
                        if F[e, v, HP] > 0.0:
                            dx, dy = F[e, v, X] - F[e, u, X], F[e, v, Y] - F[e, u, Y]
                            if dx * dx + dy * dy < bd:
                                bd, gx, gy = dx * dx + dy * dy, F[e, v, X], F[e, v, Y]
                dx, dy = gx - F[e, u, X], gy - F[e, u, Y]
                go = route = dx * dx + dy * dy > C.ARRIVAL_RADIUS**2
        if fight >= 0:
            go, gx, gy, limit, aside = engage(F, I, P, S, e, A, u, fight, shapes, clear, NEAR, FULL, BQ)
            route = True
            I[e, u, BLOCKED] = fight if go and not aside else -1  # its ring is full: next, another
        elif patient >= 0:
            go, gx, gy, limit, aside = tend(F, I, P, e, u, patient)
        if go:
            walk(F, I, P, e, A, u, gx, gy, limit, route, aside, shapes, clear, points, routes, anchors, BUSY, QUEUE,
                 SAVED)  # fmt: skip
            if moving and abs(F[e, u, X] - gx) < EPS and abs(F[e, u, Y] - gy) < EPS:
                I[e, u, ORD] = O_IDLE
