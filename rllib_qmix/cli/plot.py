"""Learning curves of a Tune/RLlib run as a PNG (win rate, return, loss, epsilon).

The win-rate and return panels show the exploring policy (``env_runners/...``, what training
samples) and the greedy evaluations (``evaluation/env_runners/...``, what tuned examples stop
on and results tables report) side by side.
"""

from __future__ import annotations

import json
import math
import os
from typing import Optional

from rllib_qmix.cli.experiment import CLIError
from rllib_qmix.cli.results import read_results

STEP_KEYS = ("num_env_steps_sampled_lifetime", "env_runners/num_env_steps_sampled_lifetime")
#: (panel title, [(curve label, metric keys in order of preference)]); '*' matches a prefix.
PANELS: list[tuple[str, list[tuple[str, tuple[str, ...]]]]] = [
    (
        "win rate",
        [
            ("exploring", ("env_runners/battle_won_mean",)),
            ("greedy evaluation", ("evaluation/env_runners/battle_won_mean",)),
        ],
    ),
    (
        "episode return",
        [
            ("exploring", ("env_runners/episode_return_mean",)),
            ("greedy evaluation", ("evaluation/env_runners/episode_return_mean",)),
        ],
    ),
    ("loss", [("", ("learners/default_policy/td_loss", "*/total_loss"))]),
    ("epsilon", [("", ("env_runners/epsilon",))]),
]
EVAL_PREFIX = "evaluation/"


def _to_float(v: object) -> Optional[float]:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def find_trial_dirs(run_dir: str) -> list[str]:
    """The trial dirs of an experiment dir, or [run_dir] if it is a trial dir."""

    def is_trial(p: str) -> bool:
        return any(os.path.isfile(os.path.join(p, n)) for n in ("result.json", "progress.csv"))

    if not os.path.isdir(run_dir):
        raise CLIError(f"run directory not found: {run_dir}")
    if is_trial(run_dir):
        return [run_dir]
    trials = sorted(os.path.join(run_dir, d) for d in os.listdir(run_dir) if is_trial(os.path.join(run_dir, d)))
    if not trials:
        raise CLIError(f"no results (result.json or progress.csv) in {run_dir} or its subdirectories")
    return trials


def evaluation_interval(trial_dir: str) -> Optional[int]:
    """The trial's ``evaluation_interval`` (from its params.json), if it set one."""
    try:
        with open(os.path.join(trial_dir, "params.json")) as f:
            value = json.load(f).get("evaluation_interval")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _series(
    rows: list[dict[str, object]], keys: tuple[str, ...], eval_interval: Optional[int] = None
) -> tuple[str, list, list]:
    """(metric name, x, y) for the first of `keys` that was logged; '*' matches a prefix.

    RLlib repeats an evaluation's metrics in the next iteration's result: with the trial's
    ``eval_interval`` known, an evaluation metric is taken from the evaluating iterations only.
    """
    for key in keys:
        names = [key]
        if key.startswith("*/"):
            suffix = key[1:]
            names = sorted({k for r in rows for k in r if k.endswith(suffix)})
        for name in names:
            xs, ys = [], []
            for i, r in enumerate(rows):
                y = _to_float(r.get(name))
                if y is None:
                    continue
                if name.startswith(EVAL_PREFIX) and eval_interval:
                    it = _to_float(r.get("training_iteration"))
                    if it is not None and int(it) % eval_interval:
                        continue
                x = next((_to_float(r.get(s)) for s in STEP_KEYS if _to_float(r.get(s)) is not None), None)
                xs.append(x if x is not None else float(i + 1))
                ys.append(y)
            if ys:
                return name, xs, ys
    return "", [], []


def curves_of(rows: list[dict[str, object]], eval_interval: Optional[int] = None) -> dict[str, list[tuple]]:
    """Per panel title, the curves of one trial's results: ``(label, metric, x, y)`` for each
    curve that was logged (exploring and greedy for win rate and return)."""
    out: dict[str, list[tuple]] = {}
    for title, curves in PANELS:
        out[title] = []
        for label, keys in curves:
            name, xs, ys = _series(rows, keys, eval_interval)
            if ys:
                out[title].append((label, name, xs, ys))
    return out


def plot_run(run_dir: str, out: Optional[str] = None) -> str:
    """Writes the learning-curves PNG of `run_dir` and returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run_dir = os.path.abspath(os.path.expanduser(run_dir))
    trials = find_trial_dirs(run_dir)
    data = {os.path.basename(t): (read_results(t), evaluation_interval(t)) for t in trials}
    if not any(rows for rows, _ in data.values()):
        raise CLIError(f"the results in {run_dir} are empty")
    out = out or os.path.join(run_dir, "learning_curves.png")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    panels = [curves_of(rows, interval) for rows, interval in data.values()]
    for ax, (title, _) in zip(axes.flat, PANELS):
        names: list[str] = []
        for t, trial in enumerate(data):
            for label, name, xs, ys in panels[t][title]:
                greedy = name.startswith(EVAL_PREFIX)
                parts = ([trial] if len(data) > 1 else []) + ([label] if label else [])
                ax.plot(
                    xs,
                    ys,
                    color=colors[t % len(colors)],
                    ls="--" if greedy else "-",
                    marker="o" if greedy else None,
                    ms=3,
                    label=", ".join(parts) or None,
                )
                names += [name] if name not in names else []
        ax.set_title(f"{title} ({names[0]})" if len(names) == 1 else title, fontsize=10)
        ax.set_xlabel("env steps")
        ax.grid(alpha=0.3)
        if not names:
            ax.text(0.5, 0.5, "not logged", ha="center", va="center", transform=ax.transAxes, color="gray", fontsize=14)
        elif title == "win rate":
            ax.set_ylim(-0.02, 1.02)
        if any(not line.get_label().startswith("_") for line in ax.get_lines()):
            ax.legend(fontsize=7)
    fig.suptitle(os.path.basename(run_dir.rstrip("/")))
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)) or ".", exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
