"""Soak test: a long QMIX training run on SMAC MMM2, watching memory and the replay's capacity.

Trains for ``--minutes`` (default 30) and every ``--interval`` seconds records the resident set
size (RSS) of the driver and of each env runner process, the replay's episode count and the
bytes of its arrays. After every iteration it asserts that the replay never holds more than
its capacity (in episodes and in array rows). A small ``--capacity`` fills the replay early,
so that the rest of the run shows whether RSS stays flat once the replay is full.

With ``--kill-every SECONDS`` (churn soak), an env runner process is SIGKILLed that often, in
turn, with ``restart_failed_env_runners``: the table adds the restarts counted, and the summary
fits the RSS slope of the driver, of every Ray process of the session (raylet, GCS, workers) and
of each env runner process over its life, and checks that sampling and learning went on after
every kill.

Prints a table, and writes soak_<map>.json and soak_<map>.png (RSS curve) into results/ (``--out DIR``;
``soak_<map>_churn.*`` with ``--kill-every``).

    python benchmarks/soak.py                                 # 30 min on MMM2
    python benchmarks/soak.py --minutes 4 --capacity 64       # a short check
    python benchmarks/soak.py --kill-every 120 --num-env-runners 2   # churn: a runner killed every 2 min
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import add_out_argument, out_dir

MB = 1024.0 * 1024.0


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MiB (from /proc; psutil where there is no /proc).

    Raises ``OSError`` for a process that is gone (it may exit between listing and reading)."""
    if not os.path.isdir("/proc"):
        import psutil

        try:
            return psutil.Process(pid).memory_info().rss / MB
        except psutil.Error as e:
            raise ProcessLookupError(pid) from e
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0  # a zombie: no memory left


def session_pids(root: int) -> list[int]:
    """``root``'s descendant processes (Ray's raylet, GCS and workers of a local session), from /proc."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, frontier = [], [root]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        found += kids
        frontier += kids
    return found


def process_kind(pid: int) -> str:
    """What a Ray session process is, from its command line: gcs_server, raylet, log_monitor,
    dashboard, an idle worker (ray::IDLE), an actor (ray::ClassName) or another process."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return "gone"
    first = argv[0].decode(errors="replace") if argv else ""
    if first.startswith("ray::"):
        return first.split()[0].split(".")[0]  # ray::Actor (ray::Actor.method while busy)
    name = os.path.basename(first)
    if name in ("raylet", "gcs_server"):
        return name
    script = next((os.path.basename(a.decode(errors="replace")) for a in argv[1:] if a.endswith(b".py")), "")
    return script or name or "?"


def slope_per_min(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope (MiB/min) of (seconds, MiB) points; None with fewer than 3."""
    if len(points) < 3:
        return None
    t = np.array([p[0] for p in points]) / 60.0
    return float(np.polyfit(t, np.array([p[1] for p in points]), 1)[0]) if t[-1] > t[0] else None


def replay_check(replay: Any) -> None:
    """Asserts the replay holds no more than its capacity, in episodes and in array rows."""
    assert 0 <= len(replay) <= replay.capacity, f"replay holds {len(replay)} > capacity {replay.capacity}"
    for key, arr in replay._data.items():
        assert arr.shape[0] == replay.capacity, (
            f"replay array {key} has {arr.shape[0]} rows, capacity {replay.capacity}"
        )
    assert 0 <= replay.next_idx < replay.capacity


def flat_stats(samples: list[dict], key: str) -> dict:
    """RSS statistics over the samples taken after the replay was full."""
    full = [s for s in samples if s["replay_full"]]
    if len(full) < 2:
        return {"samples_when_full": len(full)}
    t = np.array([s["t_s"] for s in full]) / 60.0
    y = np.array([s[key] for s in full])
    slope = float(np.polyfit(t, y, 1)[0]) if t[-1] > t[0] else 0.0
    return {
        "samples_when_full": len(full),
        "first_mb": float(y[0]),
        "last_mb": float(y[-1]),
        "min_mb": float(y.min()),
        "max_mb": float(y.max()),
        "growth_mb": float(y[-1] - y[0]),
        "slope_mb_per_min": slope,
        "minutes_full": float(t[-1] - t[0]),
    }


def plot(samples: list[dict], capacity: int, path: Path, title: str) -> None:
    """RSS of the driver, the env runners and in total over time, with the replay fill."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s["t_s"] / 60.0 for s in samples]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(t, [s["driver_rss_mb"] for s in samples], label="driver RSS")
    if any(s["runner_rss_mb"] for s in samples):
        ax.plot(t, [sum(s["runner_rss_mb"]) for s in samples], label="env runners RSS (sum)")
    ax.plot(t, [s["total_rss_mb"] for s in samples], label="total RSS", linewidth=2)
    full_at = next((s["t_s"] / 60.0 for s in samples if s["replay_full"]), None)
    if full_at is not None:
        ax.axvline(full_at, color="gray", linestyle="--", label=f"replay full ({capacity} episodes)")
    ax.set_xlabel("minutes")
    ax.set_ylabel("MiB")
    ax.set_title(title)
    ax2 = ax.twinx()
    ax2.plot(t, [s["replay_episodes"] for s in samples], color="black", alpha=0.3, label="replay episodes")
    ax2.set_ylabel("episodes in replay")
    lines, labels = ax.get_legend_handles_labels()
    l2, lb2 = ax2.get_legend_handles_labels()
    ax.legend(lines + l2, labels + lb2, loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="training time (default 30)")
    parser.add_argument("--map", default="MMM2", help="SMAC map (default MMM2)")
    parser.add_argument("--capacity", type=int, default=500, help="replay capacity in episodes (default 500)")
    parser.add_argument("--batch", type=int, default=8, help="episodes per learner update (default 8)")
    parser.add_argument(
        "--updates-per-episode", type=float, default=0.25, help="learner updates per new episode (default 0.25)"
    )
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between RSS samples (default 10)")
    parser.add_argument("--num-env-runners", type=int, default=0, help="remote env runners (default 0)")
    parser.add_argument("--num-envs", type=int, default=4, help="envs per env runner (default 4)")
    parser.add_argument(
        "--kill-every",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="SIGKILL an env runner this often (churn soak; needs --num-env-runners >= 1)",
    )
    add_out_argument(parser)
    args = parser.parse_args(argv)
    if args.kill_every and args.num_env_runners < 1:
        parser.error("--kill-every needs --num-env-runners >= 1 (remote env runners to kill)")

    import ray

    from rllib_qmix import QMIXConfig

    ray.init(address="local", num_cpus=max(2, args.num_env_runners + 1), include_dashboard=False, log_to_driver=False)
    config = (
        QMIXConfig()
        .environment("smac", env_config={"map_name": args.map})
        .env_runners(
            num_env_runners=args.num_env_runners, num_envs_per_env_runner=args.num_envs, rollout_fragment_length=32
        )
        .training(
            replay_capacity=args.capacity,
            episode_batch_size=args.batch,
            learning_starts=args.batch,
            updates_per_episode=args.updates_per_episode,
        )
        .fault_tolerance(restart_failed_env_runners=bool(args.kill_every))
        .debugging(seed=0)
    )
    algo = config.build_algo()
    from rllib_qmix.algorithm.qmix import NUM_ENV_RUNNER_RESTARTS

    replay = algo.replay_buffer

    def current_runner_pids() -> list[int]:
        if not args.num_env_runners:
            return []
        return algo.env_runner_group.foreach_env_runner(lambda r: os.getpid(), local_env_runner=False)

    runner_pids = current_runner_pids()
    kills: list[dict] = []
    next_kill = time.monotonic() + args.kill_every if args.kill_every else float("inf")
    process_rss: dict[int, list[tuple[float, float]]] = {}  # every runner process's (s, MiB) over its life
    samples: list[dict] = []
    start = time.monotonic()
    next_sample = start
    deadline = start + args.minutes * 60.0
    iterations = 0
    result: dict = {}
    try:
        while True:
            now = time.monotonic()
            if now >= next_kill and now < deadline:
                victim = runner_pids[len(kills) % len(runner_pids)]
                os.kill(victim, signal.SIGKILL)
                kills.append(
                    {
                        "t_s": round(now - start, 2),
                        "pid": victim,
                        "iteration": iterations,
                        "env_steps": int(result.get("env_runners", {}).get("num_env_steps_sampled_lifetime", 0)),
                        "learner_updates": int(result.get("num_learner_updates_lifetime", 0)),
                    }
                )
                print(f"{(now - start) / 60:6.2f} min: killed env runner pid {victim}", flush=True)
                next_kill = now + args.kill_every
            if now >= next_sample or now >= deadline:
                if args.kill_every:
                    runner_pids = current_runner_pids() or runner_pids
                driver = rss_mb(os.getpid())
                runners = []
                for pid in runner_pids:
                    try:
                        runners.append(rss_mb(pid))
                        process_rss.setdefault(pid, []).append((now - start, runners[-1]))
                    except (OSError, ImportError):  # killed since the pids were read
                        pass
                ray_procs = 0.0
                by_kind: dict[str, float] = {}
                counts: dict[str, int] = {}
                for pid in session_pids(os.getpid()):
                    try:
                        mb = rss_mb(pid)
                    except (OSError, ImportError):
                        continue
                    ray_procs += mb
                    kind = process_kind(pid)
                    by_kind[kind] = by_kind.get(kind, 0.0) + mb
                    counts[kind] = counts.get(kind, 0) + 1
                samples.append(
                    {
                        "t_s": round(now - start, 2),
                        "iteration": iterations,
                        "env_steps": int(result.get("env_runners", {}).get("num_env_steps_sampled_lifetime", 0)),
                        "learner_updates": int(result.get("num_learner_updates_lifetime", 0)),
                        "replay_episodes": len(replay),
                        "replay_added": replay.num_added,
                        "replay_full": len(replay) == replay.capacity,
                        "replay_array_mb": sum(a.nbytes for a in replay._data.values()) / MB,
                        "driver_rss_mb": driver,
                        "runner_rss_mb": runners,
                        "total_rss_mb": driver + sum(runners),
                        "session_rss_mb": driver + ray_procs,
                        # the session's processes besides the driver, by kind: where growth is
                        "session_rss_by_kind_mb": {k: round(v, 1) for k, v in sorted(by_kind.items())},
                        "session_process_counts": dict(sorted(counts.items())),
                        "restarts": int(result.get(NUM_ENV_RUNNER_RESTARTS, 0)),
                    }
                )
                next_sample = now + args.interval
            if now >= deadline:
                break
            result = algo.train()
            iterations += 1
            replay_check(replay)
    finally:
        algo.stop()
        ray.shutdown()

    summary = {
        "map": args.map,
        "minutes": args.minutes,
        "capacity": args.capacity,
        "episode_batch_size": args.batch,
        "updates_per_episode": args.updates_per_episode,
        "num_env_runners": args.num_env_runners,
        "num_envs_per_env_runner": args.num_envs,
        "iterations": iterations,
        "env_steps": samples[-1]["env_steps"],
        "learner_updates": samples[-1]["learner_updates"],
        "episodes_added": samples[-1]["replay_added"],
        "replay_max_episodes": max(s["replay_episodes"] for s in samples),
        "replay_full_after_s": next((s["t_s"] for s in samples if s["replay_full"]), None),
        "total_rss_when_full": flat_stats(samples, "total_rss_mb"),
        "driver_rss_when_full": flat_stats(samples, "driver_rss_mb"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0]},
    }
    if args.kill_every:
        after = [s for s in samples if s["t_s"] > (kills[-1]["t_s"] if kills else 0)]
        full = [s for s in samples if s["replay_full"]]
        summary["churn"] = {
            "kill_every_s": args.kill_every,
            "kills": kills,
            "restarts_counted": samples[-1]["restarts"],
            # Fitted once the replay is full (the driver's memory grows with it until then), and for
            # each runner process from its 60th second on (past its start-up and first compile).
            "driver_slope_mb_per_min": slope_per_min([(s["t_s"], s["driver_rss_mb"]) for s in full]),
            "session_slope_mb_per_min": slope_per_min([(s["t_s"], s["session_rss_mb"]) for s in full]),
            "session_slope_by_kind_mb_per_min": {
                kind: slope_per_min([(s["t_s"], s["session_rss_by_kind_mb"].get(kind, 0.0)) for s in full])
                for kind in sorted({k for s in full for k in s["session_rss_by_kind_mb"]})
            },
            "runner_process_slopes_mb_per_min": {
                str(pid): slope_per_min([p for p in points if p[0] - points[0][0] >= 60.0])
                for pid, points in process_rss.items()
            },
            "env_steps_after_last_kill": (samples[-1]["env_steps"] - kills[-1]["env_steps"]) if kills else None,
            "updates_after_last_kill": (samples[-1]["learner_updates"] - kills[-1]["learner_updates"])
            if kills
            else None,
            "samples_after_last_kill": len(after),
        }
    stem = out_dir(args.out) / (f"soak_{args.map}_churn" if args.kill_every else f"soak_{args.map}")
    stem.with_suffix(".json").write_text(json.dumps({"summary": summary, "samples": samples}, indent=1))
    plot(
        samples,
        args.capacity,
        stem.with_suffix(".png"),
        f"QMIX soak on {args.map}: replay capacity {args.capacity} episodes",
    )

    print(
        f"\nSoak on {args.map}: {args.minutes:g} min, replay capacity {args.capacity} episodes, "
        f"{iterations} iterations, {summary['env_steps']} env steps, {summary['learner_updates']} updates, "
        f"{summary['episodes_added']} episodes added (replay max {summary['replay_max_episodes']})"
    )
    print(
        f"{'min':>6} {'iter':>6} {'env steps':>10} {'replay':>7} {'replay MiB':>10} "
        f"{'driver MiB':>10} {'runners MiB':>11} {'total MiB':>10} {'session MiB':>11} {'restarts':>8}"
    )
    for s in samples:
        print(
            f"{s['t_s'] / 60:6.2f} {s['iteration']:6d} {s['env_steps']:10d} {s['replay_episodes']:7d} "
            f"{s['replay_array_mb']:10.1f} {s['driver_rss_mb']:10.1f} {sum(s['runner_rss_mb']):11.1f} "
            f"{s['total_rss_mb']:10.1f} {s['session_rss_mb']:11.1f} {s['restarts']:8d}"
        )
    churn = summary.get("churn")
    if churn:
        fmt = lambda v: "n/a" if v is None else f"{v:+.2f}"  # noqa: E731
        runner_slopes = [v for v in churn["runner_process_slopes_mb_per_min"].values() if v is not None]
        print(
            f"\nChurn: {len(churn['kills'])} kills, {churn['restarts_counted']} restarts counted; RSS slopes "
            f"(MiB/min): driver {fmt(churn['driver_slope_mb_per_min'])}, whole session "
            f"{fmt(churn['session_slope_mb_per_min'])}, env runner processes "
            f"{', '.join(fmt(v) for v in runner_slopes) or 'n/a'}; after the last kill "
            f"{churn['env_steps_after_last_kill']} env steps and {churn['updates_after_last_kill']} updates"
        )
    full = summary["total_rss_when_full"]
    if "slope_mb_per_min" in full:
        print(
            f"\nOnce full (after {summary['replay_full_after_s']:.0f} s, {full['minutes_full']:.1f} min, "
            f"{full['samples_when_full']} samples): total RSS {full['first_mb']:.1f} -> {full['last_mb']:.1f} MiB "
            f"(min {full['min_mb']:.1f}, max {full['max_mb']:.1f}), slope {full['slope_mb_per_min']:+.2f} MiB/min"
        )
    else:
        print("\nThe replay did not fill up: raise --minutes or lower --capacity.")
    print(f"wrote {stem.with_suffix('.json')} and {stem.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
