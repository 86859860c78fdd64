"""Learner statistics next to the greedy return: for finding out why a run does not learn.

Trains a tuned example (config keys replaceable with ``--set``) and every ``--every`` env
steps prints and records the greedy evaluation return and win rate, the training return,
and the learner's mean chosen Q-value, mean TD target (``Q_tot``) and mean |TD error|. A
target that drifts away from the returns the policy actually gets is over-estimation.

    python benchmarks/diagnose.py mpe_spread --max-steps 300000
    python benchmarks/diagnose.py mpe_spread --set lr=0.0001 --tag lr1e-4

Writes diagnose_<example>[_<tag>].json into results/ (``--out DIR`` to choose).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from _common import add_out_argument, out_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    from learning import example_config, parse_overrides

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("example", help="tuned example name (file stem in tuned_examples/)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key (repeatable)")
    p.add_argument("--tag", default=None, help="suffix of the output file")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-steps", type=int, default=300_000)
    p.add_argument("--every", type=int, default=25_000, help="env steps between evaluations (default 25k)")
    p.add_argument("--eval-episodes", type=int, default=32)
    add_out_argument(p)
    args = p.parse_args()
    overrides = parse_overrides(args.set)

    import ray

    ray.init(address="local", include_dashboard=False, log_to_driver=False)
    config, _ = example_config(args.example, args.seed, args.eval_episodes, overrides)
    algo = config.build_algo()
    rows, next_eval = [], 0
    cols = [
        "env_steps",
        "eval_return",
        "eval_win_rate",
        "train_return",
        "q_taken_mean",
        "target_mean",
        "td_error_abs",
        "epsilon",
    ]
    print("  ".join(f"{c:>13}" for c in cols), flush=True)
    try:
        while True:
            result = algo.train()
            runners = result["env_runners"]
            steps = int(runners.get("num_env_steps_sampled_lifetime", 0))
            if steps >= next_eval or steps >= args.max_steps:
                ev = algo.evaluate()["env_runners"]
                learner = result.get("learners", {}).get("default_policy", {})
                row = {
                    "env_steps": steps,
                    "eval_return": ev.get("episode_return_mean"),
                    "eval_win_rate": ev.get("battle_won_mean"),
                    "train_return": runners.get("episode_return_mean"),
                    "q_taken_mean": learner.get("q_taken_mean"),
                    "target_mean": learner.get("target_mean"),
                    "td_error_abs": learner.get("td_error_abs"),
                    "epsilon": runners.get("epsilon"),
                }
                rows.append(row)
                print(
                    "  ".join(
                        f"{'-' if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, '13.4g')}".rjust(
                            13
                        )
                        for v in row.values()
                    ),
                    flush=True,
                )
                next_eval = steps + args.every
            if steps >= args.max_steps:
                break
    finally:
        algo.stop()
        out = out_dir(args.out) / f"diagnose_{args.example}{'_' + args.tag if args.tag else ''}.json"
        out.write_text(
            json.dumps({"example": args.example, "seed": args.seed, "overrides": overrides, "rows": rows}, indent=2)
        )
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
