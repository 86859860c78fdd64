"""Yardsticks for the SMAC win rates: random play, a scripted focus-fire team, SMAC's own heuristic.

Plays each map of the embedded simulator with fixed policies and prints a table of win rate,
return and episode length (and writes smac_baselines.json into results/, ``--out DIR`` to choose):

- random: a uniformly random available action for every agent;
- focus fire: the team picks one target, the enemy that most of its shooters can hit now
  (the one with the least health plus shield among those), and every unit that can hit it
  does; a unit that cannot shoots the weakest enemy in its own range; a medivac heals the ally in range
  with the smallest fraction of its health; a unit with nothing in range moves towards the
  nearest living enemy (medivacs: towards the most hurt ally);
- heuristic: SMAC's scripted agent (``heuristic_ai=True``): each agent attacks the closest
  enemy until it dies, walking to it (SC2's attack-unit order); medivacs heal the closest hurt ally;
- heuristic rest: the same with ``heuristic_rest=True`` (a move toward the target, not an
  attack order, while the attack action is not available).

Focus fire reads unit positions and health from the simulator, which agents do not see
in full, so it is a yardstick of what coordinated fire achieves on a map, not a policy
QMIX could copy. SMAC's heuristic is the scripted baseline of SMAC itself.

    python benchmarks/smac_baselines.py                       # 3m 8m 2s3z 5m_vs_6m MMM2
    python benchmarks/smac_baselines.py --maps all --episodes 100    # SMAC's 23 maps
    python benchmarks/smac_baselines.py --maps MMM2 --episodes 500 --policies heuristic
    python benchmarks/smac_baselines.py --maps protoss_5_vs_5 terran_5_vs_5 zerg_5_vs_5   # SMACv2
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np
from _common import add_out_argument, make_sim_env, out_dir

from rllib_qmix.envs.smac import MAP_NAMES, StarCraft2Env
from rllib_qmix.envs.smac.units import P_HP, P_SH

NOOP, STOP, NORTH, SOUTH, EAST, WEST = range(6)
N_MOVE_AND_STOP = 6  # actions before the first target action
Policy = Callable[[StarCraft2Env, np.random.Generator], list]


def random_policy(env: StarCraft2Env, rng: np.random.Generator) -> list:
    """A uniformly random available action per agent."""
    return [int(rng.choice(np.flatnonzero(av))) for av in env.get_avail_actions_array()]


def _move_towards(av: np.ndarray, dx: float, dy: float) -> int:
    """The available move that most reduces the larger of |dx| and |dy| (else stop)."""
    horizontal = EAST if dx > 0 else WEST
    vertical = NORTH if dy > 0 else SOUTH
    order = (horizontal, vertical) if abs(dx) >= abs(dy) else (vertical, horizontal)
    for a in order:
        if av[a]:
            return a
    return STOP if av[STOP] else NOOP


def focus_fire_policy(env: StarCraft2Env, rng: np.random.Generator) -> list:
    """Shoot the weakest enemy in range, heal the most hurt ally, else close in."""
    avail = env.get_avail_actions_array()
    u = env.engine.units()
    n = env.n_agents
    max_life = env.engine.P[:, P_HP] + env.engine.P[:, P_SH]
    life = u["health"] + u["shield"]
    alive = life > 0
    # The team's target: the enemy that the most shooters can hit now, the weakest of those.
    shooters = [a for a in range(n) if u["type"][a] != "medivac"]
    n_enemy_slots = min(env.n_actions - N_MOVE_AND_STOP, len(life) - n)
    in_range = (
        avail[shooters, N_MOVE_AND_STOP : N_MOVE_AND_STOP + n_enemy_slots].sum(0)
        if shooters
        else np.zeros(n_enemy_slots)
    )
    team_target = int(np.lexsort((life[n : n + n_enemy_slots], -in_range))[0])
    actions = []
    for a in range(n):
        av = avail[a]
        if av[NOOP]:  # dead
            actions.append(NOOP)
            continue
        targets = np.flatnonzero(av[N_MOVE_AND_STOP:])
        healer = u["type"][a] == "medivac"
        if len(targets):
            if healer:  # target slots are allies
                frac = life[targets] / max_life[targets]
                actions.append(N_MOVE_AND_STOP + int(targets[np.argmin(frac)]))
            else:  # target slots are enemies: the team's target where in range
                best = team_target if av[N_MOVE_AND_STOP + team_target] else targets[np.argmin(life[n + targets])]
                actions.append(N_MOVE_AND_STOP + int(best))
            continue
        if healer:
            allies = [i for i in range(n) if i != a and alive[i]]
            goal = min(allies, key=lambda i: life[i] / max_life[i]) if allies else a
        else:
            enemies = [n + j for j in range(len(life) - n) if alive[n + j]]
            dist = [np.hypot(u["x"][j] - u["x"][a], u["y"][j] - u["y"][a]) for j in enemies]
            goal = enemies[int(np.argmin(dist))] if enemies else a
        actions.append(_move_towards(av, u["x"][goal] - u["x"][a], u["y"][goal] - u["y"][a]))
    return actions


def scripted_policy(env: StarCraft2Env, rng: np.random.Generator) -> list:
    """Placeholder actions for an env whose own scripted agent plays (``heuristic_ai``): any
    action number will do, the env replaces them (no-op for the dead, stop for the living)."""
    return [0 if av[0] else 1 for av in env.get_avail_actions_array()]


POLICIES: dict[str, Policy] = {
    "random": random_policy,
    "focus fire": focus_fire_policy,
    "heuristic": scripted_policy,
    "heuristic rest": scripted_policy,
}
#: The env options each policy needs (SMAC's scripted agent is an option of the env).
ENV_OPTIONS: dict[str, dict] = {
    "heuristic": {"heuristic_ai": True},
    "heuristic rest": {"heuristic_ai": True, "heuristic_rest": True},
}


def evaluate(map_name: str, policy: Policy, episodes: int, seed: int = 0, **env_options) -> dict:
    """Plays ``episodes`` battles; returns win rate, mean/std return and mean length."""
    env = make_sim_env(map_name, seed, **env_options)
    rng = np.random.default_rng(seed)
    returns, lengths, wins = [], [], 0
    for _ in range(episodes):
        env.reset()
        total, steps, done, info = 0.0, 0, False, {}
        while not done:
            reward, done, info = env.step(policy(env, rng))
            total += reward
            steps += 1
        returns.append(total)
        lengths.append(steps)
        wins += bool(info.get("battle_won"))
    env.close()
    return {
        "win_rate": wins / episodes,
        "return_mean": float(np.mean(returns)),
        "return_std": float(np.std(returns)),
        "length_mean": float(np.mean(lengths)),
        "episodes": episodes,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--maps", nargs="+", default=["3m", "8m", "2s3z", "5m_vs_6m", "MMM2"], help="map names, or 'all' (SMAC's 23)"
    )
    p.add_argument("--policies", nargs="+", default=list(POLICIES), choices=list(POLICIES), metavar="POLICY")
    p.add_argument("--episodes", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    add_out_argument(p)
    args = p.parse_args()
    maps = list(MAP_NAMES) if args.maps == ["all"] else args.maps
    rows = []
    print(f"{'map':>16}  {'policy':>14}  {'win rate':>8}  {'return':>13}  {'length':>6}  {'s':>5}")
    for m in maps:
        for name in args.policies:
            t0 = time.perf_counter()
            r = {"map": m, "policy": name}
            r.update(evaluate(m, POLICIES[name], args.episodes, args.seed, **ENV_OPTIONS.get(name, {})))
            r["seconds"] = time.perf_counter() - t0
            rows.append(r)
            print(
                f"{m:>16}  {name:>14}  {r['win_rate']:8.1%}  {r['return_mean']:6.2f} ± {r['return_std']:4.2f}"
                f"  {r['length_mean']:6.1f}  {r['seconds']:5.1f}",
                flush=True,
            )
    path = out_dir(args.out) / "smac_baselines.json"
    path.write_text(json.dumps({"episodes": args.episodes, "seed": args.seed, "rows": rows}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
