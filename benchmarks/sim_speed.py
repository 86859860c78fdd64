"""Speed of the embedded simulator: single env on every SMAC map and SMACv2 scenario, batched.

Random available actions; every step also fetches observations, state and action masks
(what a learner's env loop does). Prints a table and writes JSON.

    python benchmarks/sim_speed.py [--seconds 1.5] [--batch 256 1024] [--out DIR]   # writes sim_speed.json
    python benchmarks/sim_speed.py --maps --scenarios protoss_5_vs_5 protoss_20_vs_23   # SMACv2 only
    python benchmarks/sim_speed.py --maps --scenarios protoss_5_vs_5 --batch 1024 --repeats 5

``--repeats N`` times every batched setting N times, the settings taking turns, and reports the
median and the range (timings on a shared 2-core VM vary by up to ~25% from run to run); the
target is judged on the median. ``--cpu-time`` times with the process's CPU time instead of
the wall clock: steps per second of CPU the simulator got, the fairer figure when other jobs
share the machine (one stepping thread only: with ``--threads 2`` it would count both).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import numpy as np
from _common import add_out_argument, out_dir

from rllib_qmix.envs.smac import MAP_NAMES, BatchedStarCraft2Env, StarCraft2Env
from rllib_qmix.envs.smacv2 import SCENARIO_NAMES, BatchedSMACv2Env, SMACv2Env

#: The clock the timings read (``--cpu-time`` switches it to the process's CPU time).
clock = time.perf_counter

SMACLITE = {"3s5z": 140, "MMM2": 85, "27m_vs_30m": 52, "corridor": 39}  # steps/s, reference §4
TARGETS = {"3m": 4000, **{k: 20 * v for k, v in SMACLITE.items()}}
BATCH_TARGET = 100_000
#: SMACv2: single env on 2 cores, and batched on protoss_5_vs_5
V2_TARGETS = {"protoss_5_vs_5": 15_000, "protoss_20_vs_23": 3_000}
V2_BATCH = "protoss_5_vs_5"


def bench_single(map_name: str, seconds: float, seed: int = 0, v2: bool = False) -> dict:
    """Steps/s of one StarCraft2Env (SMACv2Env with ``v2``) under a random policy (resets included)."""
    env = SMACv2Env(map_name, seed=seed) if v2 else StarCraft2Env(map_name, seed=seed)
    rng = np.random.default_rng(seed)
    env.reset()
    for _ in range(20):  # warm-up (compilation happens at import / first call)
        av = env.get_avail_actions_array()
        _, done, _ = env.step((rng.random(av.shape) * av).argmax(1))
        if done:
            env.reset()
    steps, episodes = 0, 0
    t0 = clock()
    while clock() - t0 < seconds:
        for _ in range(100):
            env.get_obs_array()
            env.get_state()
            av = env.get_avail_actions_array()
            _, done, _ = env.step((rng.random(av.shape) * av).argmax(1))
            steps += 1
            if done:
                episodes += 1
                env.reset()
    dt = clock() - t0
    return {"map": map_name, "steps_per_s": steps / dt, "steps": steps, "episodes": episodes}


def bench_batched(
    map_name: str, n_envs: int, seconds: float, seed: int = 0, v2: bool = False, n_threads: int = 1
) -> dict:
    """Env steps/s of a BatchedStarCraft2Env (BatchedSMACv2Env with ``v2``) under a random
    policy (auto-reset of done envs), stepped by ``n_threads`` threads."""
    env = (BatchedSMACv2Env if v2 else BatchedStarCraft2Env)(map_name, n_envs, seed=seed, n_threads=n_threads)
    rng = np.random.default_rng(seed)
    env.reset()
    steps = 0
    t0 = None
    for it in range(10**9):
        if it == 5:
            t0, steps = clock(), 0
        av = env.engine.avail
        a = (rng.random(av.shape, np.float32) * av).argmax(2)
        env.step(a)
        env.get_obs()
        env.get_state()
        env.reset_done()
        steps += n_envs
        if t0 is not None and clock() - t0 > seconds:
            break
    dt = clock() - t0
    env.close()
    return {"map": map_name, "n_envs": n_envs, "n_threads": n_threads, "env_steps_per_s": steps / dt}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=1.5, help="timing per map")
    ap.add_argument("--maps", nargs="*", default=list(MAP_NAMES))
    ap.add_argument("--scenarios", nargs="*", default=list(SCENARIO_NAMES), help="SMACv2 scenarios")
    ap.add_argument("--batch", nargs="*", type=int, default=[256, 1024])
    ap.add_argument("--threads", nargs="*", type=int, default=[1, 2], help="stepping threads of the batched env")
    ap.add_argument("--repeats", type=int, default=1, help="timings of each batched setting (median reported)")
    ap.add_argument("--cpu-time", action="store_true", help="time with the process's CPU time, not the wall clock")
    add_out_argument(ap)
    args = ap.parse_args()
    if args.cpu_time:
        if max(args.threads) > 1:
            ap.error("--cpu-time counts every thread's CPU: use it with --threads 1")
        global clock
        clock = time.process_time
    rows = []
    print(f"{'map / scenario':<20}{'steps/s':>10}{'target':>10}  result")
    jobs = [(m, False, TARGETS.get(m)) for m in args.maps] + [(s, True, V2_TARGETS.get(s)) for s in args.scenarios]
    for m, v2, tgt in jobs:
        r = bench_single(m, args.seconds, v2=v2)
        r["smacv2"], r["target"] = v2, tgt
        r["pass"] = None if tgt is None else bool(r["steps_per_s"] >= tgt)
        rows.append(r)
        res = "" if tgt is None else ("PASS" if r["pass"] else "FAIL")
        print(f"{m:<20}{r['steps_per_s']:>10.0f}{tgt or '':>10}  {res}", flush=True)
    brows = []
    print(f"\n{'batched':<20}{'n_envs':>8}{'threads':>8}{'env steps/s':>14}{'range':>20}{'target':>10}  result")
    batched = [("3m", False)] * bool(args.maps) + [(V2_BATCH, True)] * (V2_BATCH in args.scenarios)
    settings = [(m, v2, n, threads) for m, v2 in batched for n in args.batch for threads in args.threads]
    timings: dict[tuple, list[float]] = {s: [] for s in settings}
    for _ in range(max(args.repeats, 1)):  # the settings take turns, so a slow spell hits all
        for m, v2, n, threads in settings:
            r = bench_batched(m, n, args.seconds, v2=v2, n_threads=threads)
            timings[(m, v2, n, threads)].append(r["env_steps_per_s"])
    for (m, v2, n, threads), runs in timings.items():
        med = statistics.median(runs)
        r = {"map": m, "n_envs": n, "n_threads": threads, "env_steps_per_s": med, "runs": runs}
        r["smacv2"], r["target"] = v2, BATCH_TARGET
        r["pass"] = bool(med >= BATCH_TARGET)
        brows.append(r)
        spread = f"{min(runs):,.0f}-{max(runs):,.0f}" if len(runs) > 1 else ""
        res = "PASS" if r["pass"] else "FAIL"
        print(f"{m:<20}{n:>8}{threads:>8}{med:>14,.0f}{spread:>20}{BATCH_TARGET:>10}  {res}", flush=True)
    out = out_dir(args.out) / "sim_speed.json"
    out.write_text(
        json.dumps(
            {
                "single": rows,
                "batched": brows,
                "seconds": args.seconds,
                "repeats": args.repeats,
                "clock": "process CPU time" if args.cpu_time else "wall clock",
                "machine": platform.platform(),
                "python": platform.python_version(),
                "smaclite_reference": SMACLITE,
            },
            indent=2,
        )
    )
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
