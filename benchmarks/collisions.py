"""Solid units: how far units overlap after every step of random battles (the issue's stress maps).

For each map, plays ``--episodes`` battles with random available actions and measures, after
every step, the overlap of every pair of live units that block each other (same plane, not
flying) as a fraction of their radii sum. SC2's units don't overlap; the target is that no pair
ever overlaps by more than 10%. Prints a table and writes collisions.json into results/.

    python benchmarks/collisions.py [--episodes 20] [--maps corridor bane_vs_bane ...] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
from _common import add_out_argument, out_dir

from rllib_qmix.envs.smac import StarCraft2Env
from rllib_qmix.envs.smac.units import PLANE_AIR

STRESS_MAPS = ["corridor", "bane_vs_bane", "27m_vs_30m", "2c_vs_64zg"]
TARGET = 0.10


def overlaps(env: StarCraft2Env) -> np.ndarray:
    """Overlap / radii sum of every pair of live units that block each other (0 if apart)."""
    eng = env.engine
    u = eng.units(0)
    plane = np.array([d.plane for d in eng.unit_defs])
    live = (u["health"] > 0) & (plane != PLANE_AIR)
    idx = np.flatnonzero(live)
    if len(idx) < 2:
        return np.zeros(0)
    x, y, r, pl = u["x"][idx], u["y"][idx], u["radius"][idx], plane[idx]
    i, j = np.triu_indices(len(idx), 1)
    same = pl[i] == pl[j]
    rr = r[i] + r[j]
    d = np.hypot(x[i] - x[j], y[i] - y[j])
    return np.clip((rr - d) / rr, 0.0, None)[same]


def run(map_name: str, episodes: int, seed: int) -> dict:
    env = StarCraft2Env(map_name, seed=seed)
    rng = np.random.default_rng(seed)
    worst, steps, bad_steps, t0 = 0.0, 0, 0, time.perf_counter()
    for _ in range(episodes):
        env.reset()
        done = False
        while not done:
            av = env.get_avail_actions_array()
            _, done, _ = env.step((rng.random(av.shape) * av).argmax(1))
            o = overlaps(env)
            top = float(o.max()) if len(o) else 0.0
            worst = max(worst, top)
            bad_steps += top > TARGET
            steps += 1
    return {
        "map": map_name,
        "episodes": episodes,
        "steps": steps,
        "worst_overlap": worst,
        "steps_over_target": int(bad_steps),
        "seconds": time.perf_counter() - t0,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--maps", nargs="*", default=STRESS_MAPS)
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    add_out_argument(p)
    args = p.parse_args()
    rows = [run(m, args.episodes, args.seed) for m in args.maps]
    print(f"{'map':>14} {'episodes':>8} {'steps':>7} {'worst overlap':>14} {'steps > 10%':>11}")
    for r in rows:
        print(
            f"{r['map']:>14} {r['episodes']:>8} {r['steps']:>7} {r['worst_overlap']:>13.1%} "
            f"{r['steps_over_target']:>11}"
        )
    out = out_dir(args.out) / "collisions.json"
    out.write_text(json.dumps({"machine": platform.platform(), "target": TARGET, "rows": rows}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
