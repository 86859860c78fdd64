"""Scale-out curve: QMIX's training loop as env runners are added, CPU learner against GPU learner.

For each map, learner device and number of env runners, trains QMIX on the embedded simulator
with ``throughput.py``'s schedule (ε fixed at 0.5, batch 32 episodes, one update per finished
episode, so learner work per env step is the same in every row) and reports env steps/s,
learner updates/s and how the wall time splits between sampling and the learner. A row is
*learner-bound* when the learner takes more of the wall time than sampling: adding runners
cannot speed it up, a faster learner can.

    python benchmarks/scale_out.py --maps MMM2 --runners 1 2 4 8 12 --learner-gpus 0 1   # GPU host
    python benchmarks/scale_out.py --maps 3m --runners 1 2 --steps 2000                  # 2 cores

Prints a table and writes scale_out.json into results/ (``--out DIR`` to choose). The
goal: ≥ 3,000 env steps/s on MMM2 with the GPU learner.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import add_out_argument, out_dir

#: The goal for MMM2 with the GPU learner (env steps/s).
GOAL_MMM2_GPU = 3000


def bound(split_s: dict) -> str:
    """Which phase limits the loop: "learner" when it takes longer than sampling, else "sampling"."""
    return "learner" if split_s["learn"] > split_s["sample"] else "sampling"


def scale_rows(
    maps: list[str],
    runners: list[int],
    envs_per_runner: int,
    learner_gpus: list[int],
    steps: int,
    measure: Callable[..., dict],
    progress: Callable[[dict], None] = lambda row: None,
) -> list[dict]:
    """One row per (map, learner device, runners): ``measure(map, runners, envs, steps, gpus)``
    (``throughput.rllib_throughput``'s signature and result) turned into a table row."""
    rows = []
    for m in maps:
        for gpus in learner_gpus:
            for n in runners:
                res = measure(m, n, envs_per_runner, steps, gpus)
                split, wall = res["split_s"], res["wall_s"]
                row = {
                    "map": m,
                    "learner": "GPU" if gpus else "CPU",
                    "runners": n,
                    "envs/runner": envs_per_runner,
                    "env_steps/s": round(res["env_steps_per_s"]),
                    "updates/s": round(res["updates_per_s"], 2),
                    "sample_%": round(100 * split["sample"] / wall),
                    "learn_%": round(100 * split["learn"] / wall),
                    "bound": bound(split),
                    "wall_s": round(wall, 1),
                }
                rows.append(row)
                progress(row)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--maps", nargs="+", default=["MMM2"], help="SMAC maps or SMACv2 scenarios")
    p.add_argument("--runners", nargs="+", type=int, default=[1, 2, 4, 8, 12], help="env runner counts")
    p.add_argument("--envs-per-runner", type=int, default=4)
    p.add_argument("--learner-gpus", nargs="+", type=int, default=[0], choices=(0, 1), help="0: CPU, 1: GPU")
    p.add_argument("--steps", type=int, default=20000, help="env steps timed per row (after a warm-up)")
    add_out_argument(p)
    args = p.parse_args()
    if min(args.runners) < 1:
        p.error("--runners: each count must be >= 1 (0 runners samples in the driver: see throughput.py)")
    import ray
    import torch

    if 1 in args.learner_gpus and not torch.cuda.is_available():
        p.error("--learner-gpus 1: torch sees no CUDA device on this machine; use --learner-gpus 0")
    cpus = os.cpu_count() or 2
    if max(args.runners) > cpus:
        print(f"note: {max(args.runners)} runners on {cpus} CPUs: runners will share cores", flush=True)

    from throughput import cpu_name, rllib_throughput, table

    ray.init(num_cpus=max(cpus, max(args.runners) + 1), include_dashboard=False, log_to_driver=False)
    try:
        rows = scale_rows(
            args.maps,
            args.runners,
            args.envs_per_runner,
            args.learner_gpus,
            args.steps,
            rllib_throughput,  # (map, runners, envs, steps, learner_gpus)
            progress=lambda row: print(table([row], list(row)), flush=True),
        )
    finally:
        ray.shutdown()
    print(f"\nScale-out ({args.steps} env steps per row, batch 32 episodes, 1 update per finished episode)")
    print(table(rows, list(rows[0])))
    gpu_mmm2 = [r["env_steps/s"] for r in rows if r["map"] == "MMM2" and r["learner"] == "GPU"]
    if gpu_mmm2:
        print(f"MMM2, GPU learner: best {max(gpu_mmm2):,} env steps/s (goal {GOAL_MMM2_GPU:,})")
    out = {
        "machine": {
            "cpus": cpus,
            "cpu": cpu_name(),
            "platform": platform.platform(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "torch_threads": torch.get_num_threads(),
        },
        "steps_per_row": args.steps,
        "rows": rows,
    }
    path = out_dir(args.out) / "scale_out.json"
    path.write_text(json.dumps(out, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
