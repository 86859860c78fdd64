"""Draws battles of the embedded simulator as GIFs for the docs: SMAC's scripted agent
(``heuristic_ai=True``) against the built-in AI, one battle per map.

Run from the repository root:  python scripts/battle_gifs.py [--maps corridor ...] [--out docs]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rllib_qmix.envs.smac import StarCraft2Env, save_gif

ROOT = Path(__file__).resolve().parent.parent
MAPS = ["corridor", "2c_vs_64zg", "27m_vs_30m", "so_many_baneling"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--maps", nargs="+", default=MAPS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    args = ap.parse_args()
    for name in args.maps:
        env = StarCraft2Env(name, seed=args.seed, heuristic_ai=True)
        path = save_gif(env, args.out / f"battle_{name}.gif", fps=5)
        won = env.get_stats()["battles_won"]
        print(f"{path}: {'won' if won else 'lost'}, {path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
