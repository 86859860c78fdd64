"""Compiled battle mechanics: one game loop of movement, targeting, combat (numba kernels).

State of E battles with U units each (allies first, then enemies):
``F[E, U, NF]`` floats (columns ``X..PSH``), ``I[E, U, NI]`` ints (columns ``ORD..DEADT``),
``P[U, N_PARAMS]`` the static unit parameters (units.py). Rules are documented in choices.py.
"""

from __future__ import annotations

import math

import numpy as np

from . import choices as C
from ._jit import njit
from .units import (
    KIND_BANE,
    KIND_HEAL,
    KIND_LINE,
    P_AIR,
    P_ARMOR,
    P_ARMORED,
    P_BARM,
    P_BLIGHT,
    P_CD,
    P_CHASE,
    P_CLIFF,
    P_DMG,
    P_EMAX,
    P_HITS,
    P_HITS_AIR,
    P_HP,
    P_KIND,
    P_LIGHT,
    P_PLANE,
    P_RADIUS,
    P_RANGE,
    P_REGEN,
    P_SCAN,
    P_SH,
    P_SIGHT,
    P_SPEED,
)

X, Y, HP, SH, EN, CD, SINCE, GX, GY, PHP, PSH = range(11)
NF = 11
ORD, TGT, LASTATK, DEADT = range(4)
NI = 4
O_IDLE, O_MOVE, O_ATTACK, O_HEAL = 0, 1, 2, 3

MIN_DAMAGE = C.MIN_DAMAGE
LINE_HALF, LINE_WIDTH = C.COLOSSUS_LINE_HALF, C.COLOSSUS_LINE_WIDTH
BANE_SPLASH = C.BANELING_SPLASH
SHIELD_REGEN = C.SHIELD_REGEN / 16.0
SHIELD_DELAY = C.SHIELD_REGEN_DELAY * 16.0
HEAL_RATE = C.MEDIVAC_HEAL_RATE / 16.0
HEAL_COST = C.MEDIVAC_ENERGY_PER_HP
ENERGY_REGEN = C.MEDIVAC_ENERGY_REGEN / 16.0
EPS = 1e-6


@njit
def passable(walk, cliff, x, y, air, can_cliff):
    """Whether a unit may stand at (x, y)."""
    if x < 0.0 or y < 0.0 or x >= 32.0 or y >= 32.0:
        return False
    if air:
        return True
    cx, cy = int(x), int(y)
    if walk[cx, cy]:
        return True
    return can_cliff and cliff[cx, cy]


@njit
def bfs_table(grid):
    """All-goals BFS step counts on an 8-connected grid without corner cutting ([goal, cell])."""
    n = 32 * 32
    out = np.full((n, n), -1, np.int16)
    queue = np.empty(n, np.int64)
    for g in range(n):
        if not grid[g // 32, g % 32]:
            continue
        out[g, g] = 0
        head, tail = 0, 1
        queue[0] = g
        while head < tail:
            c = queue[head]
            head += 1
            cx, cy = c // 32, c % 32
            for dx in range(-1, 2):
                for dy in range(-1, 2):
                    nx, ny = cx + dx, cy + dy
                    if (dx == 0 and dy == 0) or nx < 0 or ny < 0 or nx > 31 or ny > 31:
                        continue
                    if not grid[nx, ny] or out[g, nx * 32 + ny] >= 0:
                        continue
                    if dx != 0 and dy != 0 and not (grid[cx + dx, cy] and grid[cx, cy + dy]):
                        continue
                    out[g, nx * 32 + ny] = out[g, c] + 1
                    queue[tail] = nx * 32 + ny
                    tail += 1
    return out


@njit
def waypoint(pd, layer, walk, cliff, can_cliff, x, y, gx, gy):
    """Next point to head for on the way from (x, y) to (gx, gy) around terrain."""
    cx, cy = int(x), int(y)
    tx, ty = min(max(int(gx), 0), 31), min(max(int(gy), 0), 31)
    if (cx == tx and cy == ty) or cx < 0 or cy < 0 or cx > 31 or cy > 31:
        return gx, gy
    g = tx * 32 + ty
    d = pd[layer, g, cx * 32 + cy]
    if d < 0 or d <= max(abs(tx - cx), abs(ty - cy)):
        return gx, gy
    best, bx, by = d, gx, gy
    for dx in range(-1, 2):
        for dy in range(-1, 2):
            nx, ny = cx + dx, cy + dy
            if (dx == 0 and dy == 0) or nx < 0 or ny < 0 or nx > 31 or ny > 31:
                continue
            if not passable(walk, cliff, nx + 0.5, ny + 0.5, False, can_cliff):
                continue
            if (
                dx != 0
                and dy != 0
                and not (
                    passable(walk, cliff, cx + dx + 0.5, cy + 0.5, False, can_cliff)
                    and passable(walk, cliff, cx + 0.5, cy + dy + 0.5, False, can_cliff)
                )
            ):
                continue
            dn = pd[layer, g, nx * 32 + ny]
            if 0 <= dn < best:
                best, bx, by = dn, nx + 0.5, ny + 0.5
    return bx, by


@njit
def resolve(walk, cliff, air, can_cliff, x0, y0, x1, y1):
    """Move from (x0, y0) to (x1, y1), sliding along an axis when the target is blocked."""
    if air:
        return min(max(x1, 0.0), 32.0 - EPS), min(max(y1, 0.0), 32.0 - EPS)
    if passable(walk, cliff, x1, y1, air, can_cliff):
        return x1, y1
    if passable(walk, cliff, x1, y0, air, can_cliff):
        return x1, y0
    if passable(walk, cliff, x0, y1, air, can_cliff):
        return x0, y1
    return x0, y0


@njit
def _go(F, P, e, u, gx, gy, limit, use_path, pd, walk, cliff, NX, NY):
    """Move unit u toward (gx, gy) by at most ``limit`` (and its speed); writes NX/NY."""
    step = min(P[u, P_SPEED], limit)
    if step <= 0.0:
        return
    x, y = F[e, u, X], F[e, u, Y]
    air, cc = P[u, P_AIR] > 0, P[u, P_CLIFF] > 0
    tx, ty = gx, gy
    if use_path and not air:
        tx, ty = waypoint(pd, min(int(P[u, P_CLIFF]), pd.shape[0] - 1), walk, cliff, cc, x, y, gx, gy)
    dx, dy = tx - x, ty - y
    d = math.sqrt(dx * dx + dy * dy)
    if d <= EPS:
        return
    s = min(step, d) / d
    NX[u], NY[u] = resolve(walk, cliff, air, cc, x, y, x + dx * s, y + dy * s)


@njit
def edge_dist(F, P, e, u, v):
    """Edge-to-edge distance between units u and v."""
    dx, dy = F[e, v, X] - F[e, u, X], F[e, v, Y] - F[e, u, Y]
    return math.sqrt(dx * dx + dy * dy) - P[u, P_RADIUS] - P[v, P_RADIUS]


@njit
def _can_hit(P, u, v):
    return P[v, P_AIR] == 0 or P[u, P_HITS_AIR] > 0


@njit
def _engage(F, I, P, e, u, t, FS, FT, nf, pd, walk, cliff, NX, NY):
    """Unit u fights (or heals) t: fire if in range and ready, else walk into range."""
    heal = P[u, P_KIND] == KIND_HEAL
    edge = edge_dist(F, P, e, u, t)
    if edge <= P[u, P_RANGE] + EPS:
        if heal:
            if F[e, t, HP] < P[t, P_HP] and F[e, u, EN] > 0:
                FS[nf], FT[nf] = u, t
                return nf + 1
        elif F[e, u, CD] <= 0.0 and _can_hit(P, u, t):
            F[e, u, CD] += P[u, P_CD]
            FS[nf], FT[nf] = u, t
            return nf + 1
        return nf
    _go(F, P, e, u, F[e, t, X], F[e, t, Y], edge - P[u, P_RANGE], True, pd, walk, cliff, NX, NY)
    return nf


@njit
def hit(F, I, P, e, v, u):
    """Unit u's weapon hits unit v: bonus damage, shields first, armor per hit."""
    if F[e, v, HP] <= 0.0:
        return
    dmg = P[u, P_DMG]
    if P[v, P_ARMORED] > 0:
        dmg += P[u, P_BARM]
    if P[v, P_LIGHT] > 0:
        dmg += P[u, P_BLIGHT]
    for _ in range(int(P[u, P_HITS])):
        rem = dmg
        if F[e, v, SH] > 0.0:
            ab = min(F[e, v, SH], rem)
            F[e, v, SH] -= ab
            rem -= ab
        if rem > 0.0:
            F[e, v, HP] -= max(rem - P[v, P_ARMOR], MIN_DAMAGE)
    if F[e, v, HP] <= 1e-9:
        F[e, v, HP] = 0.0
        F[e, v, SH] = 0.0
    F[e, v, SINCE] = 0.0
    I[e, v, LASTATK] = u


@njit
def _apply(F, I, P, e, U, A, u, t):
    """Resolve one shot / heal / explosion of u at t."""
    kind = P[u, P_KIND]
    if kind == KIND_HEAL:
        amount = min(HEAL_RATE, P[t, P_HP] - F[e, t, HP], F[e, u, EN] / HEAL_COST)
        if F[e, t, HP] > 0.0 and amount > 0.0:
            F[e, t, HP] += amount
            F[e, u, EN] -= amount * HEAL_COST
        return
    enemy_lo, enemy_hi = (A, U) if u < A else (0, A)
    if kind == KIND_BANE:
        bx, by = F[e, u, X], F[e, u, Y]
        for v in range(enemy_lo, enemy_hi):
            if F[e, v, HP] > 0.0 and P[v, P_AIR] == 0:
                dx, dy = F[e, v, X] - bx, F[e, v, Y] - by
                if math.sqrt(dx * dx + dy * dy) <= BANE_SPLASH + P[v, P_RADIUS]:
                    hit(F, I, P, e, v, u)
        F[e, u, HP] = 0.0
        return
    hit(F, I, P, e, t, u)
    if kind == KIND_LINE:
        ax, ay = F[e, t, X] - F[e, u, X], F[e, t, Y] - F[e, u, Y]
        n = math.sqrt(ax * ax + ay * ay)
        if n < EPS:
            return
        ax, ay = ax / n, ay / n
        for v in range(enemy_lo, enemy_hi):
            if v == t or F[e, v, HP] <= 0.0 or P[v, P_AIR] > 0:
                continue
            rx, ry = F[e, v, X] - F[e, t, X], F[e, v, Y] - F[e, t, Y]
            along = rx * ax + ry * ay
            perp = -rx * ay + ry * ax
            off = perp - min(max(perp, -LINE_HALF), LINE_HALF)
            if math.sqrt(along * along + off * off) <= LINE_WIDTH + P[v, P_RADIUS]:
                hit(F, I, P, e, v, u)


@njit
def _enemy_target(F, I, P, e, u, A, static):
    """The built-in AI's target for enemy unit u (-1 for none); see choices.py."""
    t = I[e, u, TGT]
    t_ok = t >= 0 and F[e, t, HP] > 0.0 and _can_hit(P, u, t)
    t_edge = edge_dist(F, P, e, u, t) if t_ok else 1e9
    if t_ok and t_edge <= P[u, P_RANGE] + EPS:
        return t
    reach = P[u, P_RANGE] + EPS if static else P[u, P_SCAN]
    best, best_d = -1, 1e18
    for v in range(A):
        if F[e, v, HP] <= 0.0 or not _can_hit(P, u, v):
            continue
        d = edge_dist(F, P, e, u, v)
        if d <= reach:
            if P[v, P_KIND] == KIND_HEAL:
                d += 1000.0
            if d < best_d:
                best, best_d = v, d
    if best >= 0:
        return best
    if static:
        return -1
    if t_ok and t_edge <= P[u, P_CHASE]:
        return t
    la = I[e, u, LASTATK]
    if la >= 0 and la < A and F[e, la, HP] > 0.0 and _can_hit(P, u, la):
        return la
    return -1


@njit
def _enemy_medivac(F, I, P, e, u, A, U, FS, FT, nf, pd, walk, cliff, NX, NY):
    best, best_f = -1, 2.0
    cx, cy, cn = 0.0, 0.0, 0
    for v in range(A, U):
        if v == u or F[e, v, HP] <= 0.0 or P[v, P_KIND] == KIND_HEAL:
            continue
        cx += F[e, v, X]
        cy += F[e, v, Y]
        cn += 1
        f = F[e, v, HP] / P[v, P_HP]
        if f < 1.0 and f < best_f and edge_dist(F, P, e, u, v) <= P[u, P_SIGHT]:
            best, best_f = v, f
    if best >= 0:
        return _engage(F, I, P, e, u, best, FS, FT, nf, pd, walk, cliff, NX, NY)
    if cn > 0:
        cx, cy = cx / cn, cy / cn
        dx, dy = cx - F[e, u, X], cy - F[e, u, Y]
        if dx * dx + dy * dy > 1.0:
            _go(F, P, e, u, cx, cy, 1e9, False, pd, walk, cliff, NX, NY)
    return nf


@njit
def tick(F, I, P, e, A, mode, apx, apy, pd, walk, cliff, NX, NY, FS, FT):
    """Advance battle e by one game loop."""
    U = F.shape[1]
    for u in range(U):  # timers and regeneration
        if F[e, u, HP] <= 0.0:
            continue
        if F[e, u, CD] > 0.0:
            F[e, u, CD] -= 1.0
        F[e, u, SINCE] += 1.0
        if P[u, P_SH] > 0 and F[e, u, SINCE] >= SHIELD_DELAY:
            F[e, u, SH] = min(P[u, P_SH], F[e, u, SH] + SHIELD_REGEN)
        if P[u, P_REGEN] > 0:
            F[e, u, HP] = min(P[u, P_HP], F[e, u, HP] + P[u, P_REGEN])
        if P[u, P_EMAX] > 0:
            F[e, u, EN] = min(P[u, P_EMAX], F[e, u, EN] + ENERGY_REGEN)
        NX[u], NY[u] = F[e, u, X], F[e, u, Y]
    nf = 0
    for u in range(U):  # decisions (from the positions at the start of the loop)
        if F[e, u, HP] <= 0.0:
            continue
        if u < A:
            o = I[e, u, ORD]
            if o == O_MOVE:
                gx, gy = F[e, u, GX], F[e, u, GY]
                _go(F, P, e, u, gx, gy, 1e9, False, pd, walk, cliff, NX, NY)
                if abs(NX[u] - gx) < EPS and abs(NY[u] - gy) < EPS:
                    I[e, u, ORD] = O_IDLE
            elif o == O_ATTACK or o == O_HEAL:
                t = I[e, u, TGT]
                if F[e, t, HP] <= 0.0:
                    I[e, u, ORD] = O_IDLE
                else:
                    nf = _engage(F, I, P, e, u, t, FS, FT, nf, pd, walk, cliff, NX, NY)
        elif P[u, P_KIND] == KIND_HEAL:
            nf = _enemy_medivac(F, I, P, e, u, A, U, FS, FT, nf, pd, walk, cliff, NX, NY)
        else:
            t = _enemy_target(F, I, P, e, u, A, mode == 1)
            I[e, u, TGT] = t
            if t >= 0:
                nf = _engage(F, I, P, e, u, t, FS, FT, nf, pd, walk, cliff, NX, NY)
            elif mode != 1:
                gx, gy = apx, apy
                if mode == 2:  # hunt: the nearest live ally
                    bd = 1e18
                    for v in range(A):
                        if F[e, v, HP] > 0.0:
                            dx, dy = F[e, v, X] - F[e, u, X], F[e, v, Y] - F[e, u, Y]
                            if dx * dx + dy * dy < bd:
                                bd, gx, gy = dx * dx + dy * dy, F[e, v, X], F[e, v, Y]
                dx, dy = gx - F[e, u, X], gy - F[e, u, Y]
                if dx * dx + dy * dy > 0.25:
                    _go(F, P, e, u, gx, gy, 1e9, True, pd, walk, cliff, NX, NY)
    for u in range(U):
        if F[e, u, HP] > 0.0:
            F[e, u, X], F[e, u, Y] = NX[u], NY[u]
    _collide(F, P, e, U, walk, cliff)
    for k in range(nf):
        _apply(F, I, P, e, U, A, FS[k], FT[k])


@njit
def _collide(F, P, e, U, walk, cliff):
    """One pass of pairwise push-apart between overlapping live units of the same plane."""
    for u in range(U):
        if F[e, u, HP] <= 0.0:
            continue
        for v in range(u + 1, U):
            if F[e, v, HP] <= 0.0 or P[u, P_PLANE] != P[v, P_PLANE]:
                continue
            dx, dy = F[e, v, X] - F[e, u, X], F[e, v, Y] - F[e, u, Y]
            rr = P[u, P_RADIUS] + P[v, P_RADIUS]
            d2 = dx * dx + dy * dy
            if d2 >= rr * rr:
                continue
            wu, wv = P[u, P_SPEED] > 0, P[v, P_SPEED] > 0
            if not (wu or wv):
                continue
            d = math.sqrt(d2)
            if d < 1e-9:
                ang = 2.399963 * (u + 7 * v)
                dx, dy, d = math.cos(ang), math.sin(ang), 1.0
            o = (rr - d) / d
            su = 0.5 if (wu and wv) else (1.0 if wu else 0.0)
            sv = 1.0 - su
            if su > 0:
                _push(F, P, e, u, -su * o * dx, -su * o * dy, walk, cliff)
            if sv > 0:
                _push(F, P, e, v, sv * o * dx, sv * o * dy, walk, cliff)


@njit
def _push(F, P, e, w, dx, dy, walk, cliff):
    x0, y0 = F[e, w, X], F[e, w, Y]
    F[e, w, X], F[e, w, Y] = resolve(walk, cliff, P[w, P_AIR] > 0, P[w, P_CLIFF] > 0, x0, y0, x0 + dx, y0 + dy)
