"""Screen config variants of a tuned example side by side, every run cut at one wall-clock limit.

A screen asks a cheap question before a long run is spent on it: does a change learn faster in
the first few hundred thousand env steps than the tuned example, by more than seeds differ?
Each arm x seed is one ``benchmarks/learning.py`` process, all started at once (a many-core or
GPU machine runs them in parallel) and stopped after ``--wall-limit`` seconds. The table gives,
per arm, the greedy evaluation return averaged over each window of ``--window`` env steps
(mean over seeds, and the seeds' range), and the best greedy win rate seen.

    python benchmarks/screen.py smac_mmm2 --seeds 0 1 --wall-limit 470 --eval-every 25000 \\
        --common num_gpus_per_learner=1 --arm base --arm hid128:agent_hidden_dim=128 \\
        --arm lam08:td_lambda=0.8
    python benchmarks/screen.py smac_mmm2 --from-logs DIR    # the table again, from saved logs

Logs go to ``--log-dir`` as ``<arm>.seed<N>.log`` (the curves are read from them, so logs copied
back from another machine rebuild the same table); the table is written to
``screen_<example>[_<tag>].json`` in results/ (``--out DIR`` to choose).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from _common import add_out_argument, out_dir

HERE = Path(__file__).resolve().parent
_LINE = re.compile(r"^\[(?P<example>\S+) seed (?P<seed>\d+)\] (?P<fields>env_steps=.*)$")
MANIFEST = "screen.json"  # what a launch ran, kept beside its logs
_LOG_NAME = re.compile(r"^(?P<arm>.+)\.seed(?P<seed>\d+)\.log$")


def parse_arm(spec: str) -> tuple[str, list[str]]:
    """``"lam08:td_lambda=0.8,lr=0.0005"`` -> ``("lam08", ["td_lambda=0.8", "lr=0.0005"])``."""
    name, _, settings = spec.partition(":")
    items = [s.strip() for s in settings.split(",") if s.strip()]
    if not re.fullmatch(r"[A-Za-z0-9_.+-]+", name) or any("=" not in s for s in items):
        raise SystemExit(
            f"--arm expects NAME or NAME:KEY=VALUE[,KEY=VALUE...] (NAME of letters, digits, '_.+-'), got {spec!r}"
        )
    return name, items


def parse_log(text: str) -> list[dict]:
    """The evaluation points that ``learning.py`` printed (``env_steps=... eval_return=...``)."""
    points = []
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        point = {}
        for field in m["fields"].split():
            key, _, value = field.partition("=")
            try:
                point[key] = float(value)
            except ValueError:
                point[key] = None  # "None" before the first finished training episode
        points.append(point)
    return points


def read_logs(log_dir: Path) -> dict[str, dict[int, list[dict]]]:
    """``{arm: {seed: curve}}`` from the ``<arm>.seed<N>.log`` files in ``log_dir``."""
    arms: dict[str, dict[int, list[dict]]] = {}
    for path in sorted(log_dir.glob("*.log")):
        m = _LOG_NAME.match(path.name)
        if m:
            arms.setdefault(m["arm"], {})[int(m["seed"])] = parse_log(path.read_text(errors="replace"))
    if not any(curve for seeds in arms.values() for curve in seeds.values()):
        raise SystemExit(f"no evaluation points in {log_dir}/<arm>.seed<N>.log: nothing to compare")
    return arms


def window_mean(curve: list[dict], end: int, window: int, key: str = "eval_return") -> float | None:
    """Mean of ``key`` over the curve's points with env steps in ``(end - window, end]``."""
    vals = [p[key] for p in curve if end - window < p["env_steps"] <= end and p.get(key) is not None]
    return sum(vals) / len(vals) if vals else None


def summarize(arms: dict[str, dict[int, list[dict]]], window: int) -> dict:
    """Per arm: seeds, env steps reached, windowed eval return per seed and its mean, best win rate."""
    out = {}
    for arm, seeds in arms.items():
        reached = {s: int(c[-1]["env_steps"]) if c else 0 for s, c in seeds.items()}
        ends = range(window, max(reached.values(), default=0) + 1, window)
        windows = []
        for end in ends:
            per_seed = {s: window_mean(c, end, window) for s, c in seeds.items() if reached[s] >= end}
            vals = [v for v in per_seed.values() if v is not None]
            windows.append(
                {
                    "end": end,
                    "per_seed": per_seed,
                    "mean": sum(vals) / len(vals) if vals else None,
                    "range": [min(vals), max(vals)] if vals else None,
                }
            )
        best_win = max((p.get("eval_win_rate") or 0.0 for c in seeds.values() for p in c), default=0.0)
        out[arm] = {
            "seeds": sorted(seeds),
            "env_steps_reached": reached,
            "windows": windows,
            "best_eval_win_rate": best_win,
        }
    return out


def print_table(summary: dict, window: int) -> None:
    """One row per window of env steps, one column per arm: mean greedy return [seeds' range] n=seeds."""
    arms = list(summary)
    ends = sorted({w["end"] for a in summary.values() for w in a["windows"]})
    head = ["env steps"] + arms
    rows = []
    for e in ends:
        row = [f"{(e - window) // 1000}-{e // 1000}k"]
        for arm in arms:
            w = next((w for w in summary[arm]["windows"] if w["end"] == e), None)
            n = len([v for v in w["per_seed"].values() if v is not None]) if w else 0
            row.append("-" if not n else f"{w['mean']:.2f} [{w['range'][0]:.1f}, {w['range'][1]:.1f}] n={n}")
        rows.append(row)
    rows.append(
        ["reached"]
        + [
            f"{min(a['env_steps_reached'].values()) // 1000}-{max(a['env_steps_reached'].values()) // 1000}k"
            for a in summary.values()
        ]
    )
    rows.append(["best win"] + [f"{a['best_eval_win_rate']:.1%}" for a in summary.values()])
    print("greedy eval return, mean over the window's evaluations, then over seeds [range] n=seeds")
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    for r in [head] + rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))


def launch(
    example: str,
    arms: list[tuple[str, list[str]]],
    seeds: list[int],
    common: list[str],
    log_dir: Path,
    out: Path,
    wall_limit: float,
    eval_every: int,
    eval_episodes: int,
    max_steps: int | None,
) -> None:
    """Starts every arm x seed as a ``learning.py`` process writing to ``out``; stops them after ``wall_limit`` s."""
    log_dir.mkdir(parents=True, exist_ok=True)
    manifest = {
        "example": example,
        "arms": {name: settings for name, settings in arms},
        "common": common,
        "seeds": seeds,
        "wall_limit_s": wall_limit,
        "eval_every": eval_every,
        "eval_episodes": eval_episodes,
        "cpu_count": os.cpu_count(),
    }
    (log_dir / MANIFEST).write_text(json.dumps(manifest, indent=2))
    procs = []
    for name, settings in arms:
        for seed in seeds:
            cmd = [
                sys.executable,
                str(HERE / "learning.py"),
                example,
                "--seeds",
                str(seed),
                "--eval-every",
                str(eval_every),
                "--eval-episodes",
                str(eval_episodes),
                "--tag",
                f"screen_{name}",
                "--out",
                str(out),
            ]
            if max_steps:
                cmd += ["--max-steps", str(max_steps)]
            for item in common + settings:
                cmd += ["--set", item]
            log = open(log_dir / f"{name}.seed{seed}.log", "w")
            # A session of its own: the stop below reaches the run's Ray processes too.
            procs.append(
                (name, seed, log, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
            )
    print(
        f"screen: {len(procs)} runs of {example} started, stopping at {wall_limit:.0f} s; logs in {log_dir}", flush=True
    )
    deadline = time.monotonic() + wall_limit
    while time.monotonic() < deadline and any(p.poll() is None for *_, p in procs):
        time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
    for *_, p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for name, seed, log, p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        log.close()
        if p.returncode not in (0, -signal.SIGTERM):
            print(f"screen: {name} seed {seed} exited with {p.returncode}; see {log.name}", flush=True)
        # A run stopped by the limit leaves a partial curve file; the log already holds the curve.
        (out / f"learning_{example}_screen_{name}.seed{seed}.partial.json").unlink(missing_ok=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("example", help="tuned example name (file stem in tuned_examples/)")
    p.add_argument(
        "--arm",
        action="append",
        default=[],
        metavar="NAME[:KEY=VALUE,...]",
        help="one variant (repeatable); an arm with no settings is the tuned example itself",
    )
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument(
        "--common",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for every arm (e.g. num_gpus_per_learner=1)",
    )
    p.add_argument("--wall-limit", type=float, default=600.0, help="seconds before every run is stopped")
    p.add_argument("--max-steps", type=int, default=None, help="env-step budget of each run (default: the example's)")
    p.add_argument("--eval-every", type=int, default=25_000)
    p.add_argument("--eval-episodes", type=int, default=32)
    p.add_argument("--window", type=int, default=100_000, help="env steps per column of the table")
    p.add_argument("--log-dir", type=Path, default=None, help="where the runs' logs go (default: a results folder)")
    p.add_argument(
        "--from-logs",
        type=Path,
        default=None,
        metavar="DIR",
        help="skip training: build the table from <arm>.seed<N>.log files in DIR",
    )
    p.add_argument("--tag", default="", help="suffix of the JSON file")
    add_out_argument(p)
    args = p.parse_args()
    out = out_dir(args.out)
    suffix = f"_{args.tag}" if args.tag else ""
    if args.from_logs is not None:
        log_dir = args.from_logs
        if not log_dir.is_dir():
            raise SystemExit(f"--from-logs: {log_dir} is not a directory")
    else:
        if not args.arm:
            raise SystemExit("give at least one --arm (e.g. --arm base --arm lam08:td_lambda=0.8)")
        arms = [parse_arm(a) for a in args.arm]
        if len({n for n, _ in arms}) != len(arms):
            raise SystemExit("--arm names must differ")
        if any("=" not in item for item in args.common):
            raise SystemExit(f"--common expects KEY=VALUE, got {args.common!r}")
        log_dir = args.log_dir or out / f"screen_{args.example}{suffix}_logs"
        launch(
            args.example,
            arms,
            args.seeds,
            args.common,
            log_dir,
            out,
            args.wall_limit,
            args.eval_every,
            args.eval_episodes,
            args.max_steps,
        )
    manifest_path = log_dir / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    summary = summarize(read_logs(log_dir), args.window)
    for arm, a in summary.items():
        a["settings"] = manifest.get("arms", {}).get(arm)
    print_table(summary, args.window)
    path = out / f"screen_{args.example}{suffix}.json"
    path.write_text(
        json.dumps({"example": args.example, "window": args.window, "run": manifest, "arms": summary}, indent=2)
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
