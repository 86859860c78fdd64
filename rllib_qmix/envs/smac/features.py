"""Compiled SMAC observations and global state (layouts of smac-reference.md §1)."""

from __future__ import annotations

import math

from ._jit import njit
from .sim import CD, EN, HP, SH, X, Y
from .units import KIND_HEAL, P_HP, P_KIND, P_MAXCD, P_SH, P_VIEW

# indices of the int64 flag vector
(
    F_PATH,
    F_HEIGHT,
    F_ALL_HEALTH,
    F_OWN_HEALTH,
    F_LAST_ACTION,
    F_TIMESTEP,
    F_SHB_A,
    F_SHB_E,
    F_BITS,
    F_S_LAST,
    F_S_TIME,
    F_LIMIT,
    F_OWN_POS,
) = range(13)
N_FLAGS = 13
MAP_W = 32.0
_PTS = ((0, 4), (0, -4), (4, 0), (-4, 0), (2, 2), (-2, -2), (2, -2), (-2, 2), (0, 0))


def obs_layout(n_agents: int, n_enemies: int, n_actions: int, fl: dict) -> dict[str, int]:
    """Block sizes of one observation (SMAC's formulas)."""
    bits = fl["bits"]
    move = 4 + 8 * fl["path"] + 9 * fl["height"]
    en = 4 + bits + (1 + fl["shb_e"] if fl["all_health"] else 0)
    al = 4 + bits + (1 + fl["shb_a"] if fl["all_health"] else 0) + (n_actions if fl["last_action"] else 0)
    own = bits + (1 + fl["shb_a"] if fl["own_health"] else 0) + 2 * fl.get("own_pos", 0) + fl["timestep"]
    size = move + n_enemies * en + (n_agents - 1) * al + own
    return {"move": move, "enemy": en, "ally": al, "own": own, "size": size}


def state_layout(n_agents: int, n_enemies: int, n_actions: int, fl: dict) -> dict[str, int]:
    """Block sizes of the global state (SMAC's formulas)."""
    al = 4 + fl["shb_a"] + fl["bits"]
    en = 3 + fl["shb_e"] + fl["bits"]
    size = n_agents * al + n_enemies * en + (n_agents * n_actions if fl["s_last"] else 0) + (1 if fl["s_time"] else 0)
    return {"ally": al, "enemy": en, "size": size}


@njit
def _grid(g, x, y):
    if x < 0 or y < 0 or x > 31 or y > 31:
        return 1.0
    return g[x, y]


@njit(nogil=True)
def obs_kernel(F, PE, avail, last_action, TIX, fl, walk, height, t_env, out, mask):
    """Fill out[E, A, obs] with SMAC observations of the battles in mask.

    ``PE[e]`` and ``TIX[e]`` are battle e's unit table and type-bit indices; an agent sees the
    units within its ``P_VIEW`` range, and distances are divided by that range."""
    E, A, D = out.shape
    U = F.shape[1]
    N = U - A
    n_act = avail.shape[2]
    bits, shb_a, shb_e = fl[F_BITS], fl[F_SHB_A], fl[F_SHB_E]
    all_h, own_h = fl[F_ALL_HEALTH] > 0, fl[F_OWN_HEALTH] > 0
    move = 4 + 8 * fl[F_PATH] + 9 * fl[F_HEIGHT]
    nf_en = 4 + bits + ((1 + shb_e) if all_h else 0)
    nf_al = 4 + bits + ((1 + shb_a) if all_h else 0) + (n_act if fl[F_LAST_ACTION] > 0 else 0)
    for e in range(E):
        if not mask[e]:
            continue
        P, tix = PE[e], TIX[e]
        for i in range(A):
            o = out[e, i]
            o[:] = 0.0
            if F[e, i, HP] <= 0.0:
                continue
            x, y = F[e, i, X], F[e, i, Y]
            sight = P[i, P_VIEW]
            for m in range(4):
                o[m] = avail[e, i, 2 + m]
            k = 4
            ix, iy = int(x), int(y)
            if fl[F_PATH] > 0:
                for p in range(8):
                    o[k] = _grid(walk, ix + _PTS[p][0], iy + _PTS[p][1])
                    k += 1
            if fl[F_HEIGHT] > 0:
                for p in range(9):
                    o[k] = _grid(height, ix + _PTS[p][0], iy + _PTS[p][1])
                    k += 1
            base = move
            for j in range(N):
                u = A + j
                b = base + j * nf_en
                dx, dy = F[e, u, X] - x, F[e, u, Y] - y
                d = math.sqrt(dx * dx + dy * dy)
                if F[e, u, HP] > 0.0 and d < sight:
                    o[b] = avail[e, i, 6 + j]
                    o[b + 1], o[b + 2], o[b + 3] = d / sight, dx / sight, dy / sight
                    c = b + 4
                    if all_h:
                        o[c] = F[e, u, HP] / P[u, P_HP]
                        c += 1
                        if shb_e > 0:
                            o[c] = F[e, u, SH] / P[u, P_SH] if P[u, P_SH] > 0 else 0.0
                            c += 1
                    if bits > 0:
                        o[c + tix[u]] = 1.0
            base += N * nf_en
            slot = 0
            for v in range(A):
                if v == i:
                    continue
                b = base + slot * nf_al
                slot += 1
                dx, dy = F[e, v, X] - x, F[e, v, Y] - y
                d = math.sqrt(dx * dx + dy * dy)
                if F[e, v, HP] > 0.0 and d < sight:
                    o[b] = 1.0
                    o[b + 1], o[b + 2], o[b + 3] = d / sight, dx / sight, dy / sight
                    c = b + 4
                    if all_h:
                        o[c] = F[e, v, HP] / P[v, P_HP]
                        c += 1
                        if shb_a > 0:
                            o[c] = F[e, v, SH] / P[v, P_SH] if P[v, P_SH] > 0 else 0.0
                            c += 1
                    if bits > 0:
                        o[c + tix[v]] = 1.0
                        c += bits
                    if fl[F_LAST_ACTION] > 0 and last_action[e, v] >= 0:
                        o[c + last_action[e, v]] = 1.0
            c = base + (A - 1) * nf_al
            if own_h:
                o[c] = F[e, i, HP] / P[i, P_HP]
                c += 1
                if shb_a > 0:
                    o[c] = F[e, i, SH] / P[i, P_SH] if P[i, P_SH] > 0 else 0.0
                    c += 1
            if fl[F_OWN_POS] > 0:
                o[c], o[c + 1] = x / MAP_W, y / MAP_W
                c += 2
            if bits > 0:
                o[c + tix[i]] = 1.0
                c += bits
            if fl[F_TIMESTEP] > 0:
                o[c] = t_env[e] / fl[F_LIMIT]


@njit(nogil=True)
def state_kernel(F, PE, last_action, TIX, fl, t_env, n_act, out, mask):
    """Fill out[E, state] with SMAC's global state of the battles in mask."""
    E = out.shape[0]
    A = last_action.shape[1]
    U = F.shape[1]
    bits, shb_a, shb_e = fl[F_BITS], fl[F_SHB_A], fl[F_SHB_E]
    nf_al, nf_en = 4 + shb_a + bits, 3 + shb_e + bits
    half = MAP_W / 2.0
    for e in range(E):
        if not mask[e]:
            continue
        P, tix = PE[e], TIX[e]
        s = out[e]
        s[:] = 0.0
        for u in range(U):
            if F[e, u, HP] <= 0.0:
                continue
            ally = u < A
            b = u * nf_al if ally else A * nf_al + (u - A) * nf_en
            s[b] = F[e, u, HP] / P[u, P_HP]
            c = b + 1
            if ally:
                if P[u, P_KIND] == KIND_HEAL:
                    s[c] = F[e, u, EN] / P[u, P_MAXCD]
                else:
                    s[c] = max(F[e, u, CD], 0.0) / P[u, P_MAXCD]
                c += 1
            s[c] = (F[e, u, X] - half) / MAP_W
            s[c + 1] = (F[e, u, Y] - half) / MAP_W
            c += 2
            if (shb_a if ally else shb_e) > 0:
                s[c] = F[e, u, SH] / P[u, P_SH] if P[u, P_SH] > 0 else 0.0
                c += 1
            if bits > 0:
                s[c + tix[u]] = 1.0
        c = A * nf_al + (U - A) * nf_en
        if fl[F_S_LAST] > 0:
            for a in range(A):
                if last_action[e, a] >= 0:
                    s[c + a * n_act + last_action[e, a]] = 1.0
            c += A * n_act
        if fl[F_S_TIME] > 0:
            s[c] = t_env[e] / fl[F_LIMIT]
