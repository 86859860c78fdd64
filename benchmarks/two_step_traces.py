r"""The two-step game under ``QMIXConfig()``'s defaults: naive against Watkins's TD(lambda) traces.

The defaults learn with TD(lambda) 0.6. With a naive trace the lambda-return follows the
exploring policy's continuation; ``td_lambda_trace="watkins"`` cuts the trace where the next
joint action is not the greedy one. This script trains the defaults (changing only the mixer,
the trace and exploration) on the two-step game of the QMIX paper (Rashid et al. 2018, Sec. 6.1)
for every combination asked and reports the greedy return at the end of each run:

- exploration ``full``: epsilon = 1 throughout (the paper's protocol), ``--full-steps`` env
  steps (default 20,000);
- exploration ``schedule``: the default epsilon schedule (1 -> 0.05 over 50k env steps),
  ``--schedule-steps`` env steps (default 50,000).

The optimum is 8; VDN cannot represent it and settles for 7. Prints a table (greedy return
per seed, median) and writes two_step_traces.json (after every run, the runs so far).

    python benchmarks/two_step_traces.py --seeds 0 1 2
    python benchmarks/two_step_traces.py --mixers qmix --traces watkins --exploration full --seeds 0

With ``RLLIB_QMIX_MAX_ITERATIONS=N`` set (a smoke run) each run stops after N iterations.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time

from _common import add_out_argument, out_dir

MIXERS = ("qmix", "vdn")
TRACES = ("naive", "watkins")
EXPLORATION = ("full", "schedule")


def build_config(mixer: str, trace: str, exploration: str, seed: int):
    """``QMIXConfig()``'s defaults on the two-step game, with ``mixer``, ``trace`` and, for
    ``full`` exploration, epsilon = 1 throughout; 8 battles in parallel, 4-episode greedy evaluations."""
    from rllib_qmix import QMIXConfig

    config = (
        QMIXConfig()
        .environment("two_step_game")
        .env_runners(num_env_runners=0, num_envs_per_env_runner=8, rollout_fragment_length=2)
        .training(mixer=mixer, td_lambda_trace=trace)
        .evaluation(evaluation_duration=4, evaluation_duration_unit="episodes")
        .debugging(seed=seed)
    )
    if exploration == "full":
        config.training(epsilon_start=1.0, epsilon_finish=1.0)
    return config


def run_one(mixer: str, trace: str, exploration: str, seed: int, max_steps: int) -> dict:
    """Trains one combination to ``max_steps`` env steps; the greedy return at the end."""
    from rllib_qmix.budget import max_iterations

    algo = build_config(mixer, trace, exploration, seed).build_algo()
    start, steps, iterations, cap = time.perf_counter(), 0, 0, max_iterations()
    try:
        while steps < max_steps and (cap is None or iterations < cap):
            steps = int(algo.train()["env_runners"]["num_env_steps_sampled_lifetime"])
            iterations += 1
        greedy = float(algo.evaluate()["env_runners"]["episode_return_mean"])
    finally:
        algo.stop()
    return {
        "mixer": mixer,
        "trace": trace,
        "exploration": exploration,
        "seed": seed,
        "env_steps": steps,
        "greedy_return": greedy,
        "minutes": (time.perf_counter() - start) / 60,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mixers", nargs="+", choices=MIXERS, default=list(MIXERS))
    p.add_argument("--traces", nargs="+", choices=TRACES, default=list(TRACES))
    p.add_argument("--exploration", nargs="+", choices=EXPLORATION, default=list(EXPLORATION))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--full-steps", type=int, default=20_000, help="env steps with epsilon = 1 throughout")
    p.add_argument("--schedule-steps", type=int, default=50_000, help="env steps with the default epsilon schedule")
    add_out_argument(p)
    args = p.parse_args()

    import ray

    ray.init(address="local", include_dashboard=False, log_to_driver=False)
    budget = {"full": args.full_steps, "schedule": args.schedule_steps}
    runs, path = [], out_dir(args.out) / "two_step_traces.json"
    for mixer, exploration, trace, seed in itertools.product(args.mixers, args.exploration, args.traces, args.seeds):
        run = run_one(mixer, trace, exploration, seed, budget[exploration])
        print(f"{mixer} {exploration} {trace} seed {seed}: {run['greedy_return']:.1f} ({run['minutes']:.1f} min)")
        runs.append(run)
        path.write_text(json.dumps({"budget": budget, "runs": runs}, indent=1))  # so far, should the run end early
    ray.shutdown()

    print("\ntwo-step game, QMIXConfig() defaults (TD(lambda) 0.6): greedy return at the end")
    print("| mixer | exploration (env steps) | trace | " + " | ".join(f"seed {s}" for s in args.seeds) + " | median |")
    print("|---|---|---|" + "---|" * (len(args.seeds) + 1))
    rows = []
    for mixer, exploration, trace in itertools.product(args.mixers, args.exploration, args.traces):
        mine = [r for r in runs if (r["mixer"], r["exploration"], r["trace"]) == (mixer, exploration, trace)]
        returns = [r["greedy_return"] for r in mine]
        median = statistics.median(returns)
        rows.append({"mixer": mixer, "exploration": exploration, "trace": trace, "returns": returns, "median": median})
        cells = " | ".join(f"{x:.1f}" for x in returns)
        print(f"| {mixer} | {exploration} ({budget[exploration]:,}) | {trace} | {cells} | {median:.1f} |")
    path.write_text(json.dumps({"budget": budget, "summary": rows, "runs": runs}, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
