"""The maps' terrain, from SMAC's own map files: pathable cells, cliffs, heights, and the
geometry units move in (at sub-cell resolution: a unit's radius decides what fits).

The packaged ``data/smac_maps.json`` holds, per map, the cells ground units can reach from
the spawns (``pathable``), the cliff levels and the raw cell flags, decoded from SMAC's
``.SC2Map`` files (``scripts/build_smac_map_data.py``). From them:

- ``walk[x, y]``: ground-pathable cells (SMAC's ``pathing_grid``, which the move actions read).
- Blocked geometry for movement. A blocked cell is a solid square, except where the map's
  outline runs diagonally: a blocked cell with exactly two walkable neighbours at a right angle
  (a step of a staircase) is cut along its diagonal, and the half toward the walkable cells is
  open (``choices.py``: SC2 draws such outlines with diagonal cliff pieces). So corridor's rooms
  meet through a diagonal choke about 1.41 wide, where the cell grid has only corner contacts.
- The Colossus mover also crosses cliff walls: blocked cells of a cliff (level >= 1) that lie
  between two walkable cells within two cells of each other, in a row or a column.
- ``height[x, y]``: SC2's terrain height byte / 255, from the cliff level (``choices.py``).
- Route tables: the cost of the shortest 8-connected route between every pair of cells (10 a
  straight step, 14 a diagonal one), over links a unit of radius ``ROUTE_CLEARANCE`` can use.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import numpy as np

from . import choices as C
from ._jit import njit

SIZE = 32
#: Cell shapes of the movement geometry: open, blocked, or a blocked cell whose open half is
#: the triangle at one corner (named by that corner).
OPEN, BLOCKED, OPEN_NE, OPEN_NW, OPEN_SE, OPEN_SW = 0, 1, 2, 3, 4, 5
#: A route link must keep this clearance from blocked geometry (the smallest ground radius).
ROUTE_CLEARANCE = 0.375
STRAIGHT, DIAGONAL = 10, 14
_UNREACHABLE = 32767


@njit(inline="always")
def norm(x, y):
    """The length of (x, y) (``math.hypot`` without the library call)."""
    return math.sqrt(x * x + y * y)


@lru_cache(maxsize=1)
def map_data() -> dict:
    """The packaged map data (``data/smac_maps.json``), read once."""
    text = resources.files("rllib_qmix.envs.smac").joinpath("data/smac_maps.json").read_text()
    return json.loads(text)


def _grid(rows: list[str], digits: str) -> np.ndarray:
    """Rows ``y`` of digit strings -> an int array indexed ``[x, y]``."""
    lookup = {c: i for i, c in enumerate(digits)}
    return np.array([[lookup[c] for c in row] for row in rows], np.int64).T.copy()


@dataclass(frozen=True)
class Terrain:
    """Everything about a map's ground the engine needs (all arrays indexed ``[x, y]``)."""

    name: str
    walk: np.ndarray  # bool: ground-pathable cells (SMAC's pathing_grid)
    cliff: np.ndarray  # bool: cliff-wall cells only the Colossus mover crosses
    cliff_level: np.ndarray  # float: t3SyncCliffLevel / 64
    height: np.ndarray  # float in [0, 1]: SC2's terrain_height byte / 255
    shapes: np.ndarray  # int8 [layers, x, y]: movement geometry (layer 1: the Colossus mover)
    points: np.ndarray  # float [layers, x, y, 2]: where a route through a cell heads
    routes: np.ndarray  # int16 [layers, goal cell, cell]: route cost, 32767 if unreachable
    anchors: np.ndarray  # int64 [layers, cell]: the nearest cell routes reach (itself if open)
    clear: np.ndarray  # float [layers, x, y]: a lower bound of any point's clearance in the cell


def cell_shapes(walk: np.ndarray) -> np.ndarray:
    """Movement geometry of a walkable grid: open, blocked, or half cells on diagonal outlines."""
    shapes = np.where(walk, OPEN, BLOCKED).astype(np.int8)
    pad = np.zeros((SIZE + 2, SIZE + 2), bool)
    pad[1:-1, 1:-1] = walk
    for x in range(SIZE):
        for y in range(SIZE):
            if walk[x, y]:
                continue
            n, s = int(pad[x + 1, y + 2]), int(pad[x + 1, y])
            e, w = int(pad[x + 2, y + 1]), int(pad[x, y + 1])
            if n + s + e + w != 2:
                continue
            if n and e:
                shapes[x, y] = OPEN_NE
            elif n and w:
                shapes[x, y] = OPEN_NW
            elif s and e:
                shapes[x, y] = OPEN_SE
            elif s and w:
                shapes[x, y] = OPEN_SW
    return shapes


def cliff_crossings(walk: np.ndarray, cliff_level: np.ndarray) -> np.ndarray:
    """Blocked cliff cells (level >= 1) between two walkable cells at most 3 cells apart."""
    out = np.zeros_like(walk)
    for x in range(SIZE):
        for y in range(SIZE):
            if walk[x, y] or cliff_level[x, y] < 1.0:
                continue
            for dx, dy in ((1, 0), (0, 1)):
                before = any(
                    0 <= x - k * dx < SIZE and 0 <= y - k * dy < SIZE and walk[x - k * dx, y - k * dy] for k in (1, 2)
                )
                after = any(
                    0 <= x + k * dx < SIZE and 0 <= y + k * dy < SIZE and walk[x + k * dx, y + k * dy] for k in (1, 2)
                )
                if before and after:
                    out[x, y] = True
    return out


def terrain_height(cliff_level: np.ndarray) -> np.ndarray:
    """SC2's ``terrain_height`` / 255 from the cliff level (``choices.py``)."""
    z = C.HEIGHT_BASE + C.HEIGHT_PER_CLIFF_LEVEL * cliff_level
    return np.clip((z + 16.0) / 32.0, 0.0, 1.0)


# ----------------------------------------------------------------------------- geometry
@njit
def _nearest_in_cell(shape, cx, cy, px, py):
    """Distance from (px, py) to the blocked part of cell (cx, cy) and the nearest point."""
    if shape == OPEN:
        return 1e18, 0.0, 0.0
    x0, y0, x1, y1 = float(cx), float(cy), float(cx + 1), float(cy + 1)
    if shape == BLOCKED:
        qx, qy = min(max(px, x0), x1), min(max(py, y0), y1)
        return norm(px - qx, py - qy), qx, qy
    # The blocked triangle: right angle at the corner opposite the open one.
    if shape == OPEN_NE:
        kx, ky, ax, ay, bx, by = x0, y0, x1, y0, x0, y1
    elif shape == OPEN_NW:
        kx, ky, ax, ay, bx, by = x1, y0, x0, y0, x1, y1
    elif shape == OPEN_SE:
        kx, ky, ax, ay, bx, by = x0, y1, x0, y0, x1, y1
    else:  # OPEN_SW
        kx, ky, ax, ay, bx, by = x1, y1, x1, y0, x0, y1
    # Inside the triangle: on the corner's side of the hypotenuse (and in the cell).
    hx, hy = bx - ax, by - ay
    side_k = hx * (ky - ay) - hy * (kx - ax)
    side_p = hx * (py - ay) - hy * (px - ax)
    if x0 <= px <= x1 and y0 <= py <= y1 and side_k * side_p >= 0.0:
        return 0.0, px, py
    best, bqx, bqy = 1e18, 0.0, 0.0
    for sx, sy, ex, ey in ((kx, ky, ax, ay), (kx, ky, bx, by), (ax, ay, bx, by)):
        vx, vy = ex - sx, ey - sy
        t = ((px - sx) * vx + (py - sy) * vy) / (vx * vx + vy * vy)
        t = min(max(t, 0.0), 1.0)
        qx, qy = sx + t * vx, sy + t * vy
        d = norm(px - qx, py - qy)
        if d < best:
            best, bqx, bqy = d, qx, qy
    return best, bqx, bqy


@njit
def nearest_blocked(shapes, layer, px, py, reach):
    """The nearest blocked point of ``shapes[layer]`` within ``reach`` of (px, py): (distance,
    x, y); 1e18 if none. Outside the 32x32 map counts as blocked. (Geometry functions take the
    layer index rather than a slice: a slice costs a reference count in the compiled code.)
    """
    best, bqx, bqy = 1e18, 0.0, 0.0
    lo_x, hi_x = int(math.floor(px - reach)), int(math.floor(px + reach))
    lo_y, hi_y = int(math.floor(py - reach)), int(math.floor(py + reach))
    for cx in range(lo_x, hi_x + 1):
        for cy in range(lo_y, hi_y + 1):
            if cx < 0 or cy < 0 or cx >= SIZE or cy >= SIZE:
                shape = BLOCKED
            else:
                shape = shapes[layer, cx, cy]
            d, qx, qy = _nearest_in_cell(shape, cx, cy, px, py)
            if d < best:
                best, bqx, bqy = d, qx, qy
    return best, bqx, bqy


@njit(inline="always")
def fits(shapes, layer, px, py, r):
    """Whether a circle of radius ``r`` at (px, py) stays clear of ``shapes[layer]``'s blocked geometry."""
    return nearest_blocked(shapes, layer, px, py, r)[0] >= r - 1e-9


@njit(inline="always")
def slide(x0, y0, step, tx, ty, qx, qy, rr):
    """Where a circle moving from (x0, y0) toward (tx, ty) ends when it must keep ``rr`` from
    (qx, qy): pushed out radially, or, if that is farther than ``step``, the point of the
    circle of radius ``step`` around the start that touches the other circle, on the side of
    the push. NaN when no such point exists."""
    dx, dy = tx - qx, ty - qy
    d = norm(dx, dy)
    if d < 1e-9:  # exactly on top: back toward where it came from
        dx, dy = x0 - qx, y0 - qy
        d = norm(dx, dy)
        if d < 1e-9:
            return math.nan, math.nan
    px, py = qx + dx * rr / d, qy + dy * rr / d
    if norm(px - x0, py - y0) <= step:
        return px, py
    rq = rr * (1.0 + 1e-9)
    cx, cy = qx - x0, qy - y0
    big_d = norm(cx, cy)
    if big_d <= 1e-12 or big_d > step + rq or big_d < abs(step - rq):
        return math.nan, math.nan
    a = (step * step - rq * rq + big_d * big_d) / (2.0 * big_d)
    h = math.sqrt(max(step * step - a * a, 0.0))
    mx, my = x0 + a * cx / big_d, y0 + a * cy / big_d
    ax, ay = mx - h * cy / big_d, my + h * cx / big_d
    bx, by = mx + h * cy / big_d, my - h * cx / big_d
    if norm(ax - px, ay - py) <= norm(bx - px, by - py):
        return ax, ay
    return bx, by


@njit
def wall_move(shapes, layer, x0, y0, x1, y1, r):
    """Moves a circle of radius ``r`` from (x0, y0) toward (x1, y1), sliding along walls.

    Where the target is blocked, the unit slides: it goes to the point at its step's length
    from (x0, y0) that touches the nearest blocked point, on the side of the target (the two
    circles' intersection); it stays put if no such point fits.
    """
    step = norm(x1 - x0, y1 - y0)
    if step <= 0.0:
        return x0, y0
    tx, ty = x1, y1
    for _ in range(4):
        d, qx, qy = nearest_blocked(shapes, layer, tx, ty, r)
        if d >= r - 1e-9:
            return tx, ty
        if d <= 1e-9:
            break
        tx, ty = slide(x0, y0, step, tx, ty, qx, qy, r)
        if tx != tx:  # no point at the step's length fits: stay put
            break
    return x0, y0


@njit(inline="always")
def fits_fast(shapes, clear, layer, px, py, r):
    """``fits``, answering at once where the point's cell is far from every wall."""
    cx, cy = int(px), int(py)
    if 0 <= cx < SIZE and 0 <= cy < SIZE and px >= 0.0 and py >= 0.0 and clear[layer, cx, cy] >= r:
        return True
    return fits(shapes, layer, px, py, r)


@njit(inline="always")
def wall_move_fast(shapes, clear, layer, x0, y0, x1, y1, r):
    """``wall_move``, answering at once where the target's cell is far from every wall."""
    cx, cy = int(x1), int(y1)
    if 0 <= cx < SIZE and 0 <= cy < SIZE and x1 >= 0.0 and y1 >= 0.0 and clear[layer, cx, cy] >= r:
        return x1, y1
    return wall_move(shapes, layer, x0, y0, x1, y1, r)


@njit
def cell_clearance(shapes, layer):
    """For each cell of ``shapes[layer]``, the least clearance of any point in it (its centre's,
    less half a diagonal)."""
    out = np.zeros((SIZE, SIZE))
    half_diagonal = math.sqrt(0.5)
    for x in range(SIZE):
        for y in range(SIZE):
            d = nearest_blocked(shapes, layer, x + 0.5, y + 0.5, 3.0)[0]
            out[x, y] = max(min(d, 3.0) - half_diagonal, 0.0)
    return out


# ----------------------------------------------------------------------------- routes
@njit
def _segment_clear(shapes, layer, ax, ay, bx, by, r):
    n = 8
    for k in range(n + 1):
        t = k / n
        if not fits(shapes, layer, ax + t * (bx - ax), ay + t * (by - ay), r):
            return False
    return True


@njit
def route_table(shapes, layer, points, clearance):
    """All-pairs route costs (Dijkstra, 10 straight / 14 diagonal) over ``shapes[layer]``'s links
    that keep ``clearance``: ``[goal, cell]``, cells indexed ``x * 32 + y``."""
    n = SIZE * SIZE
    link = np.zeros((n, 8), np.bool_)
    dxs = np.array([1, -1, 0, 0, 1, 1, -1, -1])
    dys = np.array([0, 0, 1, -1, 1, -1, 1, -1])
    for c in range(n):
        cx, cy = c // SIZE, c % SIZE
        if shapes[layer, cx, cy] == BLOCKED:
            continue
        for k in range(8):
            nx, ny = cx + dxs[k], cy + dys[k]
            if nx < 0 or ny < 0 or nx >= SIZE or ny >= SIZE or shapes[layer, nx, ny] == BLOCKED:
                continue
            link[c, k] = _segment_clear(
                shapes, layer, points[cx, cy, 0], points[cx, cy, 1], points[nx, ny, 0], points[nx, ny, 1], clearance
            )
    out = np.full((n, n), _UNREACHABLE, np.int16)
    dist = np.empty(n, np.int64)
    heap_d = np.empty(8 * n + 1, np.int64)  # a binary heap of (cost, cell), lazy deletion
    heap_c = np.empty(8 * n + 1, np.int64)
    for g in range(n):
        if shapes[layer, g // SIZE, g % SIZE] == BLOCKED:
            continue
        dist[:] = 1 << 40
        dist[g] = 0
        size = 0
        size = _push(heap_d, heap_c, size, 0, g)
        while size > 0:
            dc, c = heap_d[0], heap_c[0]
            size = _pop(heap_d, heap_c, size)
            if dc > dist[c]:
                continue
            cx, cy = c // SIZE, c % SIZE
            for k in range(8):  # links are symmetric, so these are costs *to* g
                if not link[c, k]:
                    continue
                m = (cx + dxs[k]) * SIZE + cy + dys[k]
                w = STRAIGHT if k < 4 else DIAGONAL
                if dc + w < dist[m]:
                    dist[m] = dc + w
                    size = _push(heap_d, heap_c, size, dc + w, m)
        for i in range(n):
            if dist[i] < _UNREACHABLE:
                out[g, i] = dist[i]
    return out


@njit
def _push(hd, hc, size, d, c):
    i = size
    hd[i], hc[i] = d, c
    while i > 0:
        p = (i - 1) // 2
        if hd[p] <= hd[i]:
            break
        hd[p], hd[i] = hd[i], hd[p]
        hc[p], hc[i] = hc[i], hc[p]
        i = p
    return size + 1


@njit
def _pop(hd, hc, size):
    size -= 1
    hd[0], hc[0] = hd[size], hc[size]
    i = 0
    while True:
        a, b, m = 2 * i + 1, 2 * i + 2, i
        if a < size and hd[a] < hd[m]:
            m = a
        if b < size and hd[b] < hd[m]:
            m = b
        if m == i:
            break
        hd[m], hd[i] = hd[i], hd[m]
        hc[m], hc[i] = hc[i], hc[m]
        i = m
    return size


@njit(inline="always")
def waypoint(routes, anchors, points, layer, x, y, gx, gy):
    """Where a ground unit at (x, y) heads on its way to (gx, gy): the goal itself when the
    route there is a straight one (its cost equals the octile distance), else the point of the
    next cell on the cheapest route."""
    cx, cy = int(x), int(y)
    tx, ty = min(max(int(gx), 0), SIZE - 1), min(max(int(gy), 0), SIZE - 1)
    if (cx == tx and cy == ty) or cx < 0 or cy < 0 or cx >= SIZE or cy >= SIZE:
        return gx, gy
    g = anchors[layer, tx * SIZE + ty]  # a goal in a blocked cell: route to the nearest open one
    tx, ty = g // SIZE, g % SIZE
    d = routes[layer, g, cx * SIZE + cy]
    ax, ay = abs(tx - cx), abs(ty - cy)
    octile = STRAIGHT * max(ax, ay) + (DIAGONAL - STRAIGHT) * min(ax, ay)
    if d >= _UNREACHABLE or d <= octile:
        return gx, gy
    best, bx, by = d, gx, gy
    for dx in range(-1, 2):
        for dy in range(-1, 2):
            nx, ny = cx + dx, cy + dy
            if (dx == 0 and dy == 0) or nx < 0 or ny < 0 or nx >= SIZE or ny >= SIZE:
                continue
            dn = routes[layer, g, nx * SIZE + ny]
            w = STRAIGHT if dx == 0 or dy == 0 else DIAGONAL
            if dn + w == d and dn < best:
                best, bx, by = dn, points[layer, nx, ny, 0], points[layer, nx, ny, 1]
    return bx, by


def route_anchors(routes: np.ndarray) -> np.ndarray:
    """For each cell, the nearest cell (centre distance) that routes can start or end in."""
    open_cells = np.array([c for c in range(SIZE * SIZE) if routes[c, c] == 0], np.int64)
    if len(open_cells) == 0:
        return np.arange(SIZE * SIZE, dtype=np.int64)
    xs, ys = open_cells // SIZE, open_cells % SIZE
    out = np.zeros(SIZE * SIZE, np.int64)
    for c in range(SIZE * SIZE):
        out[c] = open_cells[np.argmin((xs - c // SIZE) ** 2 + (ys - c % SIZE) ** 2)]
    return out


def route_points(shapes: np.ndarray) -> np.ndarray:
    """Where routes cross each cell: its centre, or the centroid of a half cell's open part."""
    pts = np.zeros((SIZE, SIZE, 2))
    offsets = {OPEN_NE: (2 / 3, 2 / 3), OPEN_NW: (1 / 3, 2 / 3), OPEN_SE: (2 / 3, 1 / 3), OPEN_SW: (1 / 3, 1 / 3)}
    for x in range(SIZE):
        for y in range(SIZE):
            ox, oy = offsets.get(int(shapes[x, y]), (0.5, 0.5))
            pts[x, y] = (x + ox, y + oy)
    return pts


# ----------------------------------------------------------------------------- terrains
def _build(name: str, walk: np.ndarray, cliff_level: np.ndarray) -> Terrain:
    cliff = cliff_crossings(walk, cliff_level)
    layers = [cell_shapes(walk), cell_shapes(walk | cliff)]
    shapes = np.stack(layers).astype(np.int8)
    points = np.stack([route_points(s) for s in layers])
    routes = np.stack([route_table(shapes, i, points[i], ROUTE_CLEARANCE) for i in range(2)])
    arrays = dict(
        clear=np.stack([cell_clearance(shapes, i) for i in range(2)]),
        anchors=np.stack([route_anchors(routes[i]) for i in range(2)]),
        walk=walk,
        cliff=cliff,
        cliff_level=cliff_level,
        height=terrain_height(cliff_level),
        shapes=shapes,
        points=points,
        routes=routes,
    )
    for a in arrays.values():
        a.setflags(write=False)
    return Terrain(name=name, **arrays)


@cache
def terrain(name: str) -> Terrain:
    """The terrain of a SMAC map (by name), or ``"open"``: the whole 32x32 map walkable, level 1."""
    if name == "open":
        return _build(name, np.ones((SIZE, SIZE), bool), np.ones((SIZE, SIZE)))
    maps = map_data()["maps"]
    if name not in maps:
        raise ValueError(f"no terrain {name!r}: use a SMAC map name ({', '.join(sorted(maps))}) or 'open'")
    digits = map_data()["digits"]
    m = maps[name]
    walk = _grid(m["pathable"], digits).astype(bool)
    cliff_level = _grid(m["cliff_level"], digits) / 8.0
    return _build(name, walk, cliff_level)
