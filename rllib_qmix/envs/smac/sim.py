"""Compiled battle mechanics: one game loop of orders, targeting, movement and combat.

State of E battles with U units each (allies first, then enemies):
``F[E, U, NF]`` floats (columns ``X..PSH``), ``I[E, U, NI]`` ints (columns ``ORD..DEADT``),
``P[U, N_PARAMS]`` the static unit figures in engine units (units.py: game loops, map units
per loop). The terrain arrays come from terrain.py. Rules are documented in choices.py.

A game loop: timers and regeneration; every unit decides (from the positions at the start of
the loop) where it wants to go and whether it fires; units then move one by one, blocked by
terrain and by the units they may not push (enemies, structures, own units that are busy),
pushing their own idle units out of the way; then the shots of the loop land.
"""

from __future__ import annotations

import math

from . import choices as C
from ._jit import njit
from .maps import ORDER_CLOSEST_UNIT
from .terrain import fits, slide, wall_move, wall_move_fast, waypoint
from .units import (
    KIND_BANE,
    KIND_HEAL,
    KIND_LINE,
    P_AIR,
    P_ARMOR,
    P_ARMORED,
    P_BARM,
    P_BIO,
    P_BLIGHT,
    P_CD,
    P_CHASE,
    P_CLIFF,
    P_DMG,
    P_EMAX,
    P_EREGEN,
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
    P_SHDELAY,
    P_SHREGEN,
    P_SIGHT,
    P_SPEED,
    P_STATIC,
    PLANE_AIR,
    per_loop,
)

X, Y, HP, SH, EN, CD, SINCE, GX, GY, PHP, PSH = range(11)
NF = 11
ORD, TGT, LASTATK, DEADT = range(4)
NI = 4
O_IDLE, O_MOVE, O_ATTACK, O_HEAL = 0, 1, 2, 3

MIN_DAMAGE = C.MIN_DAMAGE
LINE_HALF, LINE_WIDTH = C.COLOSSUS_LINE_HALF, C.COLOSSUS_LINE_WIDTH
BANE_SPLASH = C.BANELING_SPLASH
HEAL_PER_LOOP = per_loop(C.MEDIVAC_HEAL_RATE)
HEAL_COST = C.MEDIVAC_ENERGY_PER_HP
EPS = 1e-6
OVERLAP_EPS = 1e-7
#: Most units one move may push aside, one after another (choices.py).
MAX_PUSHED = 8


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
def _go(F, P, e, u, gx, gy, limit, use_route, shapes, clear, points, routes, anchors, NX, NY):
    """Unit u's wanted position on its way to (gx, gy), at most ``limit`` (and its speed) away,
    around terrain (a route when ``use_route``) and sliding along walls; writes NX/NY."""
    step = min(P[u, P_SPEED], limit)
    if step <= 0.0:
        return
    x, y = F[e, u, X], F[e, u, Y]
    tx, ty = gx, gy
    air = P[u, P_AIR] > 0
    layer = 1 if P[u, P_CLIFF] > 0 else 0
    if use_route and not air:
        tx, ty = waypoint(routes, anchors, points, layer, x, y, gx, gy)
    dx, dy = tx - x, ty - y
    d = math.sqrt(dx * dx + dy * dy)
    if d <= EPS:
        return
    s = min(step, d) / d
    nx, ny = x + dx * s, y + dy * s
    if air:  # flying units ignore terrain, not the map's edge
        NX[u], NY[u] = min(max(nx, 0.0), 32.0 - EPS), min(max(ny, 0.0), 32.0 - EPS)
    else:
        NX[u], NY[u] = wall_move_fast(shapes[layer], clear[layer], x, y, nx, ny, P[u, P_RADIUS])


@njit(inline="always")
def _engage(F, I, P, e, u, t, FS, FT, nf, shapes, clear, points, routes, anchors, NX, NY):
    """Unit u fights (or heals) t: fire if in range and ready, else walk into range."""
    heal = P[u, P_KIND] == KIND_HEAL
    edge = edge_dist(F, P, e, u, t)
    if edge <= P[u, P_RANGE] + EPS:
        if heal:
            if F[e, t, HP] < P[t, P_HP] and F[e, u, EN] > 0:
                FS[nf], FT[nf] = u, t
                return nf + 1
        elif F[e, u, CD] <= 0.0 and can_hit(P, u, t):
            F[e, u, CD] += P[u, P_CD]
            FS[nf], FT[nf] = u, t
            return nf + 1
        return nf
    _go(F, P, e, u, F[e, t, X], F[e, t, Y], edge - P[u, P_RANGE], True, shapes, clear, points, routes, anchors, NX, NY)
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
        amount = min(HEAL_PER_LOOP, P[t, P_HP] - F[e, t, HP], F[e, u, EN] / HEAL_COST)
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


@njit(inline="always")
def _enemy_target(F, I, P, e, u, A, static):
    """The built-in AI's target for enemy unit u (-1 for none); see choices.py."""
    t = I[e, u, TGT]
    t_ok = t >= 0 and F[e, t, HP] > 0.0 and can_hit(P, u, t)
    t_edge = edge_dist(F, P, e, u, t) if t_ok else 1e9
    if t_ok and t_edge <= P[u, P_RANGE] + EPS:
        return t
    reach = P[u, P_RANGE] + EPS if static else P[u, P_SCAN]
    best, best_d = -1, 1e18
    for v in range(A):
        if F[e, v, HP] <= 0.0 or not can_hit(P, u, v):
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
    if la >= 0 and la < A and F[e, la, HP] > 0.0 and can_hit(P, u, la):
        return la
    return -1


@njit
def _enemy_medivac(F, I, P, e, u, A, U, FS, FT, nf, shapes, clear, points, routes, anchors, NX, NY):
    best, best_f = -1, 2.0
    cx, cy, cn = 0.0, 0.0, 0
    for v in range(A, U):
        if v == u or F[e, v, HP] <= 0.0 or P[v, P_KIND] == KIND_HEAL:
            continue
        cx += F[e, v, X]
        cy += F[e, v, Y]
        cn += 1
        f = F[e, v, HP] / P[v, P_HP]
        if f < 1.0 and f < best_f and can_hit(P, u, v) and edge_dist(F, P, e, u, v) <= P[u, P_SIGHT]:
            best, best_f = v, f
    if best >= 0:
        return _engage(F, I, P, e, u, best, FS, FT, nf, shapes, clear, points, routes, anchors, NX, NY)
    if cn > 0:
        cx, cy = cx / cn, cy / cn
        dx, dy = cx - F[e, u, X], cy - F[e, u, Y]
        if dx * dx + dy * dy > 1.0:
            _go(F, P, e, u, cx, cy, 1e9, False, shapes, clear, points, routes, anchors, NX, NY)
    return nf


@njit
def order_closest(F, I, P, e, A):
    """SMACv2's enemy AI, run every 8 loops: each live enemy without a live target (no order)
    is ordered to attack the closest live agent unit (centre distance) it can target; a
    healer gets no order (choices.py)."""
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
            dx, dy = F[e, v, X] - F[e, u, X], F[e, v, Y] - F[e, u, Y]
            d = dx * dx + dy * dy
            if d < best_d:
                best, best_d = v, d
        I[e, u, TGT] = best


@njit
def tick(
    F, I, P, e, A, mode, apx, apy, shapes, clear, points, routes, anchors, NX, NY, FS, FT, BUSY, QUEUE, SAVED, parity
):
    """Advance battle e by one game loop."""
    U = F.shape[1]
    for u in range(U):  # timers and regeneration
        if F[e, u, HP] <= 0.0:
            continue
        if F[e, u, CD] > 0.0:
            F[e, u, CD] -= 1.0
        F[e, u, SINCE] += 1.0
        if P[u, P_SH] > 0 and F[e, u, SINCE] >= P[u, P_SHDELAY]:
            F[e, u, SH] = min(P[u, P_SH], F[e, u, SH] + P[u, P_SHREGEN])
        if P[u, P_REGEN] > 0 and F[e, u, HP] < P[u, P_HP]:
            F[e, u, HP] = min(P[u, P_HP], F[e, u, HP] + P[u, P_REGEN])
        if P[u, P_EMAX] > 0:
            F[e, u, EN] = min(P[u, P_EMAX], F[e, u, EN] + P[u, P_EREGEN])
        NX[u], NY[u] = F[e, u, X], F[e, u, Y]
    nf = 0
    for u in range(U):  # decisions (from the positions at the start of the loop)
        BUSY[u] = False
        if F[e, u, HP] <= 0.0:
            continue
        if u < A:
            o = I[e, u, ORD]
            BUSY[u] = o != O_IDLE
            if o == O_MOVE:
                gx, gy = F[e, u, GX], F[e, u, GY]
                _go(F, P, e, u, gx, gy, 1e9, False, shapes, clear, points, routes, anchors, NX, NY)
                if abs(F[e, u, X] - gx) < EPS and abs(F[e, u, Y] - gy) < EPS:
                    I[e, u, ORD] = O_IDLE
            elif o == O_ATTACK or o == O_HEAL:
                t = I[e, u, TGT]
                if F[e, t, HP] <= 0.0:
                    I[e, u, ORD] = O_IDLE
                else:
                    nf = _engage(F, I, P, e, u, t, FS, FT, nf, shapes, clear, points, routes, anchors, NX, NY)
        elif P[u, P_KIND] == KIND_HEAL:
            BUSY[u] = True
            nf = _enemy_medivac(F, I, P, e, u, A, U, FS, FT, nf, shapes, clear, points, routes, anchors, NX, NY)
        elif mode == ORDER_CLOSEST_UNIT:  # attack the unit ordered by order_closest until it dies
            t = I[e, u, TGT]
            if t >= 0 and F[e, t, HP] > 0.0:
                BUSY[u] = True
                nf = _engage(F, I, P, e, u, t, FS, FT, nf, shapes, clear, points, routes, anchors, NX, NY)
            else:
                I[e, u, TGT] = -1
        else:
            t = _enemy_target(F, I, P, e, u, A, mode == 1)
            I[e, u, TGT] = t
            if t >= 0:
                BUSY[u] = True
                nf = _engage(F, I, P, e, u, t, FS, FT, nf, shapes, clear, points, routes, anchors, NX, NY)
            elif mode != 1:
                gx, gy = F[e, u, GX], F[e, u, GY]  # the attack point + its place in the formation
                if mode == 2:  # attack the ally unit group: the nearest live ally
                    bd = 1e18
                    for v in range(A):
                        if F[e, v, HP] > 0.0:
                            dx, dy = F[e, v, X] - F[e, u, X], F[e, v, Y] - F[e, u, Y]
                            if dx * dx + dy * dy < bd:
                                bd, gx, gy = dx * dx + dy * dy, F[e, v, X], F[e, v, Y]
                dx, dy = gx - F[e, u, X], gy - F[e, u, Y]
                if dx * dx + dy * dy > C.ARRIVAL_RADIUS**2:
                    BUSY[u] = True
                    _go(F, P, e, u, gx, gy, 1e9, True, shapes, clear, points, routes, anchors, NX, NY)
    for k in range(U):  # movement, one unit at a time; the order alternates between loops
        u = k if parity == 0 else U - 1 - k
        if F[e, u, HP] > 0.0 and (NX[u] != F[e, u, X] or NY[u] != F[e, u, Y]):
            _move(F, P, e, u, A, NX[u], NY[u], shapes, BUSY, QUEUE, SAVED)
    for k in range(nf):
        _apply(F, I, P, e, U, A, FS[k], FT[k])


@njit(inline="always")
def _collide(P, u, v):
    """Whether units u and v block each other: same plane, and not flying (choices.py)."""
    return P[u, P_PLANE] == P[v, P_PLANE] and P[u, P_PLANE] != PLANE_AIR


@njit(inline="always")
def _pushable(F, P, e, A, u, v, BUSY):
    """Whether mover u pushes v aside: an idle, mobile unit of u's own side."""
    return ((u < A) == (v < A)) and not BUSY[v] and P[v, P_STATIC] == 0 and P[v, P_SPEED] > 0


@njit(inline="always")
def _deepest(F, P, e, A, u, tx, ty, r, BUSY):
    """The unit u may not push that overlaps it most at (tx, ty) (-1 if none), and whether
    some unit it may push overlaps it there."""
    w, depth, pushes = -1, OVERLAP_EPS, False
    for v in range(F.shape[1]):
        if v == u:
            continue
        rr = r + P[v, P_RADIUS]
        dx, dy = tx - F[e, v, X], ty - F[e, v, Y]
        if abs(dx) >= rr or abs(dy) >= rr or F[e, v, HP] <= 0.0 or not _collide(P, u, v):
            continue
        d2 = dx * dx + dy * dy
        if d2 >= (rr - OVERLAP_EPS) ** 2:
            continue
        if _pushable(F, P, e, A, u, v, BUSY):
            pushes = True
            continue
        dd = rr - math.sqrt(d2)
        if dd > depth:
            w, depth = v, dd
    return w, pushes


@njit(inline="always")
def _move(F, P, e, u, A, tx, ty, shapes, BUSY, queue, saved):
    """Moves unit u toward (tx, ty) (already clear of walls): slides around the units it may
    not push, pushes its own idle units aside, and stays put where nothing fits. ``queue`` and
    ``saved`` are scratch arrays of ``MAX_PUSHED`` rows."""
    U = F.shape[1]
    x0, y0 = F[e, u, X], F[e, u, Y]
    step = math.hypot(tx - x0, ty - y0)
    if P[u, P_PLANE] == PLANE_AIR:  # flying units pass over everything (choices.py)
        F[e, u, X], F[e, u, Y] = tx, ty
        return
    layer = 1 if P[u, P_CLIFF] > 0 else 0
    r = P[u, P_RADIUS]
    slid = False
    for it in range(4):  # slide around the deepest unit in the way, keeping the step's length
        w, pushes = _deepest(F, P, e, A, u, tx, ty, r, BUSY)
        if it == 0 and w < 0 and not pushes:  # nothing in the way: the common case
            F[e, u, X], F[e, u, Y] = tx, ty
            return
        if w < 0:
            break
        tx, ty = slide(x0, y0, step, tx, ty, F[e, w, X], F[e, w, Y], r + P[w, P_RADIUS])
        if tx != tx:  # no room: u waits
            return
        slid = True
    if math.hypot(tx - x0, ty - y0) <= 1e-12:
        return
    if slid:  # the slide may have led into a wall or back into a unit
        if not fits(shapes[layer], tx, ty, r):
            tx, ty = wall_move(shapes[layer], x0, y0, tx, ty, r)
        if _deepest(F, P, e, A, u, tx, ty, r, BUSY)[0] >= 0:  # the units u may not push: clear of it
            return
    # Own idle units in the way step aside, and the idle units in their way in turn (a chain of
    # at most MAX_PUSHED units); if one of them can't make way, nobody moves and u waits.
    ox, oy = F[e, u, X], F[e, u, Y]
    F[e, u, X], F[e, u, Y] = tx, ty
    n = 0
    head = -1  # -1: the pushes of u itself, then those of each pushed unit in turn
    while True:
        p = u if head < 0 else queue[head]
        for v in range(U):
            if v == p or (v == u and p == u):
                continue
            rr = P[p, P_RADIUS] + P[v, P_RADIUS]
            dx, dy = F[e, v, X] - F[e, p, X], F[e, v, Y] - F[e, p, Y]
            if abs(dx) >= rr or abs(dy) >= rr or F[e, v, HP] <= 0.0 or not _collide(P, p, v):
                continue
            d2 = dx * dx + dy * dy
            if d2 >= (rr - OVERLAP_EPS) ** 2:
                continue
            queued = False
            for k in range(n):
                queued = queued or queue[k] == v
            if queued or not _pushable(F, P, e, A, u, v, BUSY) or n == MAX_PUSHED:
                for k in range(n):  # undo: v is in the way for good
                    F[e, queue[k], X], F[e, queue[k], Y] = saved[k, 0], saved[k, 1]
                F[e, u, X], F[e, u, Y] = ox, oy
                return
            d = math.sqrt(d2)
            if d < 1e-9:  # on top of its pusher: away from where the pusher came from
                dx, dy = (
                    F[e, v, X] - (ox if p == u else saved[head, 0]),
                    F[e, v, Y] - (oy if p == u else saved[head, 1]),
                )
                d = math.hypot(dx, dy)
                if d < 1e-9:
                    dx, dy, d = 1.0, 0.0, 1.0
            vx, vy = F[e, p, X] + dx * rr / d, F[e, p, Y] + dy * rr / d
            v_layer = 1 if P[v, P_CLIFF] > 0 else 0
            if not fits(shapes[v_layer], vx, vy, P[v, P_RADIUS]):
                for k in range(n):
                    F[e, queue[k], X], F[e, queue[k], Y] = saved[k, 0], saved[k, 1]
                F[e, u, X], F[e, u, Y] = ox, oy
                return
            queue[n] = v
            saved[n, 0], saved[n, 1] = F[e, v, X], F[e, v, Y]
            F[e, v, X], F[e, v, Y] = vx, vy
            n += 1
        head += 1
        if head >= n:
            break
    F[e, u, X], F[e, u, Y] = tx, ty
