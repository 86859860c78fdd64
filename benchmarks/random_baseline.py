"""The return of a uniformly random policy on a tuned example's env: the floor a learning curve
is read against.

Plays ``--episodes`` seeded episodes of each example's env (its ``env`` and ``env_config``,
through the same team view QMIX trains on), every agent taking a uniformly random available
action, and scores them as ``learning.py`` does: the team return (the sum of the agents'
rewards) and, where the env reports one, the win rate.

    python benchmarks/random_baseline.py lbf rware mpe_spread mpe_speaker_listener --episodes 200

Prints a table and writes random_baseline.json into results/ (``--out DIR`` to choose).
With ``RLLIB_QMIX_MAX_ITERATIONS=N`` set (a smoke run), each env plays at most N episodes.
"""

from __future__ import annotations

import argparse
import json
import statistics

import numpy as np
from _common import add_out_argument, out_dir
from learning import ENV_VAR, example_config, iteration_cap


def random_returns(example: str, episodes: int, seed: int = 0) -> dict:
    """Team returns (and wins, where reported) of the random policy on ``example``'s env."""
    from rllib_qmix.envs.creator import make_team_env

    config, _ = example_config(example, seed=seed, eval_episodes=1)
    env = make_team_env(config)
    rng = np.random.default_rng(seed)
    returns, wins, lengths = [], [], []
    for episode in range(episodes):
        team = env.reset(seed=seed + episode)
        total, steps = 0.0, 0
        while True:
            actions = np.array([rng.choice(np.flatnonzero(avail)) for avail in team.avail])
            out = env.step(actions)
            total, steps, team = total + float(out.reward), steps + 1, out.obs
            if out.terminated or out.truncated:
                break
        returns.append(total)
        lengths.append(steps)
        if "battle_won" in out.info:
            wins.append(float(out.info["battle_won"]))
    env.close()
    return {
        "example": example,
        "episodes": episodes,
        "return_mean": statistics.fmean(returns),
        "return_median": statistics.median(returns),
        "return_std": statistics.pstdev(returns),
        "episode_len_mean": statistics.fmean(lengths),
        "win_rate": statistics.fmean(wins) if wins else None,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("examples", nargs="+", help="tuned example names (file stems in tuned_examples/)")
    p.add_argument("--episodes", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    add_out_argument(p)
    args = p.parse_args()
    cap = iteration_cap()
    if cap is not None and cap < args.episodes:
        print(f"{ENV_VAR}={cap}: {cap} episodes per env instead of {args.episodes}", flush=True)
        args.episodes = cap
    rows = [random_returns(e, args.episodes, args.seed) for e in args.examples]
    print(f"{'example':24} {'episodes':>8} {'mean return':>12} {'median':>8} {'std':>8} {'length':>7} {'win rate':>8}")
    for r in rows:
        win = "" if r["win_rate"] is None else f"{r['win_rate']:.1%}"
        print(
            f"{r['example']:24} {r['episodes']:>8} {r['return_mean']:>12.3f} {r['return_median']:>8.3f} "
            f"{r['return_std']:>8.3f} {r['episode_len_mean']:>7.1f} {win:>8}"
        )
    path = out_dir(args.out) / "random_baseline.json"
    path.write_text(json.dumps({"policy": "uniformly random available action", "rows": rows}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
