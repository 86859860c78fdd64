"""The ``rllib`` console script: train from YAML, evaluate checkpoints, plot runs.

Ray 2.60 ships no ``rllib`` command; this one accepts the classic RLlib
experiment YAML and works for any algorithm in RLlib's registry and for QMIX.
"""

from __future__ import annotations

import argparse
import logging
import os
import pickle
import re
import sys
from typing import Any, NoReturn, Optional

from rllib_qmix import budget
from rllib_qmix.algorithm.checkpoints import MANIFEST_FILE, is_complete_checkpoint
from rllib_qmix.cli.experiment import CLIError, init_ray

TRAIN_USAGE = """\
rllib train file PATH.yaml [--stop JSON] [--config JSON] [--ray-address ADDR]
                                  [--storage-path DIR] [--resume] [-v]
       rllib train --algo ALGO --env ENV [--name NAME] [--stop JSON] [--config JSON]
                                  [--ray-address ADDR] [--storage-path DIR] [--resume] [-v]"""

TRAIN_EPILOG = """\
examples:
  rllib train file tuned_examples/smac.yaml             (results: ~/ray_results/qmix-smac-3m)
  rllib train file tuned_examples/smac.yaml --stop '{"training_iteration": 10}'
  rllib train file tuned_examples/smac.yaml --stop '{"training_iteration": 20}' --resume
  rllib train file tuned_examples/smac_cluster.yaml --ray-address auto --storage-path ~/runs
  rllib train --algo QMIX --env smac --config '{"env_config": {"map_name": "3m"}}' \\
      --stop '{"env_runners/battle_won_mean": 0.95}'    (results: ~/ray_results/QMIX_smac)
  rllib train --algo PPO --env CartPole-v1 --config '{"num_env_runners": 1}' \\
      --stop '{"training_iteration": 5}'

The YAML maps experiment names to {run (or algo), env, env_config, stop, config,
checkpoint_freq, checkpoint_at_end, num_samples, storage_path}. `run` may be an
RLlib algorithm (PPO, DQN, ...), QMIX, or an import path package.module:Class.
Stop keys may be nested result paths, e.g. env_runners/episode_return_mean.
Ctrl-C stops after the current iteration and saves a checkpoint. --resume continues
every trial of the experiment (stopped by Ctrl-C, a crash or its stop) from its last
checkpoint, with the config it started with, up to this command's stop: the YAML's,
with --stop's keys over them.
Results go to STORAGE_PATH/NAME (default ~/ray_results); view them with
`tensorboard --logdir STORAGE_PATH/NAME` or `rllib plot STORAGE_PATH/NAME`.
"""

FILE_EPILOG = """\
example:
  rllib train file tuned_examples/smac.yaml --stop '{"num_env_steps_sampled_lifetime": 50000}'
"""

EVALUATE_EPILOG = """\
examples, after `rllib train file tuned_examples/smac.yaml`:
  rllib evaluate ~/ray_results/qmix-smac-3m
  rllib evaluate ~/ray_results/qmix-smac-3m --episodes 32 --render battle.gif
  rllib evaluate CHECKPOINT_DIR --explore

CHECKPOINT may be a checkpoint directory, a run's (Tune trial's) directory, or an
experiment directory with one run (its latest checkpoint is used; an experiment
with several runs lists them). --render draws battles of the smac and smacv2 envs.
"""

PLOT_EPILOG = """\
examples, after `rllib train file tuned_examples/smac.yaml`:
  rllib plot ~/ray_results/qmix-smac-3m
  rllib plot ~/ray_results/qmix-smac-3m -o curves.png

Panels: win rate, episode return, loss and epsilon against env steps; win rate and
return of the exploring policy (training) and of greedy evaluations. Metrics a run
did not log are marked "not logged".
"""


def _add_train_options(p: argparse.ArgumentParser, suppress: bool) -> None:
    """Options shared by ``train`` and ``train file`` (SUPPRESS avoids clobbering)."""
    d = (lambda v: argparse.SUPPRESS) if suppress else (lambda v: v)
    p.add_argument(
        "--stop",
        default=d(None),
        metavar="JSON",
        help="stop criteria, e.g. '{\"training_iteration\": 10}' (merged over the YAML's)",
    )
    p.add_argument(
        "--config", default=d(None), metavar="JSON", help="algorithm config as JSON (merged over the YAML's)"
    )
    p.add_argument(
        "--ray-address",
        default=d(None),
        metavar="ADDR",
        help="join a running Ray cluster ('auto' or HOST:PORT); default: start a local Ray",
    )
    p.add_argument(
        "--storage-path",
        default=d(None),
        metavar="DIR",
        help="where results and checkpoints go (default: the YAML's storage_path, else ~/ray_results)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        default=d(False),
        help="continue the experiment already in the storage path (stopped by Ctrl-C, a crash or its "
        "stop) from each trial's last checkpoint, up to this command's stop",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=d(0),
        help="more output (-v: a line per iteration instead of the progress bar, with Tune's status and "
        "worker logs; -vv: more)",
    )
    p.add_argument(
        "--wandb-project",
        default=d(None),
        metavar="P",
        help="also log to Weights & Biases project P (needs rllib_qmix[wandb]; WANDB_MODE=offline logs locally)",
    )
    p.add_argument(
        "--mlflow-tracking-uri",
        default=d(None),
        metavar="URI",
        help="also log to MLflow at URI, a server or file:///path (needs rllib_qmix[mlflow])",
    )


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like every other refusal of the CLI."""

    def error(self, message: str) -> NoReturn:  # noqa: D102
        command = " ".join(self.prog.split()[:2])  # "rllib train file" -> "rllib train"
        if message.startswith("argument") and message.endswith("expected one argument"):
            message += " (for a value that starts with '-', write --OPTION=VALUE)"
        self.exit(2, f"{command}: error: {message}; see `{self.prog} --help`\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``rllib`` command."""
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="rllib",
        formatter_class=fmt,
        description="Train, evaluate and plot RLlib algorithms (including QMIX).",
        epilog="run `rllib COMMAND --help` for examples",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    train = sub.add_parser(
        "train",
        formatter_class=fmt,
        usage=TRAIN_USAGE,
        epilog=TRAIN_EPILOG,
        help="train an algorithm (from a YAML file or flags)",
        description="Train with Ray Tune from an experiment YAML file or from --algo/--env/--config.",
    )
    train.add_argument("--algo", "--run", dest="algo", help="algorithm, e.g. QMIX, PPO, or package.module:Class")
    train.add_argument("--env", help="environment: Tune-registered name (smac), gymnasium id or class path")
    train.add_argument("--name", help="experiment name (default: ALGO_ENV)")
    train.add_argument("-f", "--file", dest="file_opt", metavar="PATH.yaml", help="same as `train file PATH.yaml`")
    _add_train_options(train, suppress=False)
    train_sub = train.add_subparsers(dest="train_command", title="subcommand", metavar="file PATH.yaml")
    tfile = train_sub.add_parser(
        "file",
        prog="rllib train file",  # not derived from train's two-form usage
        formatter_class=fmt,
        epilog=FILE_EPILOG,
        help="train every experiment in a YAML file",
        description="Train every experiment in a classic RLlib experiment YAML file.",
    )
    tfile.add_argument("path", metavar="PATH.yaml", help="experiment YAML file")
    _add_train_options(tfile, suppress=True)
    train.set_defaults(func=cmd_train)

    ev = sub.add_parser(
        "evaluate",
        formatter_class=fmt,
        epilog=EVALUATE_EPILOG,
        help="run greedy episodes from a checkpoint",
        description="Restore a checkpoint and report return, win rate and episode length over N episodes.",
    )
    ev.add_argument("checkpoint", metavar="CHECKPOINT", help="checkpoint, trial or experiment directory")
    ev.add_argument("--episodes", type=int, default=10, metavar="N", help="number of evaluation episodes (default 10)")
    ev.add_argument(
        "--render", metavar="OUT.gif", help="write one battle as an animated GIF (QMIX on the smac and smacv2 envs)"
    )
    ev.add_argument("--explore", action="store_true", help="sample exploratory actions instead of greedy ones")
    ev.add_argument("-v", "--verbose", action="count", default=0, help="more output")
    ev.set_defaults(func=cmd_evaluate)

    pl = sub.add_parser(
        "plot",
        formatter_class=fmt,
        epilog=PLOT_EPILOG,
        help="plot learning curves of a run as a PNG",
        description="Plot win rate, return, loss and epsilon against env steps.",
    )
    pl.add_argument("run_dir", metavar="RUN_DIR", help="experiment or trial directory")
    pl.add_argument("-o", "--output", metavar="OUT.png", help="output file (default: RUN_DIR/learning_curves.png)")
    pl.set_defaults(func=cmd_plot)
    return parser


# ----------------------------------------------------------------------- helpers
def _quiet(verbose: int) -> None:
    """Keeps Ray's and RLlib's INFO/WARNING chatter off the console unless -v."""
    if verbose:
        return
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    for name in ("ray", "ray.rllib"):
        logging.getLogger(name).setLevel(logging.ERROR)
    for name in ("ray.tune", "ray.train"):  # trial errors: we print one line each
        logging.getLogger(name).setLevel(logging.CRITICAL)


# ------------------------------------------------------------------------- train
def cmd_train(args: argparse.Namespace) -> int:
    """``rllib train``: validate every experiment, then run them one by one."""
    from rllib_qmix.cli.experiment import (
        experiment_from_dict,
        load_experiments,
        nothing_to_resume,
        parse_json_arg,
        resume_plan,
        run_experiment,
    )
    from rllib_qmix.cli.progress import install_sigint_handler, interrupted

    _quiet(args.verbose)
    path = getattr(args, "path", None) or args.file_opt
    overrides = dict(
        config_override=parse_json_arg(args.config, "--config"),
        stop_override=parse_json_arg(args.stop, "--stop"),
        storage_path=args.storage_path,
    )
    if path:
        if args.algo or args.env:
            raise CLIError("give either an experiment file or --algo/--env, not both")
        specs = load_experiments(path, **overrides)
    elif args.algo:
        if not args.env and "env" not in overrides["config_override"]:
            raise CLIError('--algo needs --env (or "env" in --config)')
        entry = {"run": args.algo}
        if args.env:
            entry["env"] = args.env
        env = args.env or overrides["config_override"]["env"]
        name = args.name or re.sub(r"[^\w.-]+", "_", f"{args.algo}_{env}")
        specs = [experiment_from_dict(name, entry, **overrides)]
    else:
        raise CLIError("nothing to train: use `rllib train file PATH.yaml` or `rllib train --algo ALGO --env ENV`")

    try:
        cap = budget.max_iterations()
    except ValueError as e:
        raise CLIError(str(e)) from None
    from rllib_qmix.cli.tracking import check_tracking, tracking_callbacks

    check_tracking(args.wandb_project, args.mlflow_tracking_uri)  # before Ray starts
    resume = bool(getattr(args, "resume", False))
    if resume and not any([resume_plan(spec) for spec in specs]):  # each checked before Ray starts
        for spec in specs:
            print(f"== {spec.name}: {nothing_to_resume(spec)}", flush=True)
        return 0
    init_ray(args.ray_address, args.verbose)
    install_sigint_handler()
    status = 0
    for spec in specs:
        print(
            f"== {spec.name}: {spec.algo_name} on {spec.param_space.get('env')}, "
            f"stop {spec.stop or 'never (Ctrl-C to stop)'}",
            flush=True,
        )
        if cap is not None:
            print(f"note: {budget.ENV_VAR}={cap}: each trial trains at most {cap} iterations here", flush=True)
        callbacks = tracking_callbacks(args.wandb_project, args.mlflow_tracking_uri, spec.name)
        grid = run_experiment(spec, verbose=args.verbose, resume=resume, max_iterations=cap, callbacks=callbacks)
        status = max(status, _summarize(grid))
        if interrupted():
            print("Stopped by Ctrl-C.", flush=True)
            break
    return status


def _summarize(grid: Any) -> int:
    """Prints each trial's final checkpoint and where the results are; 1 on errors."""
    status = 0
    exp_path = getattr(grid, "experiment_path", None)
    for result in grid:
        ckpt = result.checkpoint.path if result.checkpoint else "none"
        if result.error is not None:
            status = 1
            print(
                f"error: trial failed: {_root_cause(result.error)} (details: {result.path}/error.txt)", file=sys.stderr
            )
        print(f"final checkpoint: {ckpt}", flush=True)
    if exp_path:
        print(f"results: {exp_path}  (tensorboard --logdir {exp_path} | rllib plot {exp_path})", flush=True)
    return status


def _root_cause(error: BaseException) -> str:
    """The innermost 'SomeError: message' line of a (remote) traceback (500 characters at most:
    room for a message that says what to try, e.g. QMIX's NonFiniteUpdateError)."""
    causes = re.findall(r"^\s*([\w.]*(?:Error|Exception)\b.*)$", str(error), re.M)
    return causes[-1].strip()[:500] if causes else " ".join(str(error).split())[:500]


# ---------------------------------------------------------------------- evaluate
_CKPT_FILE = "class_and_ctor_args.pkl"


def _checkpoint_index(path: str) -> int:
    match = re.search(r"checkpoint_(\d+)$", path.rstrip("/"))
    return int(match.group(1)) if match else -1


def _checkpoints_in(folder: str) -> list[str]:
    """The checkpoint directories directly inside ``folder`` (not hidden partial saves)."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [
        os.path.join(folder, n)
        for n in names
        if not n.startswith(".") and os.path.isfile(os.path.join(folder, n, _CKPT_FILE))
    ]


def _is_experiment_dir(path: str) -> bool:
    """Whether ``path`` is a Tune experiment directory (its state files are there)."""
    try:
        names = os.listdir(path)
    except OSError:
        return False
    return "tuner.pkl" in names or any(n.startswith("experiment_state-") and n.endswith(".json") for n in names)


def _latest(path: str, found: list[str]) -> str:
    """The newest of one run's checkpoints ``found`` (QMIX's: the newest complete one)."""
    found = sorted(found, key=lambda p: (os.path.getmtime(os.path.join(p, _CKPT_FILE)), _checkpoint_index(p)))
    if any(os.path.isfile(os.path.join(p, MANIFEST_FILE)) for p in found):  # QMIX's: skip incomplete ones
        complete = [p for p in found if is_complete_checkpoint(p)]
        for p in found[found.index(complete[-1]) + 1 :] if complete else found:
            print(f"note: skipping incomplete checkpoint {p} (a save or copy of it was interrupted)", file=sys.stderr)
        if not complete:
            raise CLIError(f"no complete checkpoint in {path}: every one was cut short; train again or resume")
        return complete[-1]
    return found[-1]


def find_checkpoint(path: str) -> str:
    """A checkpoint directory itself; else the latest checkpoint of a run: a directory that holds
    checkpoints (a Tune trial directory), or a Tune experiment directory with one trial that has
    checkpoints. An experiment with checkpoints of several trials, or any other directory, is
    refused with one line (what is there, what to give instead)."""
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.exists(path):
        raise CLIError(f"checkpoint not found: {path}")
    if not os.path.isdir(path):
        raise CLIError(f"not a checkpoint (not a directory): {path}")
    if os.path.isfile(os.path.join(path, _CKPT_FILE)):
        return path
    here = _checkpoints_in(path)
    if here:
        return _latest(path, here)
    if not _is_experiment_dir(path):
        raise CLIError(
            f"not an RLlib checkpoint (no {_CKPT_FILE}), a run with checkpoints (a Tune trial directory) or a "
            f"Tune experiment directory: {path}"
        )
    runs = {}
    for name in sorted(os.listdir(path)):
        trial = os.path.join(path, name)
        if not name.startswith(".") and os.path.isdir(trial) and _checkpoints_in(trial):
            runs[trial] = _checkpoints_in(trial)
    if not runs:
        raise CLIError(f"no checkpoints in the experiment {path} (its trials saved none yet)")
    if len(runs) > 1:
        names = ", ".join(os.path.basename(t) for t in runs)
        raise CLIError(
            f"{path} holds checkpoints of {len(runs)} runs: {names}; give one of them (a trial directory) "
            "or a checkpoint directory"
        )
    (trial,) = runs
    return _latest(trial, runs[trial])


def _is_qmix(algo_cls: type) -> bool:
    return any(c.__name__ == "QMIX" for c in algo_cls.__mro__)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``rllib evaluate``: restore a checkpoint and run evaluation episodes."""
    _quiet(args.verbose)
    if args.episodes < 1:
        raise CLIError("--episodes must be at least 1")
    path = find_checkpoint(args.checkpoint)
    import rllib_qmix  # noqa: F401  (QMIX classes must be importable to unpickle)

    try:
        with open(os.path.join(path, _CKPT_FILE), "rb") as f:
            ctor = pickle.load(f)
        algo_cls = ctor["class"]
        state = ctor["ctor_args_and_kwargs"][0][0]
    except Exception as e:  # noqa: BLE001
        raise CLIError(f"cannot read checkpoint {path}: {' '.join(str(e).split())}") from None
    if args.render and not _is_qmix(algo_cls):
        raise CLIError(f"--render is supported for QMIX only (this checkpoint is {algo_cls.__name__})")
    render_episode = None
    if args.render:
        try:
            from rllib_qmix.cli.render import check_renderable, render_episode
        except ImportError as e:
            raise CLIError(f"--render is not available: {e}") from None

    from ray.rllib.algorithms.algorithm import Algorithm
    from ray.rllib.algorithms.algorithm_config import AlgorithmConfig

    config = AlgorithmConfig.from_state(state) if isinstance(state, dict) else state
    config = config.copy(copy_frozen=False)
    if args.render:  # before anything is restored or evaluated
        try:
            check_renderable(config)
        except ValueError as e:
            raise CLIError(" ".join(str(e).split())) from None
    init_ray(None, args.verbose)
    # A number of parallel envs that divides N, so that N episodes means N.
    num_envs = max(
        d for d in range(1, min(config.num_envs_per_env_runner, args.episodes) + 1) if args.episodes % d == 0
    )
    config.env_runners(num_env_runners=0, num_envs_per_env_runner=num_envs)
    config.learners(num_learners=0, num_gpus_per_learner=0)
    if hasattr(config, "confirm_targets"):  # a QMIX run's confirmed stop: this evaluation is the measurement
        config.confirm_targets = {}
    config.evaluation(
        evaluation_interval=1,
        evaluation_duration=args.episodes,
        evaluation_duration_unit="episodes",
        evaluation_num_env_runners=0,
        evaluation_parallel_to_training=False,
        evaluation_config=AlgorithmConfig.overrides(
            explore=args.explore, metrics_num_episodes_for_smoothing=max(args.episodes, 1)
        ),
    )
    try:
        algo = Algorithm.from_checkpoint(path, config=config)
    except Exception as e:  # noqa: BLE001
        raise CLIError(f"cannot restore checkpoint {path}: {' '.join(str(e).split())[:300]}") from None
    try:
        mode = "exploring" if args.explore else "greedy"
        print(f"checkpoint: {path}")
        print(f"algorithm:  {algo_cls.__name__} on {config.env} ({mode})", flush=True)
        results = algo.evaluate()
        runners = results.get("env_runners", results.get("evaluation", {}).get("env_runners", {}))
        _print_eval(runners)
        if render_episode is not None:
            stats = render_episode(algo, args.render, explore=args.explore)
            print(f"rendered:   {args.render}  {_fmt_stats(stats)}")
    finally:
        algo.stop()
    return 0


def _fmt_stats(stats: Any) -> str:
    if not isinstance(stats, dict):
        return ""
    return " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in stats.items())


def _print_eval(m: dict[str, Any]) -> None:
    """Prints the evaluation metrics a user cares about."""

    def num(key: str) -> Optional[float]:
        try:
            return float(m[key])
        except (KeyError, TypeError, ValueError):
            return None

    n = num("num_episodes")
    if n is not None:
        print(f"episodes:   {int(n)}")
    ret = num("episode_return_mean")
    lo, hi = num("episode_return_min"), num("episode_return_max")
    if ret is not None:
        rng = f"  (min {lo:.2f}, max {hi:.2f})" if lo is not None and hi is not None else ""
        print(f"return:     {ret:.2f}{rng}")
    won = num("battle_won_mean")
    if won is not None:
        print(f"win rate:   {100 * won:.1f}%")
    length = num("episode_len_mean")
    if length is not None:
        print(f"length:     {length:.1f}")
    sys.stdout.flush()


# -------------------------------------------------------------------------- plot
def cmd_plot(args: argparse.Namespace) -> int:
    """``rllib plot``: write the learning curves PNG."""
    from rllib_qmix.cli.plot import plot_run

    out = plot_run(args.run_dir, args.output)
    print(f"wrote {out}")
    return 0


# -------------------------------------------------------------------------- main
def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of the ``rllib`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)  # SystemExit(2) after a one-line usage error
    try:
        return int(args.func(args) or 0)
    except CLIError as e:
        print(f"rllib {args.command}: error: {e}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print("rllib: aborted", file=sys.stderr, flush=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
