"""Compiled SMAC step: validate actions, issue orders, run step_mul loops, reward, end, masks."""

from __future__ import annotations

import numpy as np

from ._jit import njit
from .combat import cut_attack
from .heuristic import NO_COMMAND
from .maps import ORDER_CLOSEST_UNIT as MODE_CLOSEST
from .sim import (
    DEADT,
    GX,
    GY,
    HP,
    MAX_PUSHED,
    O_ATTACK,
    O_HEAL,
    O_IDLE,
    O_MOVE,
    ORD,
    PHP,
    PSH,
    SH,
    TGT,
    X,
    Y,
    can_hit,
    tick,
)
from .targeting import order_closest
from .units import KIND_HEAL, P_KIND, P_SHOOT

# indices of the float64 config vector (C_FREE: attack orders walk to targets out of range, as
# SC2's attack-unit command does; SMAC's heuristic agent gives such orders)
(C_STEP_MUL, C_LIMIT, C_ONLY_POS, C_DEATH, C_WIN, C_DEFEAT, C_NEG, C_SPARSE, C_MMM, C_MODE, C_MOVE, C_FREE) = range(12)
N_CFG = 12
# columns of the per-battle float state EF: the enemy's attack point, SMAC's reward divisor
# (max_reward / reward_scale_rate, or 1), which SMACv2 fixes per episode
EF_AX, EF_AY, EF_DIV = range(3)
N_EF = 3
# columns of the per-battle int state EI
E_T, E_DONE, E_WON, E_TIMEOUT, E_DEAD_A, E_DEAD_E = range(6)
N_EI = 6


@njit
def validate(avail, actions, active, bad, check_avail):
    """Check every active battle's actions against the masks (or, without ``check_avail``, only
    that they are action numbers); bad <- (env, agent, action)."""
    E, A = actions.shape
    n = avail.shape[2]
    for e in range(E):
        if not active[e]:
            continue
        for a in range(A):
            act = actions[e, a]
            if act < 0 or act >= n or (check_avail and avail[e, a, act] == 0):
                bad[0], bad[1], bad[2] = e, a, act
                return False
    return True


@njit
def _pathable(walk, x, y):
    """SMAC's ``can_move`` test of the cell holding (x, y) (Python's int() truncation)."""
    cx, cy = int(x), int(y)
    return 0 <= cx < 32 and 0 <= cy < 32 and walk[cx, cy]


@njit
def compute_avail(F, P, walk, A, n_act, move, avail, e):
    """SMAC's action masks of battle e (``P``: its unit table); an agent's targets are the
    units within its ``P_SHOOT`` range, centre to centre."""
    U = F.shape[1]
    N = U - A
    half = move / 2.0
    for a in range(A):
        for k in range(n_act):
            avail[e, a, k] = 0
        if F[e, a, HP] <= 0.0:
            avail[e, a, 0] = 1
            continue
        x, y = F[e, a, X], F[e, a, Y]
        avail[e, a, 1] = 1
        avail[e, a, 2] = _pathable(walk, x, y + half)
        avail[e, a, 3] = _pathable(walk, x, y - half)
        avail[e, a, 4] = _pathable(walk, x + half, y)
        avail[e, a, 5] = _pathable(walk, x - half, y)
        s2 = P[a, P_SHOOT] * P[a, P_SHOOT]
        if P[a, P_KIND] == KIND_HEAL:
            for j in range(min(A, N)):
                if F[e, j, HP] > 0.0 and P[j, P_KIND] != KIND_HEAL:
                    dx, dy = F[e, j, X] - x, F[e, j, Y] - y
                    if dx * dx + dy * dy <= s2:
                        avail[e, a, 6 + j] = 1
        else:
            for j in range(N):
                u = A + j
                if F[e, u, HP] > 0.0:
                    dx, dy = F[e, u, X] - x, F[e, u, Y] - y
                    if dx * dx + dy * dy <= s2:
                        avail[e, a, 6 + j] = 1


@njit
def _reward_end(F, I, P, EI, EF, cfg, e, A, rew, term):
    """SMAC's reward for the step just played, and the battle's end (see env docs)."""
    U = F.shape[1]
    only_pos = cfg[C_ONLY_POS] > 0
    death, neg = cfg[C_DEATH], cfg[C_NEG]
    d_enemy, d_ally, d_deaths = 0.0, 0.0, 0.0
    n_ally, n_enemy, ally_nonmed, enemy_nonmed = 0, 0, 0, 0
    for u in range(U):
        alive = F[e, u, HP] > 0.0
        if alive:
            if u < A:
                n_ally += 1
                ally_nonmed += P[u, P_KIND] != KIND_HEAL
            else:
                n_enemy += 1
                enemy_nonmed += P[u, P_KIND] != KIND_HEAL
        if I[e, u, DEADT]:
            continue
        prev = F[e, u, PHP] + F[e, u, PSH]
        if u < A:
            if not alive:
                I[e, u, DEADT] = 1
                if not only_pos:
                    d_deaths -= death * neg
                d_ally += prev * neg
            else:
                d_ally += neg * (prev - F[e, u, HP] - F[e, u, SH])
        else:
            if not alive:
                I[e, u, DEADT] = 1
                d_deaths += death
                d_enemy += prev
            else:
                d_enemy += prev - F[e, u, HP] - F[e, u, SH]
    if cfg[C_SPARSE] > 0:
        r = 0.0
    elif only_pos:
        r = abs(d_enemy + d_deaths)
    else:
        r = d_enemy + d_deaths - d_ally
    mmm = cfg[C_MMM] > 0
    code = 2
    if (n_ally == 0 and n_enemy > 0) or (mmm and ally_nonmed == 0):
        code = -1
    elif (n_ally > 0 and n_enemy == 0) or (mmm and enemy_nonmed == 0):
        code = 1
    elif n_ally == 0 and n_enemy == 0:
        code = 0
    EI[e, E_T] += 1
    EI[e, E_DEAD_A] = A - n_ally
    EI[e, E_DEAD_E] = (U - A) - n_enemy
    done = False
    if code != 2:
        done = True
        if code == 1:
            EI[e, E_WON] = 1
            r = 1.0 if cfg[C_SPARSE] > 0 else r + cfg[C_WIN]
        elif code == -1:
            r = -1.0 if cfg[C_SPARSE] > 0 else r + cfg[C_DEFEAT]
    elif EI[e, E_T] >= cfg[C_LIMIT]:
        done = True
        EI[e, E_TIMEOUT] = 1
    r = r / EF[e, EF_DIV]  # SMAC scales the sparse +-1 too (reward_scale)
    EI[e, E_DONE] = done
    rew[e] = r
    term[e] = done


@njit(inline="always")
def issue(F, I, P, e, A, a, act, move, free):
    """Agent a's order for this step (SMAC's action ``act``). SC2 refuses an attack (heal) on a
    unit the weapon can't target (a ground weapon on an air unit; a heal on a non-biological
    unit): the order has no effect and the unit goes on with what it was doing (SMAC's mask
    allows it by distance). Out of the shooting range of SMAC's mask the order is refused too
    (SMACv2 without masks), unless ``free``: then the unit walks to the target. A new order
    cuts the attack in progress; the same attack order again does not."""
    if act == 1:
        cut_attack(F, I, e, a)
        I[e, a, ORD] = O_IDLE
    elif 2 <= act <= 5:
        cut_attack(F, I, e, a)
        I[e, a, ORD] = O_MOVE
        gx, gy = F[e, a, X], F[e, a, Y]
        if act == 2:
            gy += move
        elif act == 3:
            gy -= move
        elif act == 4:
            gx += move
        else:
            gx -= move
        F[e, a, GX], F[e, a, GY] = gx, gy
    elif act >= 6:
        healer = P[a, P_KIND] == KIND_HEAL
        t = act - 6 if healer else A + act - 6
        dx, dy = F[e, t, X] - F[e, a, X], F[e, t, Y] - F[e, a, Y]
        if can_hit(P, a, t) and (free or dx * dx + dy * dy <= P[a, P_SHOOT] * P[a, P_SHOOT]):
            kind = O_HEAL if healer else O_ATTACK
            if I[e, a, ORD] != kind or I[e, a, TGT] != t:
                cut_attack(F, I, e, a)
                I[e, a, ORD], I[e, a, TGT] = kind, t


@njit(nogil=True)
def step_kernel(
    F,
    I,
    EI,
    EF,
    PE,
    S,
    cfg,
    walk,
    shapes,
    clear,
    points,
    routes,
    anchors,
    actions,
    orders,
    last_action,
    avail,
    active,
    rew,
    term,
):
    """Play one SMAC step in every active, unfinished battle (actions already ``validate``d).

    ``actions`` are the agents' actions (the last actions of the observation and state);
    ``orders`` the commands given (the same actions, or SMAC's heuristic agent's, where
    ``NO_COMMAND`` gives none). ``PE[e]`` is battle e's unit table (the same for every battle of
    a SMAC map; drawn per episode in SMACv2); ``S[e]`` its random stream."""
    E, A = actions.shape
    U = F.shape[1]
    n_act = avail.shape[2]
    ORDER, BQ, NEAR = np.empty(U, np.int64), np.empty(U, np.int64), np.empty(U, np.int64)
    BUSY, FULL = np.zeros(U, np.bool_), np.zeros(U, np.bool_)
    QUEUE, SAVED = np.empty(MAX_PUSHED, np.int64), np.empty((MAX_PUSHED, 2))
    step_mul, mode, move = int(cfg[C_STEP_MUL]), int(cfg[C_MODE]), cfg[C_MOVE]
    free = cfg[C_FREE] > 0
    for e in range(E):
        if not active[e]:
            continue
        if EI[e, E_DONE]:
            rew[e], term[e] = 0.0, True
            continue
        P = PE[e]
        for u in range(U):
            F[e, u, PHP], F[e, u, PSH] = F[e, u, HP], F[e, u, SH]
        for a in range(A):
            last_action[e, a] = actions[e, a]
            if F[e, a, HP] > 0.0 and orders[e, a] != NO_COMMAND:
                issue(F, I, P, e, A, a, orders[e, a], move, free)
        if mode == MODE_CLOSEST:
            order_closest(F, I, P, e, A)
        for _ in range(step_mul):
            tick(F, I, P, S, e, A, mode, shapes, clear, points, routes, anchors, ORDER, BUSY, QUEUE, SAVED, BQ, NEAR,
                 FULL)  # fmt: skip
        _reward_end(F, I, P, EI, EF, cfg, e, A, rew, term)
        compute_avail(F, P, walk, A, n_act, move, avail, e)


@njit
def avail_all(F, PE, walk, A, move, avail, mask):
    """Recompute the action masks of the battles in mask."""
    for e in range(F.shape[0]):
        if mask[e]:
            compute_avail(F, PE[e], walk, A, avail.shape[2], move, avail, e)
