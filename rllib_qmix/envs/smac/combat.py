"""Compiled combat: an attack from its start to its last hit, damage, splash, heals.

An attack (``choices.py``: combat timing) starts when the weapon is ready, the target within
range (range + rangeSlop once the weapon holds it) and within the weapon's arc of the unit's
facing; it takes the weapon's period plus SC2's random delay as its cooldown. Its effect comes
at the damage point: instant hits (the first after the effect's own delay, the others at its
intervals), a missile that flies to the target (wasted if the target dies first), or the
baneling's burst. The backswing follows. A baneling that dies bursts too; bursts that kill
banelings set off theirs (a queue, ``BQ``).
"""

from __future__ import annotations

import math

from . import choices as C
from ._jit import njit
from .rng import uniform
from .state import (
    CD,
    EN,
    H_MISSILE,
    H_NONE,
    H_TIMED,
    HKIND,
    HN,
    HP,
    HT,
    LASTATK,
    LOCK,
    MV,
    MX,
    MY,
    SH,
    SINCE,
    W_BACKSWING,
    W_READY,
    W_WINDUP,
    WINC,
    WMEL,
    WPH,
    WT,
    WTG,
    X,
    Y,
)
from .units import (
    KIND_BANE,
    KIND_LINE,
    P_AIR,
    P_ARMOR,
    P_ARMORED,
    P_BARM,
    P_BLIGHT,
    P_BSW,
    P_CD,
    P_DLYMAX,
    P_DLYMIN,
    P_DMG,
    P_DP,
    P_HEAL,
    P_HEALCOST,
    P_HIT1,
    P_HITGAP,
    P_HITS,
    P_HP,
    P_KIND,
    P_LIGHT,
    P_MACC,
    P_MBSW,
    P_MCD,
    P_MDP,
    P_MMAX,
    P_MRANGE,
    P_MSPD,
    P_RADIUS,
    P_SPLASH,
)

MIN_DAMAGE = C.MIN_DAMAGE
LINE_HALF, LINE_WIDTH = C.COLOSSUS_LINE_HALF, C.COLOSSUS_LINE_WIDTH


@njit
def hit(F, I, P, e, v, u, BQ, nb):
    """One hit of unit u's weapon on unit v: bonus damage, shields first (no armor), then the
    rest less v's armor, at least ``MIN_DAMAGE``. A baneling it kills joins the burst queue
    ``BQ`` (``nb`` entries; the new count is returned)."""
    if F[e, v, HP] <= 0.0:
        return nb
    dmg = P[u, P_DMG]
    if P[v, P_ARMORED] > 0:
        dmg += P[u, P_BARM]
    if P[v, P_LIGHT] > 0:
        dmg += P[u, P_BLIGHT]
    if F[e, v, SH] > 0.0:
        absorbed = min(F[e, v, SH], dmg)
        F[e, v, SH] -= absorbed
        dmg -= absorbed
    if dmg > 0.0:
        F[e, v, HP] -= max(dmg - P[v, P_ARMOR], MIN_DAMAGE)
    F[e, v, SINCE] = 0.0
    I[e, v, LASTATK] = u
    if F[e, v, HP] <= 1e-9:
        F[e, v, HP] = 0.0
        F[e, v, SH] = 0.0
        if P[v, P_KIND] == KIND_BANE:  # a baneling bursts on death [SC2 combat reference, S4]
            BQ[nb] = v
            nb += 1
    return nb


@njit
def burst(F, I, P, e, A, b, BQ, nb):
    """Baneling b's Volatile Burst at its position: every live ground unit of the other side
    whose edge is within the splash radius takes one hit (no friendly fire)."""
    U = F.shape[1]
    lo, hi = (A, U) if b < A else (0, A)
    bx, by = F[e, b, X], F[e, b, Y]
    for v in range(lo, hi):
        if F[e, v, HP] > 0.0 and P[v, P_AIR] == 0:
            dx, dy = F[e, v, X] - bx, F[e, v, Y] - by
            if math.sqrt(dx * dx + dy * dy) <= P[b, P_SPLASH] + P[v, P_RADIUS]:
                nb = hit(F, I, P, e, v, b, BQ, nb)
    return nb


@njit
def resolve_bursts(F, I, P, e, A, BQ, nb):
    """Sets off the queued banelings' bursts, and those of the banelings they kill in turn."""
    while nb > 0:
        nb -= 1
        nb = burst(F, I, P, e, A, BQ[nb], BQ, nb)


@njit
def strike(F, I, P, e, A, u, t, BQ, nb):
    """One hit of u's attack on t (the colossus's beam: on every ground unit of t's side along
    a segment across the attack through t)."""
    nb = hit(F, I, P, e, t, u, BQ, nb)
    if P[u, P_KIND] != KIND_LINE:
        return nb
    ax, ay = F[e, t, X] - F[e, u, X], F[e, t, Y] - F[e, u, Y]
    n = math.sqrt(ax * ax + ay * ay)
    if n < 1e-9:
        return nb
    ax, ay = ax / n, ay / n
    U = F.shape[1]
    lo, hi = (A, U) if u < A else (0, A)
    for v in range(lo, hi):
        if v == t or F[e, v, HP] <= 0.0 or P[v, P_AIR] > 0:
            continue
        rx, ry = F[e, v, X] - F[e, t, X], F[e, v, Y] - F[e, t, Y]
        along = rx * ax + ry * ay
        perp = -rx * ay + ry * ax
        off = perp - min(max(perp, -LINE_HALF), LINE_HALF)
        if math.sqrt(along * along + off * off) <= LINE_WIDTH + P[v, P_RADIUS]:
            nb = hit(F, I, P, e, v, u, BQ, nb)
    return nb


@njit(inline="always")
def uses_melee(F, P, e, u, t, d):
    """Whether u attacks t at edge distance d with its close-range weapon (the hydralisk's)."""
    return P[u, P_MRANGE] >= 0.0 and d <= P[u, P_MRANGE] and P[t, P_AIR] == 0


@njit
def start_attack(F, I, P, S, e, A, u, t, d, BQ):
    """u starts an attack on t (its weapon ready, t in reach and in its arc): the cooldown is
    the period plus SC2's random delay, drawn from the battle's stream; a weapon without a
    damage point strikes at once."""
    melee = uses_melee(F, P, e, u, t, d)
    period = P[u, P_MCD] if melee else P[u, P_CD]
    delay = P[u, P_DLYMIN] + uniform(S, e) * (P[u, P_DLYMAX] - P[u, P_DLYMIN])
    inc = period + delay
    F[e, u, CD] += inc
    F[e, u, WINC] = inc
    I[e, u, WTG], I[e, u, LOCK], I[e, u, WMEL] = t, t, melee
    I[e, u, WPH] = W_WINDUP
    F[e, u, WT] = P[u, P_MDP] if melee else P[u, P_DP]
    if F[e, u, WT] <= 0.0:
        fire(F, I, P, e, A, u, BQ)


@njit
def fire(F, I, P, e, A, u, BQ):
    """The damage point of u's attack: the burst, the missile's launch or the first hits; then
    the backswing. A target that died during the wind-up wastes the attack."""
    t = I[e, u, WTG]
    melee = I[e, u, WMEL] > 0
    I[e, u, WPH] = W_BACKSWING
    F[e, u, WT] += P[u, P_MBSW] if melee else P[u, P_BSW]
    if F[e, u, WT] <= 0.0:
        I[e, u, WPH] = W_READY
    if t < 0 or F[e, t, HP] <= 0.0:
        return
    if P[u, P_KIND] == KIND_BANE:  # Volatile Burst: the baneling explodes (its own death: no second burst)
        nb = burst(F, I, P, e, A, u, BQ, 0)
        F[e, u, HP] = 0.0
        resolve_bursts(F, I, P, e, A, BQ, nb)
        return
    if P[u, P_MMAX] > 0.0 and not melee:
        I[e, u, HKIND], I[e, u, HN] = H_MISSILE, 1
        F[e, u, MX], F[e, u, MY], F[e, u, MV] = F[e, u, X], F[e, u, Y], P[u, P_MSPD]
        return
    I[e, u, HKIND], I[e, u, HN] = H_TIMED, int(P[u, P_HITS])
    F[e, u, HT] = P[u, P_HIT1]
    effects(F, I, P, e, A, u, BQ, False)


@njit
def effects(F, I, P, e, A, u, BQ, tick):
    """Advances u's attack effects in flight by one loop (``tick``) or lands those due now:
    the missile flies toward its target (its speed per ``MoverData``) and hits on reaching its
    edge; timed hits land when due. Effects go on after the attacker's death."""
    kind = I[e, u, HKIND]
    if kind == H_NONE:
        return
    t = I[e, u, WTG]
    if F[e, t, HP] <= 0.0:  # the target died first: the rest is wasted
        I[e, u, HKIND], I[e, u, HN] = H_NONE, 0
        return
    nb = 0
    if kind == H_MISSILE:
        if not tick:
            return
        F[e, u, MV] = min(F[e, u, MV] + P[u, P_MACC], P[u, P_MMAX])
        dx, dy = F[e, t, X] - F[e, u, MX], F[e, t, Y] - F[e, u, MY]
        d = math.sqrt(dx * dx + dy * dy)
        left = d - P[t, P_RADIUS]
        if left <= F[e, u, MV]:
            nb = strike(F, I, P, e, A, u, t, BQ, nb)
            I[e, u, HKIND], I[e, u, HN] = H_NONE, 0
        else:
            F[e, u, MX] += dx * F[e, u, MV] / d
            F[e, u, MY] += dy * F[e, u, MV] / d
    else:
        if tick:
            F[e, u, HT] -= 1.0
        while I[e, u, HN] > 0 and F[e, u, HT] <= 0.0 and F[e, t, HP] > 0.0:
            nb = strike(F, I, P, e, A, u, t, BQ, nb)
            I[e, u, HN] -= 1
            F[e, u, HT] += P[u, P_HITGAP]
        if I[e, u, HN] == 0 or F[e, t, HP] <= 0.0:
            I[e, u, HKIND], I[e, u, HN] = H_NONE, 0
    resolve_bursts(F, I, P, e, A, BQ, nb)


@njit(inline="always")
def weapon_busy(F, I, P, e, A, u, BQ):
    """Advances u's attack animation by one loop: the wind-up ends in the damage point, the
    backswing in a ready weapon. True while the animation holds the unit in place."""
    ph = I[e, u, WPH]
    if ph == W_READY:
        return False
    F[e, u, WT] -= 1.0
    if F[e, u, WT] > 0.0:
        return True
    if ph == W_WINDUP:
        fire(F, I, P, e, A, u, BQ)
        return I[e, u, WPH] != W_READY
    I[e, u, WPH] = W_READY
    return False


@njit(inline="always")
def cut_attack(F, I, e, u):
    """A new order cuts u's attack: a wind-up before its damage point is cancelled and its
    cooldown refunded; a backswing ends."""
    if I[e, u, WPH] == W_WINDUP:
        F[e, u, CD] -= F[e, u, WINC]
    I[e, u, WPH] = W_READY
    F[e, u, WT] = 0.0
    I[e, u, LOCK] = -1


@njit
def heal(F, P, e, u, t):
    """One loop of medivac u's heal on t: its rate, paid in energy; False if nothing to heal."""
    amount = min(P[u, P_HEAL], P[t, P_HP] - F[e, t, HP], F[e, u, EN] / P[u, P_HEALCOST])
    if F[e, t, HP] <= 0.0 or amount <= 0.0:
        return False
    F[e, t, HP] += amount
    F[e, u, EN] -= amount * P[u, P_HEALCOST]
    return True
