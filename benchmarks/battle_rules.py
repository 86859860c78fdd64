"""Whole-battle checks of SC2's combat rules on the embedded simulator.

Each check plays small battles through the public API and measures what SC2's rules make of
them (``docs/simulator.md``, "Mechanics"):

- duel: a 1v1 marine duel (the agent attacks whenever it can) over ``--seeds`` seeds: how
  often each side wins. SC2's random delay makes "a fair matchup (eg 1v1 marine) ... a random
  outcome" (pysc2's docs).
- surround: twelve enemy zerglings attack-moving onto one idle agent zealot on open ground:
  the most zerglings in melee contact at once, and the mean while the zealot stands (a ring
  around a zealot at melee range fits about eight).
- crowd: SMAC's scripted agent on corridor (6 zealots vs 24 zerglings): the share of the living
  zerglings in melee contact with a zealot, over the battle's steps, and the win rate.

Prints a table and writes battle_rules.json into results/ (``--out DIR`` to choose).

    python benchmarks/battle_rules.py [--seeds 40]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from _common import add_out_argument, out_dir

from rllib_qmix.envs.smac import StarCraft2Env, custom_map
from rllib_qmix.envs.smac.maps import ORDER_ATTACK_MOVE

#: Claws' range [SC2 data]: a zergling within this of a target's edge is in melee contact.
MELEE = 0.1


def duel(seeds: int) -> dict:
    """Agent wins of a 1v1 marine duel over ``seeds`` seeds."""
    wins = 0
    for seed in range(seeds):
        env = StarCraft2Env(custom_map("duel", [("marine", 1, (10.0, 16.0))], [("marine", 1, (14.5, 16.0))]), seed=seed)
        env.reset()
        done, info = False, {}
        while not done:
            _, done, info = env.step([6] if env.get_avail_agent_actions(0)[6] else [1])
        wins += bool(info["battle_won"])
    return {"battles": seeds, "agent_wins": wins, "enemy_wins": seeds - wins}


def _in_contact(u: dict, attackers: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Which attackers stand within melee range of some target's edge."""
    dx = u["x"][attackers, None] - u["x"][None, targets]
    dy = u["y"][attackers, None] - u["y"][None, targets]
    edge = np.hypot(dx, dy) - u["radius"][attackers, None] - u["radius"][None, targets]
    return (edge <= MELEE + 1e-6).any(axis=1)


def surround(seeds: int) -> dict:
    """Zerglings in contact with a lone zealot (invulnerable, so that all twelve can come)."""
    most, means = [], []
    for seed in range(seeds):
        spec = custom_map(
            "surround",
            [("zealot", 1, (16.0, 16.0))],
            [("zergling", 12, (24.0, 16.0))],
            enemy_order=ORDER_ATTACK_MOVE,
            attack_point=(16.0, 16.0),
        )
        env = StarCraft2Env(spec, seed=seed)
        env.reset()
        grid = np.arange(12)
        xs, ys = 24.0 + (grid % 4) * 0.8, 14.8 + (grid // 4) * 0.8
        env.engine.set_units(0, x=np.r_[16.0, xs], y=np.r_[16.0, ys], health=np.r_[1e6, np.full(12, 35.0)])
        counts = []
        for _ in range(20):
            env.step([1])
            u = env.engine.units()
            alive = np.flatnonzero(u["health"][1:] > 0) + 1
            counts.append(int(_in_contact(u, alive, np.array([0])).sum()))
        most.append(max(counts))
        means.append(float(np.mean(counts[8:])))  # once they have arrived
    return {"battles": seeds, "most_in_contact": int(max(most)), "median_most": float(np.median(most)),
            "mean_in_contact_after_arrival": float(np.mean(means))}  # fmt: skip


def crowd(seeds: int) -> dict:
    """SMAC's heuristic on corridor: the share of living zerglings in contact with a zealot."""
    shares, wins = [], 0
    for seed in range(seeds):
        env = StarCraft2Env("corridor", seed=seed, heuristic_ai=True)
        env.reset()
        A, done, info = env.n_agents, False, {}
        while not done:
            u = env.engine.units()
            zealots = np.flatnonzero(u["health"][:A] > 0)
            lings = np.flatnonzero(u["health"][A:] > 0) + A
            near = lings[np.hypot(u["x"][lings] - u["x"][zealots].mean(), u["y"][lings] - u["y"][zealots].mean()) < 6]
            if len(zealots) and len(near) >= 4:
                shares.append(float(_in_contact(u, lings, zealots).sum() / len(lings)))
            _, done, info = env.step([0] * A)
        wins += bool(info.get("battle_won"))
    return {"battles": seeds, "heuristic_win_rate": wins / seeds, "share_in_contact": float(np.mean(shares))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=40, help="battles per check")
    add_out_argument(p)
    args = p.parse_args()
    t0 = time.perf_counter()
    out = {"duel": duel(args.seeds), "surround": surround(args.seeds), "crowd": crowd(args.seeds)}
    d, s, c = out["duel"], out["surround"], out["crowd"]
    print(f"{'check':<10} {'battles':>8}  result")
    print(f"{'duel':<10} {d['battles']:>8}  agent wins {d['agent_wins']}, enemy wins {d['enemy_wins']}")
    print(
        f"{'surround':<10} {s['battles']:>8}  most in contact {s['most_in_contact']} (median {s['median_most']:.0f}),"
        f" {s['mean_in_contact_after_arrival']:.1f} on average once arrived"
    )
    print(
        f"{'crowd':<10} {c['battles']:>8}  {c['share_in_contact']:.0%} of living zerglings in contact;"
        f" heuristic wins {c['heuristic_win_rate']:.0%}"
    )
    out["seconds"] = time.perf_counter() - t0
    path = out_dir(args.out) / "battle_rules.json"
    path.write_text(json.dumps(out, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
