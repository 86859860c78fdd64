"""Compiled movement: routes around terrain, solid units, free spots around a melee target.

A unit moves once per game loop, at its turn in the loop's random update order, from where
the units around it stand at that moment: toward its goal (around terrain, ``terrain.py``), then
clear of the units it may not push (enemies, structures, its own busy units) by sliding along
them or, where the way ahead stays blocked, by stepping aside (``choices.py``: crowds); its own
idle units make way. Melee attackers head for a free spot on the ring around their target.
"""

from __future__ import annotations

import math

from . import choices as C
from ._jit import njit
from .state import EPS, FX, FY, HP, SIDE, X, Y
from .terrain import fits, fits_fast, norm, slide, wall_move, wall_move_fast, waypoint
from .units import P_AIR, P_CLIFF, P_PLANE, P_RADIUS, P_SPEED, P_STATIC, P_TURNCOS, P_TURNSIN, PLANE_AIR

OVERLAP_EPS = 1e-7
#: Most units one move may push aside, one after another (choices.py: crowds).
MAX_PUSHED = C.MAX_PUSHED
#: Directions tried, after the way ahead, by a unit whose way stays blocked, as cosines and
#: sines (each to its preferred side first).
SIDESTEP_COS = tuple(math.cos(math.radians(a)) for a in C.SIDESTEP_DEGREES)
SIDESTEP_SIN = tuple(math.sin(math.radians(a)) for a in C.SIDESTEP_DEGREES)
#: Spots tried on the ring around a melee attacker's target, up to 180 degrees to each side of
#: its own direction (cosines and sines of the k-th step).
_RING_STEPS = int(round(180.0 / C.RING_STEP_DEGREES))
RING_COS = tuple(math.cos(math.radians(k * C.RING_STEP_DEGREES)) for k in range(_RING_STEPS + 1))
RING_SIN = tuple(math.sin(math.radians(k * C.RING_STEP_DEGREES)) for k in range(_RING_STEPS + 1))
RING_LOOKOUT, ORBIT_STEPS, ORBIT_MARGIN = C.RING_LOOKOUT, C.ORBIT_STEPS, C.ORBIT_MARGIN


@njit(inline="always")
def collide(P, u, v):
    """Whether units u and v block each other: same plane, and not flying (choices.py)."""
    return P[u, P_PLANE] == P[v, P_PLANE] and P[u, P_PLANE] != PLANE_AIR


@njit(inline="always")
def pushable(P, A, u, v, BUSY):
    """Whether mover u pushes v aside: an idle, mobile unit of u's own side."""
    return ((u < A) == (v < A)) and not BUSY[v] and P[v, P_STATIC] == 0 and P[v, P_SPEED] > 0


@njit(inline="always")
def deepest(F, P, e, A, u, tx, ty, r, BUSY):
    """The unit u may not push that overlaps it most at (tx, ty) (-1 if none), and whether
    some unit it may push overlaps it there."""
    w, depth, pushes = -1, OVERLAP_EPS, False
    for v in range(F.shape[1]):
        if v == u:
            continue
        rr = r + P[v, P_RADIUS]
        dx, dy = tx - F[e, v, X], ty - F[e, v, Y]
        if abs(dx) >= rr or abs(dy) >= rr or F[e, v, HP] <= 0.0 or not collide(P, u, v):
            continue
        d2 = dx * dx + dy * dy
        if d2 >= (rr - OVERLAP_EPS) ** 2:
            continue
        if pushable(P, A, u, v, BUSY):
            pushes = True
            continue
        dd = rr - math.sqrt(d2)
        if dd > depth:
            w, depth = v, dd
    return w, pushes


@njit(inline="always")
def turn_toward(F, P, e, u, dx, dy):
    """Turns u's facing toward the unit vector (dx, dy) by at most one loop's turn (its turning
    rate [D units.json turningRate] / 16)."""
    fx, fy = F[e, u, FX], F[e, u, FY]
    c = P[u, P_TURNCOS]
    if fx * dx + fy * dy >= c:
        F[e, u, FX], F[e, u, FY] = dx, dy
        return
    s = P[u, P_TURNSIN] if fx * dy - fy * dx >= 0.0 else -P[u, P_TURNSIN]
    F[e, u, FX], F[e, u, FY] = fx * c - fy * s, fx * s + fy * c


@njit(inline="always")
def walk(F, I, P, e, A, u, gx, gy, limit, use_route, aside, shapes, clear, points, routes, anchors, BUSY, queue, saved):
    """Unit u walks toward (gx, gy), at most ``limit`` (and its speed) this loop: around terrain
    (a route when ``use_route``), sliding along walls, then clear of other units (``move``),
    stepping aside (if ``aside``) where its way stays blocked. Turns toward where it goes."""
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
    step = min(step, d)
    ux, uy = dx / d, dy / d
    turn_toward(F, P, e, u, ux, uy)
    nx, ny = x + ux * step, y + uy * step
    if air:  # flying units ignore terrain and units, not the map's edge
        F[e, u, X], F[e, u, Y] = min(max(nx, 0.0), 32.0 - EPS), min(max(ny, 0.0), 32.0 - EPS)
        return
    r = P[u, P_RADIUS]
    nx, ny = wall_move_fast(shapes, clear, layer, x, y, nx, ny, r)
    if (
        move(F, P, e, u, A, nx, ny, shapes, BUSY, queue, saved)
        and (F[e, u, X] - x) ** 2 + (F[e, u, Y] - y) ** 2 > (0.5 * step) ** 2
    ):
        I[e, u, SIDE] = 0
        return
    if not aside:
        return
    # Blocked: step aside, first on the side it took last, keeping its step's length.
    side = I[e, u, SIDE] if I[e, u, SIDE] != 0 else (1 if (u % 2) == 0 else -1)
    for k in range(len(SIDESTEP_COS)):
        c, sn = SIDESTEP_COS[k], SIDESTEP_SIN[k]
        for s in (side, -side):
            sx = x + step * (ux * c - uy * sn * s)
            sy = y + step * (ux * sn * s + uy * c)
            w, pushes = deepest(F, P, e, A, u, sx, sy, r, BUSY)
            if w < 0 and not pushes and fits_fast(shapes, clear, layer, sx, sy, r):
                F[e, u, X], F[e, u, Y] = sx, sy
                I[e, u, SIDE] = s
                return


@njit(inline="always")
def ring_spot(F, P, e, u, t, rng, shapes, clear, NEAR, FULL):
    """Where melee attacker u heads to reach t: the nearest free spot, by angle from u's side, on
    the ring of points at ``rng`` (within its range) from t's edge (or, for a spot far round,
    a point on its way round t), and True; else t itself and False (t is far, or its ring is
    full). ``NEAR``: scratch for the units around the ring; ``FULL[t]``: t's ring was found full
    in this loop (the next attackers don't look again)."""
    tx, ty = F[e, t, X], F[e, t, Y]
    r = P[u, P_RADIUS]
    rad = P[t, P_RADIUS] + r + rng
    dx, dy = F[e, u, X] - tx, F[e, u, Y] - ty
    d = math.sqrt(dx * dx + dy * dy)
    if d - rad > RING_LOOKOUT or d < EPS or FULL[t]:
        return tx, ty, False
    n = 0  # the units that may stand on the ring: centres within rad + r + their radius of t
    for v in range(F.shape[1]):
        if v != u and v != t and F[e, v, HP] > 0.0 and collide(P, u, v):
            reach = rad + r + P[v, P_RADIUS]
            ex, ey = F[e, v, X] - tx, F[e, v, Y] - ty
            if ex * ex + ey * ey < reach * reach:
                NEAR[n] = v
                n += 1
    ux, uy = dx / d, dy / d
    layer = 1 if P[u, P_CLIFF] > 0 else 0
    for k in range(len(RING_COS)):
        c, sn = RING_COS[k], RING_SIN[k]
        for s in (1.0, -1.0):
            if (k == 0 or k == len(RING_COS) - 1) and s < 0:
                continue
            px, py = tx + rad * (ux * c - uy * sn * s), ty + rad * (ux * sn * s + uy * c)
            free = True
            for i in range(n):
                v = NEAR[i]
                rr = r + P[v, P_RADIUS] - OVERLAP_EPS
                if (F[e, v, X] - px) ** 2 + (F[e, v, Y] - py) ** 2 < rr * rr:
                    free = False
                    break
            if free and fits_fast(shapes, clear, layer, px, py, r):
                if k > ORBIT_STEPS and d > rad + ORBIT_MARGIN:  # far round: go round, not through
                    c, sn = RING_COS[ORBIT_STEPS], RING_SIN[ORBIT_STEPS]
                    return tx + d * (ux * c - uy * sn * s), ty + d * (ux * sn * s + uy * c), True
                return px, py, True
    FULL[t] = True
    return tx, ty, False


@njit(inline="always")
def move(F, P, e, u, A, tx, ty, shapes, BUSY, queue, saved):
    """Moves unit u toward (tx, ty) (already clear of walls): slides around the units it may
    not push, pushes its own idle units aside, and stays put where nothing fits (False).
    ``queue`` and ``saved`` are scratch arrays of ``MAX_PUSHED`` rows."""
    U = F.shape[1]
    x0, y0 = F[e, u, X], F[e, u, Y]
    step = norm(tx - x0, ty - y0)
    layer = 1 if P[u, P_CLIFF] > 0 else 0
    r = P[u, P_RADIUS]
    slid = False
    for it in range(4):  # slide around the deepest unit in the way, keeping the step's length
        w, pushes = deepest(F, P, e, A, u, tx, ty, r, BUSY)
        if it == 0 and w < 0 and not pushes:  # nothing in the way: the common case
            F[e, u, X], F[e, u, Y] = tx, ty
            return True
        if w < 0:
            break
        tx, ty = slide(x0, y0, step, tx, ty, F[e, w, X], F[e, w, Y], r + P[w, P_RADIUS])
        if tx != tx:  # no room
            return False
        slid = True
    if norm(tx - x0, ty - y0) <= 1e-12:
        return False
    if slid:  # the slide may have led into a wall or back into a unit
        if not fits(shapes, layer, tx, ty, r):
            tx, ty = wall_move(shapes, layer, x0, y0, tx, ty, r)
        if deepest(F, P, e, A, u, tx, ty, r, BUSY)[0] >= 0:
            return False
    # Own idle units in the way step aside, and the idle units in their way in turn (a chain of
    # at most MAX_PUSHED units); if one of them can't make way, nobody moves.
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
            if abs(dx) >= rr or abs(dy) >= rr or F[e, v, HP] <= 0.0 or not collide(P, p, v):
                continue
            d2 = dx * dx + dy * dy
            if d2 >= (rr - OVERLAP_EPS) ** 2:
                continue
            queued = False
            for k in range(n):
                queued = queued or queue[k] == v
            if queued or not pushable(P, A, u, v, BUSY) or n == MAX_PUSHED:
                for k in range(n):  # undo: v is in the way for good
                    F[e, queue[k], X], F[e, queue[k], Y] = saved[k, 0], saved[k, 1]
                F[e, u, X], F[e, u, Y] = ox, oy
                return False
            d = math.sqrt(d2)
            if d < 1e-9:  # on top of its pusher: away from where the pusher came from
                dx, dy = (
                    F[e, v, X] - (ox if p == u else saved[head, 0]),
                    F[e, v, Y] - (oy if p == u else saved[head, 1]),
                )
                d = norm(dx, dy)
                if d < 1e-9:
                    dx, dy, d = 1.0, 0.0, 1.0
            vx, vy = F[e, p, X] + dx * rr / d, F[e, p, Y] + dy * rr / d
            v_layer = 1 if P[v, P_CLIFF] > 0 else 0
            if not fits(shapes, v_layer, vx, vy, P[v, P_RADIUS]):
                for k in range(n):
                    F[e, queue[k], X], F[e, queue[k], Y] = saved[k, 0], saved[k, 1]
                F[e, u, X], F[e, u, Y] = ox, oy
                return False
            queue[n] = v
            saved[n, 0], saved[n, 1] = F[e, v, X], F[e, v, Y]
            F[e, v, X], F[e, v, Y] = vx, vy
            n += 1
        head += 1
        if head >= n:
            break
    F[e, u, X], F[e, u, Y] = tx, ty
    return True


__all__ = ["MAX_PUSHED", "walk", "move", "ring_spot", "turn_toward", "collide", "deepest"]
