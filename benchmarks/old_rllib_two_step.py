r"""Old RLlib QMIX's two-step example, run unchanged on rllib_qmix: greedy return over seeds.

Old RLlib's ``examples/two_step_game.py`` grouped the two agents of the two-step game with
``with_agent_groups`` (Tuple spaces of Dict observations with a MultiDiscrete ``"obs"`` and a
MultiDiscrete ``"state"``) and trained QMIX with a handful of old config keys. This script
builds the same env (Ray's own copy of the game, ``ray.rllib.examples.envs.classes.
multi_agent.two_step_game``) and the same config dict, and trains rllib_qmix's QMIX from it
through ``QMIXConfig().update_from_dict``, as a user who changed only the import line would.
The budget is the old example's: 70,000 env steps (it stopped earlier at a mean return of 8).

Variants: ``old`` is the old keys alone; ``recommended`` adds the settings docs/migrating.md
recommends for this game (one-step targets, ``td_lambda=0``). Prints a table of the greedy
return at each evaluation and at the end, and writes old_rllib_two_step_<variant>.json.

    python benchmarks/old_rllib_two_step.py --variant old --seeds 0 1 2
    python benchmarks/old_rllib_two_step.py --variant recommended --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings
from typing import Any, Optional

from _common import add_out_argument, out_dir

#: The old example's QMIX keys (its mixer default, train_batch_size and exploration), plus the
#: other old keys of QMixConfig at the old defaults, so that every one goes through translation.
OLD_CONFIG: dict[str, Any] = {
    "mixer": "qmix",
    "train_batch_size": 32,
    "exploration_config": {"final_epsilon": 0.0},
    "mixing_embed_dim": 32,
    "double_q": True,
    "optim_alpha": 0.99,
    "optim_eps": 0.00001,
    "grad_clip": 10,
    "target_network_update_freq": 500,
    "num_workers": 0,
    "env": "grouped_twostep",
    "env_config": {"separate_state_space": True, "one_hot_state_encoding": True},
}
#: What docs/migrating.md recommends on top for this game: one-step targets.
RECOMMENDED: dict[str, Any] = {"td_lambda": 0.0}
VARIANTS = {"old": {}, "recommended": RECOMMENDED}
#: The old example's budget (its ``--stop-timesteps``) and its stop reward.
MAX_STEPS = 70_000
OPTIMUM = 8.0
#: Cuts every run to this many training iterations when set (a quick try; the docs' test sets it).
MAX_ITERATIONS_VAR = "RLLIB_QMIX_MAX_ITERATIONS"


def register_grouped_two_step() -> None:
    """Registers "grouped_twostep" exactly as the old example did."""
    from gymnasium.spaces import Dict, MultiDiscrete, Tuple
    from ray.rllib.env.multi_agent_env import ENV_STATE
    from ray.rllib.examples.envs.classes.multi_agent.two_step_game import TwoStepGame
    from ray.tune import register_env

    grouping = {"group_1": [0, 1]}
    member = Dict({"obs": MultiDiscrete([2, 2, 2, 3]), ENV_STATE: MultiDiscrete([2, 2, 2])})
    obs_space = Tuple([member, member])
    act_space = Tuple([TwoStepGame.action_space, TwoStepGame.action_space])
    register_env(
        "grouped_twostep",
        lambda config: TwoStepGame(config).with_agent_groups(grouping, obs_space=obs_space, act_space=act_space),
    )


def build_config(variant: str, seed: int):
    """The old example's config through ``update_from_dict`` (its warnings silenced), plus the variant."""
    from rllib_qmix import QMIXConfig

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        config = QMIXConfig().update_from_dict({**OLD_CONFIG, **VARIANTS[variant], "seed": seed})
    return config.evaluation(evaluation_duration=1, evaluation_duration_unit="episodes")


def max_iterations() -> Optional[int]:
    """The cap on training iterations of ``RLLIB_QMIX_MAX_ITERATIONS`` (for a quick try), or None."""
    value = os.environ.get(MAX_ITERATIONS_VAR, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"{MAX_ITERATIONS_VAR} must be a positive integer, got {value!r}")
    return int(value)


def run_one(variant: str, seed: int, max_steps: int, eval_every: int) -> dict:
    """Trains one seed to ``max_steps`` env steps; the greedy return every ``eval_every`` steps
    and at the end (``RLLIB_QMIX_MAX_ITERATIONS`` cuts the run to that many iterations)."""
    register_grouped_two_step()
    algo = build_config(variant, seed).build_algo()
    start, curve, next_eval, steps = time.perf_counter(), [], eval_every, 0
    cap = max_iterations()
    try:
        iterations = 0
        while steps < max_steps and (cap is None or iterations < cap):
            steps = int(algo.train()["num_env_steps_sampled_lifetime"])
            iterations += 1
            last = steps >= max_steps or (cap is not None and iterations >= cap)
            if steps >= next_eval or last:
                ret = float(algo.evaluate()["env_runners"]["episode_return_mean"])
                curve.append({"env_steps": steps, "greedy_return": ret})
                next_eval += eval_every
    finally:
        algo.stop()
    return {
        "seed": seed,
        "curve": curve,
        "final": curve[-1]["greedy_return"],
        "minutes": (time.perf_counter() - start) / 60,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variant", choices=sorted(VARIANTS), default="old")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--max-steps", type=int, default=MAX_STEPS)
    p.add_argument("--eval-every", type=int, default=10_000)
    add_out_argument(p)
    args = p.parse_args()

    import ray

    ray.init(address="local", include_dashboard=False, log_to_driver=False)
    runs = [run_one(args.variant, seed, args.max_steps, args.eval_every) for seed in args.seeds]
    ray.shutdown()
    print(f"\nold RLlib two-step example, variant '{args.variant}', {args.max_steps} env steps")
    steps = [pt["env_steps"] for pt in runs[0]["curve"]]
    print("| seed | " + " | ".join(f"{s / 1000:g}k" for s in steps) + " | minutes |")
    print("|---|" + "---|" * (len(steps) + 1))
    for run in runs:
        cells = " | ".join(f"{pt['greedy_return']:.1f}" for pt in run["curve"])
        print(f"| {run['seed']} | {cells} | {run['minutes']:.1f} |")
    finals = [r["final"] for r in runs]
    print(f"final greedy return: median {statistics.median(finals):.1f}, range [{min(finals):.1f}, {max(finals):.1f}]")
    path = out_dir(args.out) / f"old_rllib_two_step_{args.variant}.json"
    summary = {"variant": args.variant, "settings": {**OLD_CONFIG, **VARIANTS[args.variant]}, "runs": runs}
    path.write_text(json.dumps(summary, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
