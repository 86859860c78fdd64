r"""Learning benchmark: runs tuned examples over seeds and reports greedy win rates.

For each tuned example and seed: trains with the example's config (the same YAML the CLI
runs), evaluates greedily on ``--eval-episodes`` battles every ``--eval-every`` env steps,
and stops at the example's env-step budget (or ``--max-steps``). Prints a table (median and
range over seeds of the final and best evaluation win rate / return, env steps and minutes
to reach the target), and writes learning_<example>[_<tag>].json and a learning-curve PNG
per example into results/ (git-ignored; ``--out DIR`` to choose).

    python benchmarks/learning.py smac --seeds 0 1 2          # 3m: target 95% within 200k steps
    python benchmarks/learning.py smac_8m smac_2s3z --seeds 0
    python benchmarks/learning.py smac --set target_update_interval=50 --tag tui50   # a variant
    python benchmarks/learning.py smac_8m --seeds 1 --merge --stop-at-target  # add a seed to the file

``--merge`` keeps the runs of other seeds already in the output file (so seeds can run in
separate processes, side by side; each locks the file while it merges); ``--stop-at-target``
ends a run at its first evaluation that reaches the example's target (steps-to-target is then
measured, the final win rate is not).

Long runs (2M steps on 5m_vs_6m or MMM2 take hours on 2 cores) can span several sessions:
``--checkpoint`` saves the whole algorithm, replay buffer included, after every evaluation
with the curve so far (under results/checkpoints/), and a later ``--resume``
with the same arguments (``--max-steps`` may grow) continues each seed from its last
evaluation exactly where it stopped. Minutes then count training time only, summed over
the sessions; the run records the env steps at which it was resumed. A finished run's save
is deleted unless ``--keep-checkpoint`` was given; with it, ``--resume --max-steps N``
extends a finished run past its budget.

    python benchmarks/learning.py smac_5m_vs_6m --seeds 0 --merge --eval-every 50000 --checkpoint
    python benchmarks/learning.py smac_5m_vs_6m --seeds 0 --merge --eval-every 50000 --checkpoint --resume

``--branch-from DIR`` starts from a save that another run kept (``--keep-checkpoint``) and
trains on with changed settings (``--set``, results under ``--tag``): the branch keeps the
saved curve up to the branch point and records where it came from. Starting several branches
from one state tests which change moves a run that is stuck there (a seed's run is
reproducible on one machine with 0 env runners, so the unchanged branch repeats the original).
Settings the learner or the env runners read while training take effect at the branch point
(``td_lambda``, ``gamma``, ``epsilon_*``, ``target_update_interval``, ``episode_batch_size``;
``lr`` from the first update on); the network sizes must stay those of the save. A save
records the example's settings, and ``--resume`` and ``--branch-from`` run those (plus
``--set``), not the YAML as it is now.

    python benchmarks/learning.py smac_5m_vs_6m --seeds 1 --max-steps 500000 --eval-every 50000 \
        --keep-checkpoint --tag stuck
    python benchmarks/learning.py smac_5m_vs_6m --set epsilon_finish=0.2 --tag stuck_eps02 \
        --branch-from results/checkpoints/learning_smac_5m_vs_6m_stuck.seed1 --max-steps 800000 --eval-every 50000

With ``RLLIB_QMIX_MAX_ITERATIONS=N`` set (a smoke run: CI runs the docs' commands so), each run
is cut after N training iterations of this process, as if its session ended there: it is
evaluated, its partial curve (and with ``--checkpoint`` its save) stays for ``--resume``, and no
final results are written.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX (Windows): no lock; run the seeds of one file in one process there
    fcntl = None

from _common import RESULTS, ROOT, add_out_argument, out_dir

ENV_VAR = "RLLIB_QMIX_MAX_ITERATIONS"  # rllib_qmix.budget.ENV_VAR (a smoke-run cap)
CHECKPOINTS = RESULTS / "checkpoints"  # --checkpoint saves (git-ignored, like all of results/)
#: Learning targets: (greedy win rate, within env steps); None = report only.
TARGETS = {
    "smac": (0.95, 200_000),
    "smac_8m": (0.95, 1_000_000),
    "smac_2s3z": (0.90, 1_000_000),
    # SMACv2: upstream's QMIX on the real game at ~10M steps, to reach within 2M
    "smacv2_protoss_5v5": (0.71, 2_000_000),
    "smacv2_terran_5v5": (0.57, 2_000_000),
    "smacv2_zerg_5v5": (0.41, 2_000_000),
    "smacv2_protoss_10v10": (0.75, 2_000_000),
}


def settings_that_ran(param_space: dict, overrides: dict, config) -> dict:
    """The YAML's config section plus the value of every learning option that neither it nor
    ``overrides`` set (``QMIXConfig``'s defaults), so that a resume or a branch runs the same
    settings after a default changes."""
    from rllib_qmix.algorithm.presets import PRESETS

    defaulted = [key for key in PRESETS["pymarl"] if key not in param_space and key not in overrides]
    return {**{key: getattr(config, key) for key in defaulted}, **param_space}


def with_former_defaults(saved: dict) -> dict:
    """A saved run from before ``settings_that_ran`` (2026-12-03) recorded only its
    YAML's keys; ``QMIXConfig``'s defaults were then pymarl's, so those fill in the options it
    did not set. A later save sets every learning option, which this leaves as it is."""
    from rllib_qmix.algorithm.presets import PRESETS

    settings, overrides = saved["example_settings"], saved.get("overrides", {})
    unset = {key: value for key, value in PRESETS["pymarl"].items() if key not in settings and key not in overrides}
    return {**saved, "example_settings": {**unset, **settings}}


def parse_overrides(items: list[str]) -> dict:
    """``["lr=0.0005", "double_q=false"]`` -> ``{"lr": 0.0005, "double_q": False}`` (values as YAML)."""
    import yaml

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set expects KEY=VALUE, got {item!r}")
        out[key.strip()] = yaml.safe_load(value)
    return out


def example_config(
    example: str, seed: int, eval_episodes: int, overrides: dict | None = None, settings: dict | None = None
):
    """The tuned example's config (``overrides`` replacing keys), seeded, evaluating on demand.
    ``settings`` replaces the YAML's config section (a saved run's, so a resume or a branch runs
    what the save ran even when the YAML has changed since).

    Returns:
        ``(config, spec)``: the AlgorithmConfig and the parsed experiment (for its stop), whose
        ``param_space`` is the config section that ran (``settings`` where given).
    """
    from rllib_qmix.cli.experiment import build_config, load_experiments

    spec = load_experiments(str(ROOT / "tuned_examples" / f"{example}.yaml"))[0]
    # The CLI confirms a stop on a greedy target with a longer evaluation (confirm_targets);
    # this benchmark measures its own curve of greedy evaluations and stops on none of them.
    spec = dataclasses.replace(spec, param_space={k: v for k, v in spec.param_space.items() if k != "confirm_targets"})
    if settings is not None:
        spec = dataclasses.replace(spec, param_space=settings)
    config = build_config(spec.algo_cls, {**spec.param_space, **(overrides or {})}, spec.algo_name)
    config = config.copy(copy_frozen=False).debugging(seed=seed)
    config.evaluation(evaluation_interval=None, evaluation_duration=eval_episodes, evaluation_duration_unit="episodes")
    return config, spec


def nonfinite_updates(result: dict) -> int:
    """Learner updates skipped so far for a non-finite value, over all modules (0 before any update)."""
    counts = [m.get("num_nonfinite_updates") for m in result.get("learners", {}).values() if isinstance(m, dict)]
    return sum(int(c) for c in counts if c is not None and c == c)  # c == c: not NaN


def mean_or_none(value: float | None) -> float | None:
    """An episode mean as recorded: None where no episode ended in the metrics window (RLlib
    reports NaN then, which is not JSON)."""
    return None if value is None or value != value else float(value)


def run_one(
    example: str,
    seed: int,
    max_steps: int | None,
    eval_every: int,
    eval_episodes: int,
    overrides: dict | None = None,
    on_point: Callable[[dict], None] | None = None,
    stop_at_target: bool = False,
    checkpoint: Path | None = None,
    resume_from: dict | None = None,
    restore_dir: Path | None = None,
) -> dict:
    """Trains one example with one seed (config keys in ``overrides`` replaced); returns its curve.

    ``on_point`` gets the run so far after every evaluation (to save partial results). With
    ``stop_at_target`` the run ends at the first evaluation that reaches ``TARGETS[example]``.
    With ``checkpoint`` (a directory) the algorithm, replay buffer included, is saved there after
    every evaluation; ``resume_from`` (the partial run saved with it) continues from that save.
    ``restore_dir`` (default: ``checkpoint``) is where that save is read from: another run's
    save for a branch, whose ``resume_from`` then carries a ``branched_from`` record. A saved run
    records the example's settings; continuing it uses those, not the YAML as it is now.
    """
    target = TARGETS.get(example) if stop_at_target else None
    stopped_at_target = False
    saved_settings = resume_from.get("example_settings") if resume_from is not None else None
    config, spec = example_config(example, seed, eval_episodes, overrides, saved_settings)
    settings = settings_that_ran(spec.param_space, overrides or {}, config)
    if checkpoint is not None:
        # Only what a checkpoint holds changes, not the algorithm: an exact resume needs the replay.
        config.training(store_replay_buffer_in_checkpoints=True)
    budget = max_steps or int(spec.stop.get("num_env_steps_sampled_lifetime", 200_000))
    cap = iteration_cap()
    algo = config.build_algo()
    curve, steps, minutes_before, resumed_at, branched_from = [], 0, 0.0, [], None
    if resume_from is not None:
        source = restore_dir or checkpoint
        if source is None or not source.is_dir():
            raise SystemExit(f"--resume: no checkpoint at {source} for seed {seed}; run without --resume")
        algo.restore_from_path(str(source))
        branched_from = resume_from.get("branched_from")
        curve, resumed_at = list(resume_from["curve"]), list(resume_from.get("resumed_at", []))
        steps, minutes_before = int(curve[-1]["env_steps"]), float(curve[-1]["minutes"])
        restored = int(algo.metrics.peek(("env_runners", "num_env_steps_sampled_lifetime"), default=0))
        if restored != steps:
            raise SystemExit(f"--resume: checkpoint {source} is at {restored} env steps, its curve at {steps}")
        resumed_at.append(steps)
        print(f"[{example} seed {seed}] resumed at {steps} env steps ({minutes_before:.1f} min so far)", flush=True)
    start, next_eval = time.perf_counter(), (steps + eval_every if curve else 0)

    def record(finished: bool) -> dict:
        return {
            "example": example,
            "seed": seed,
            "budget": budget,
            "overrides": overrides or {},
            "curve": curve,
            "finished": finished,
            "stopped_at_target": stopped_at_target,
            "resumed_at": resumed_at,
            "example_settings": settings,
            **({"branched_from": branched_from} if branched_from else {}),
        }

    try:
        # A run saved at its last evaluation (budget or target reached) has nothing left to train.
        stopped_at_target = bool(curve) and target is not None and reached(curve[-1], target[0])
        done = stopped_at_target or (bool(curve) and steps >= budget)
        iterations, cut = 0, False
        while not done:
            result = algo.train()
            iterations += 1
            prev, steps = steps, int(result["env_runners"].get("num_env_steps_sampled_lifetime", 0))
            # Stop at the last iteration that stays within the budget (iterations are ~128 steps).
            last = steps >= budget or steps + (steps - prev) > budget
            # RLLIB_QMIX_MAX_ITERATIONS: this process ends the run here, as if its session ended.
            cut = not last and cap is not None and iterations >= cap
            if steps >= next_eval or last or cut:
                ev = algo.evaluate()["env_runners"]
                point = {
                    "env_steps": steps,
                    "minutes": minutes_before + (time.perf_counter() - start) / 60,
                    "eval_win_rate": ev.get("battle_won_mean"),
                    "eval_return": ev.get("episode_return_mean"),
                    "train_win_rate": mean_or_none(result["env_runners"].get("battle_won_mean")),
                    "train_return": mean_or_none(result["env_runners"].get("episode_return_mean")),
                    "epsilon": result["env_runners"].get("epsilon"),
                    # Learner updates skipped so far for a non-finite loss, Q or gradient.
                    "nonfinite_updates": nonfinite_updates(result),
                }
                curve.append(point)
                stopped_at_target = target is not None and reached(point, target[0])
                run = record(False)
                if checkpoint is not None:
                    save_checkpoint(algo, checkpoint, run)
                if on_point is not None:
                    on_point(run)
                print(
                    f"[{example} seed {seed}] "
                    + "  ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in point.items()),
                    flush=True,
                )
                next_eval = steps + eval_every
            if last or stopped_at_target:
                break
            if cut:
                then = ", --resume continues it" if checkpoint else ""
                print(
                    f"[{example} seed {seed}] cut after {iterations} iterations ({ENV_VAR}={cap}) at {steps} env "
                    f"steps: its curve so far is in the partial file{then}",
                    flush=True,
                )
                return record(False)
    finally:
        algo.stop()
    return record(True)


RUN_FILE = "learning_run.json"


def _previous(path: Path) -> Path:
    """Where ``save_checkpoint`` keeps the previous save while it swaps in the new one."""
    return path.with_name(path.name + ".old")


def save_checkpoint(algo, path: Path, run: dict) -> None:
    """Saves ``algo`` and its curve so far (``run``) to ``path``, replacing an older save only
    once the new one is complete, so a run killed at any moment leaves a matching pair
    (``load_saved_run`` recovers one killed between the two renames)."""
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    algo.save_to_path(str(tmp))
    (tmp / RUN_FILE).write_text(json.dumps(run, indent=2, default=float))
    if path.exists():
        path.rename(_previous(path))
    tmp.rename(path)
    shutil.rmtree(_previous(path), ignore_errors=True)


def load_saved_run(path: Path, seed: int) -> dict:
    """The curve saved with the checkpoint at ``path``, for ``run_one(resume_from=...)``."""
    if not path.exists() and _previous(path).exists():  # killed between the two renames
        _previous(path).rename(path)
    saved = path / RUN_FILE
    if not saved.exists():
        raise SystemExit(f"--resume: no saved run {saved}; start seed {seed} with --checkpoint, not --resume")
    return with_former_defaults(json.loads(saved.read_text()))


#: Settings a branch cannot change: they shape the saved networks, optimizer, replay or env.
FIXED_IN_A_BRANCH = (
    "env_config",
    "mixer",
    "mixing_embed_dim",
    "hypernet_layers",
    "hypernet_embed",
    "agent_hidden_dim",
    "obs_agent_id",
    "obs_last_action",
    "optimizer",
    "replay_capacity",
)


def branch_start(
    source: Path, seeds: list[int] | None, overrides: dict, tag: str | None, max_steps: int | None
) -> dict:
    """The saved run at ``source`` (a kept ``--checkpoint`` save), prepared as the start of a
    branch: its curve, its overrides with ``overrides`` on top (the branch's settings), and a
    ``branched_from`` record of where it came from."""
    if not tag:
        raise SystemExit("--branch-from: give --tag NAME so the branch does not overwrite the run it starts from")
    if not (source / RUN_FILE).exists():
        raise SystemExit(
            f"--branch-from: {source} is not a save of learning.py (no {RUN_FILE}); keep one with --keep-checkpoint"
        )
    saved = with_former_defaults(json.loads((source / RUN_FILE).read_text()))
    before = saved.get("overrides", {})
    ran = {**saved["example_settings"], **before}  # what the save ran
    fixed = sorted(k for k in overrides if k in FIXED_IN_A_BRANCH and overrides[k] != ran.get(k, object()))
    if fixed:
        raise SystemExit(
            f"--branch-from: {', '.join(fixed)} cannot change in a branch (the save's networks, "
            "optimizer, replay and env are restored as they are); start a new run for that"
        )
    if seeds is not None and seeds != [saved["seed"]]:
        raise SystemExit(
            f"--branch-from: {source} is seed {saved['seed']}'s run; drop --seeds or pass --seeds {saved['seed']}"
        )
    steps = int(saved["curve"][-1]["env_steps"])
    if max_steps is not None and max_steps <= steps:
        raise SystemExit(f"--branch-from: the save is at {steps:,} env steps; give a larger --max-steps")
    record = {"checkpoint": str(source), "env_steps": steps, "overrides": before}
    if saved.get("branched_from"):  # a branch of a branch: keep the chain
        record["source_branched_from"] = saved["branched_from"]
    return {**saved, "overrides": {**before, **overrides}, "resumed_at": [], "branched_from": record}


def reached(point: dict, win_rate: float) -> bool:
    """Whether an evaluation point's greedy win rate reached ``win_rate`` (a JSON-safe bool)."""
    return bool(point.get("eval_win_rate") is not None and float(point["eval_win_rate"]) >= win_rate)


def merge_runs(old: list[dict], new: list[dict], overrides: dict) -> list[dict]:
    """``old`` runs of seeds not in ``new``, then ``new``, sorted by seed; refuses mixed settings."""
    if any(r.get("overrides", {}) != overrides for r in old):
        raise SystemExit("--merge: the output file holds runs with other --set overrides; use another --tag")
    seeds = {r["seed"] for r in new}
    return sorted([r for r in old if r["seed"] not in seeds] + new, key=lambda r: r["seed"])


def write_json(path: Path, obj: dict) -> None:
    """Writes ``obj`` as JSON to ``path`` in one step (a temporary file, then a rename): a run cut
    while writing leaves the previous file whole, never half of a new one."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(obj, indent=2, default=float))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Holds an exclusive lock on ``<path>.lock`` for the block: processes that merge seeds into
    one results file take turns reading, merging and writing it, so no seed is lost."""
    with open(path.with_name(path.name + ".lock"), "w") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def write_results(final: Path, example: str, runs: list[dict], overrides: dict, merge: bool) -> tuple[list[dict], dict]:
    """Writes ``{"summary", "runs"}`` to ``final`` and returns both. With ``merge``
    the runs of other seeds already in the file are kept (read under the lock, at the end, since
    another process may have added seeds meanwhile); the file is replaced in one step."""
    with locked(final):
        if merge and final.exists():
            runs = merge_runs(json.loads(final.read_text())["runs"], runs, overrides)
        row = summarize(example, runs)
        row["overrides"] = overrides
        write_json(final, {"summary": row, "runs": runs})
    return runs, row


def summarize(example: str, runs: list[dict]) -> dict:
    """Median and range over seeds; steps/minutes to the target where one exists."""
    key = "eval_win_rate" if runs[0]["curve"][-1]["eval_win_rate"] is not None else "eval_return"
    finals = [r["curve"][-1][key] for r in runs]
    bests = [max(p[key] for p in r["curve"]) for r in runs]
    row = {
        "example": example,
        "metric": key,
        "seeds": len(runs),
        "budget": runs[0]["budget"],
        "final_median": statistics.median(finals),
        "final_range": [min(finals), max(finals)],
        "best_median": statistics.median(bests),
        "best_range": [min(bests), max(bests)],
        "minutes_median": statistics.median(r["curve"][-1]["minutes"] for r in runs),
        # Runs ended by --stop-at-target: their "final" is the evaluation that hit the target.
        "stopped_at_target": [bool(r.get("stopped_at_target")) for r in runs],
    }
    target = TARGETS.get(example)
    if target is not None:
        hit = [next((p for p in r["curve"] if reached(p, target[0])), None) for r in runs]
        row["target"] = f">= {target[0]:.0%} within {target[1]:,} steps"
        row["seeds_reaching_target"] = sum(h is not None and h["env_steps"] <= target[1] for h in hit)
        row["steps_to_target"] = [h["env_steps"] if h else None for h in hit]
        row["minutes_to_target"] = [round(h["minutes"], 1) if h else None for h in hit]
    return row


def plot(example: str, runs: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    key = "eval_win_rate" if runs[0]["curve"][-1]["eval_win_rate"] is not None else "eval_return"
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for r in runs:
        ax.plot([p["env_steps"] for p in r["curve"]], [p[key] for p in r["curve"]], label=f"seed {r['seed']}")
    if example in TARGETS:
        ax.axhline(TARGETS[example][0], ls="--", c="gray", lw=1)
        ax.axvline(TARGETS[example][1], ls=":", c="gray", lw=1)
    ax.set_xlabel("env steps")
    ax.set_ylabel("greedy " + key.replace("eval_", "").replace("_", " "))
    ax.set_title(f"QMIX, {example} (embedded simulator)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def iteration_cap() -> int | None:
    """``RLLIB_QMIX_MAX_ITERATIONS``: the training iterations a run may take in this process."""
    from rllib_qmix import budget

    try:
        return budget.max_iterations()
    except ValueError as e:
        raise SystemExit(str(e)) from None


def _init_ray() -> None:
    import ray

    ray.init(address="local", include_dashboard=False, log_to_driver=False)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("examples", nargs="+", help="tuned example names (file stems in tuned_examples/)")
    p.add_argument("--seeds", type=int, nargs="+", default=None, help="default: 0 1 2 (with --branch-from: its seed)")
    p.add_argument("--max-steps", type=int, default=None, help="override the example's env-step budget")
    p.add_argument("--eval-every", type=int, default=20_000)
    p.add_argument("--eval-episodes", type=int, default=32)
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key of the example (repeatable); results go to learning_<example>_<tag>",
    )
    p.add_argument("--tag", default=None, help="suffix of the output files (required with --set)")
    p.add_argument(
        "--merge",
        action="store_true",
        help="keep the runs of other seeds already in the output JSON (same settings only)",
    )
    p.add_argument(
        "--stop-at-target",
        action="store_true",
        help="end each run at its first evaluation that reaches the example's target",
    )
    p.add_argument(
        "--checkpoint",
        action="store_true",
        help="save the algorithm (replay included) after every evaluation, for --resume",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue each seed from its checkpoint and partial curve (implies --checkpoint)",
    )
    p.add_argument(
        "--keep-checkpoint",
        action="store_true",
        help="keep each seed's last save when its run finishes, so that --resume with a larger "
        "--max-steps can extend it (implies --checkpoint; an MMM2 save at 2M is about 6 GB)",
    )
    p.add_argument(
        "--branch-from",
        type=Path,
        default=None,
        metavar="DIR",
        help="start from this kept save of one seed's run and train on with the --set changes "
        "(needs --tag; with --checkpoint the branch saves under its own tag, for --resume)",
    )
    add_out_argument(p)
    args = p.parse_args()
    args.checkpoint = args.checkpoint or args.resume or args.keep_checkpoint
    if args.stop_at_target:
        missing = [e for e in args.examples if e not in TARGETS]
        if missing:
            raise SystemExit(f"--stop-at-target: no target for {', '.join(missing)} (targets: {', '.join(TARGETS)})")
    overrides = parse_overrides(args.set)
    if overrides and not args.tag:
        raise SystemExit("--set changes the tuned example: give --tag NAME so the results do not overwrite its own")
    suffix = f"_{args.tag}" if args.tag else ""
    branch = None
    if args.branch_from is not None:
        args.branch_from = args.branch_from.resolve()  # RLlib restores from absolute paths or URIs only
        if args.resume:
            raise SystemExit(
                "--branch-from starts a new run from another run's save; to continue a branch, "
                "use --resume with its --tag and --set instead"
            )
        if len(args.examples) != 1:
            raise SystemExit("--branch-from: give the one example the save belongs to")
        branch = branch_start(args.branch_from, args.seeds, overrides, args.tag, args.max_steps)
        if branch["example"] != args.examples[0]:
            raise SystemExit(
                f"--branch-from: {args.branch_from} is a run of {branch['example']}, not {args.examples[0]}"
            )
        args.seeds, overrides = [branch["seed"]], branch["overrides"]
        own = CHECKPOINTS / f"learning_{args.examples[0]}{suffix}.seed{branch['seed']}"
        if own.resolve() == args.branch_from:
            raise SystemExit(
                f"--branch-from: --tag {args.tag} is the tag of the run it starts from; "
                "give the branch its own tag, so that the save and its results stay as they are"
            )
    args.seeds = args.seeds if args.seeds is not None else [0, 1, 2]
    iteration_cap()  # a bad RLLIB_QMIX_MAX_ITERATIONS fails before Ray starts
    _init_ray()
    out = out_dir(args.out if args.out is not None else RESULTS)
    rows = []
    for example in args.examples:
        runs: list[dict] = []
        stem = f"learning_{example}{suffix}"

        def partial(seed: int, stem: str = stem) -> Path:  # a cut-short run still leaves its curve (a file per seed)
            return out / f"{stem}.seed{seed}.partial.json"

        def save_partial(current: dict, partial=partial) -> None:
            write_json(partial(current["seed"]), {"runs": [current]})

        def checkpoint_dir(seed: int, stem: str = stem) -> Path | None:
            return CHECKPOINTS / f"{stem}.seed{seed}" if args.checkpoint else None

        for seed in args.seeds:
            ckpt, resume_from = checkpoint_dir(seed), branch
            if args.resume:
                resume_from = load_saved_run(ckpt, seed)
                if resume_from.get("branched_from"):  # a branch: its --set changes came on top of its source's
                    overrides = {**resume_from["branched_from"]["overrides"], **overrides}
                if resume_from.get("overrides", {}) != overrides:  # --max-steps may change: extend a run
                    raise SystemExit(f"--resume: {ckpt} was run with other --set overrides; use the same")
            runs.append(
                run_one(
                    example,
                    seed,
                    args.max_steps,
                    args.eval_every,
                    args.eval_episodes,
                    overrides,
                    save_partial,
                    args.stop_at_target,
                    ckpt,
                    resume_from,
                    restore_dir=args.branch_from,
                )
            )
        if not all(r["finished"] for r in runs):  # cut short: partial files and saves stay for --resume
            continue
        final = out / f"learning_{example}{suffix}.json"
        runs, row = write_results(final, example, runs, overrides, args.merge)
        rows.append(row)
        for seed in args.seeds:
            partial(seed).unlink(missing_ok=True)
            if checkpoint_dir(seed) is not None and not args.keep_checkpoint:
                shutil.rmtree(checkpoint_dir(seed), ignore_errors=True)
        plot(example, runs, out / f"learning_{example}{suffix}.png")
    print(
        "\n"
        + "  ".join(
            f"{c:>22}"
            for c in ["example", "metric", "final median [range]", "best median [range]", "min", "target hit"]
        )
    )
    for r in rows:
        print(
            "  ".join(
                f"{c:>22}"
                for c in [
                    r["example"],
                    r["metric"],
                    f"{r['final_median']:.3g} [{r['final_range'][0]:.3g}, {r['final_range'][1]:.3g}]",
                    f"{r['best_median']:.3g} [{r['best_range'][0]:.3g}, {r['best_range'][1]:.3g}]",
                    f"{r['minutes_median']:.1f}",
                    f"{r.get('seeds_reaching_target', '-')}/{r['seeds']}" if "target" in r else "-",
                ]
            )
        )


if __name__ == "__main__":
    main()
