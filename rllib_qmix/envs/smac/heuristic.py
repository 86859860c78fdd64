"""SMAC's scripted agent (``heuristic_ai`` and ``heuristic_rest``), as SMAC's code plays it.

oxwhirl/smac ``starcraft2.py`` ``get_agent_action_heuristic`` (the same in oxwhirl/smacv2), for
every agent, alive or dead, each step:

- a medivac keeps its patient until the patient dies or is at full health, then picks the
  closest (centre distance) living, hurt non-medivac agent, ties to the lower id; with none
  it sends no command and writes action 0;
- any other unit keeps its target until the target dies, then picks the closest living enemy,
  ties to the lower id. (SMAC means to let marauders skip medivacs, but its test compares the
  enemy's type with the agents' own medivac type, which no enemy has: they don't skip.)
- The command is SC2's attack-unit (heal) order on the target, sent every step: a target out
  of range is walked to. With ``heuristic_rest``, when the attack (heal) action is not
  available, the unit instead moves ``move_amount`` along the larger axis toward the target.
- The action taken (the target's action number, the move's, or 0) is written back into the
  caller's action list. Targets are cleared at every reset.

The observations' and state's last actions are the caller's actions, as in SMAC.
"""

from __future__ import annotations

import math

from ._jit import njit
from .state import HP, X, Y
from .units import KIND_HEAL, P_HP, P_KIND

#: The order codes the step kernel takes beside SMAC's actions: no command this step.
NO_COMMAND = -1


@njit
def _closest(F, P, e, a, lo, hi, hurt_only):
    """The unit in [lo, hi) closest to agent a (centre distance, ties to the lower index):
    living ones, or living hurt non-medivacs with ``hurt_only``; -1 if none."""
    best, best_d = -1, 1e18
    for v in range(lo, hi):
        if F[e, v, HP] <= 0.0:
            continue
        if hurt_only and (P[v, P_KIND] == KIND_HEAL or F[e, v, HP] == P[v, P_HP]):
            continue
        d = math.hypot(F[e, v, X] - F[e, a, X], F[e, v, Y] - F[e, a, Y])
        if d < best_d:
            best, best_d = v, d
    return best


@njit
def heuristic_orders(F, P, e, A, HTG, rest, avail, orders, written):
    """SMAC's scripted agent for battle e: each agent's command (``orders[e, a]``: SMAC's
    action numbers, attacks on any target in range or not, or ``NO_COMMAND``) and the action
    SMAC writes back (``written[e, a]``). ``HTG[e, a]``: the agents' kept targets (unit index, -1
    for none), updated in place."""
    U = F.shape[1]
    for a in range(A):
        t = HTG[e, a]
        if P[a, P_KIND] == KIND_HEAL:
            if t < 0 or F[e, t, HP] <= 0.0 or F[e, t, HP] == P[t, P_HP]:
                t = _closest(F, P, e, a, 0, A, True)
        elif t < 0 or F[e, t, HP] <= 0.0:
            t = _closest(F, P, e, a, A, U, False)
        HTG[e, a] = t
        if t < 0:
            orders[e, a], written[e, a] = NO_COMMAND, 0
            continue
        act = 6 + (t if P[a, P_KIND] == KIND_HEAL else t - A)
        if rest and avail[e, a, act] == 0:  # move toward it along the larger axis instead
            dx, dy = F[e, t, X] - F[e, a, X], F[e, t, Y] - F[e, a, Y]
            if abs(dx) > abs(dy):
                act = 4 if dx > 0 else 5
            else:
                act = 2 if dy > 0 else 3
        orders[e, a], written[e, a] = act, act
