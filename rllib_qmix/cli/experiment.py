"""Classic RLlib experiment YAML -> validated experiment specs -> Ray Tune runs.

Everything that can be checked without starting Ray is checked here, so that a
typo in a YAML file costs one clear line on stderr instead of a Ray traceback.
"""

from __future__ import annotations

import copy
import difflib
import importlib
import inspect
import json
import logging
import os
import socket
from dataclasses import dataclass, field
from typing import Any, Optional, Union

import yaml


class CLIError(Exception):
    """A user error: printed as one line on stderr, exit code 2."""


# Keys of one experiment entry in the classic YAML format.
EXPERIMENT_KEYS = {
    "run",
    "algo",
    "env",
    "env_config",
    "stop",
    "config",
    "checkpoint_freq",
    "checkpoint_at_end",
    "num_samples",
    "storage_path",
    "local_dir",
    "keep_checkpoints_num",
    "checkpoint_score_attr",
    "max_failures",
    "resources_per_trial",
    "trial_name_creator",
    "trial_dirname_creator",
}

# Old-stack result names -> their names in Ray 2.60's (new API stack) results.
STOP_ALIASES = {
    "episode_reward_mean": "env_runners/episode_return_mean",
    "episode_return_mean": "env_runners/episode_return_mean",
    "sampler_results/episode_reward_mean": "env_runners/episode_return_mean",
    "env_runners/episode_reward_mean": "env_runners/episode_return_mean",
    "episode_len_mean": "env_runners/episode_len_mean",
    "battle_won_mean": "env_runners/battle_won_mean",
    "timesteps_total": "num_env_steps_sampled_lifetime",
    "num_env_steps_sampled": "num_env_steps_sampled_lifetime",
}


@dataclass
class ExperimentSpec:
    """One validated experiment, ready for :func:`run_experiment`."""

    name: str
    algo_name: str
    trainable: Union[str, type]
    algo_cls: type
    param_space: dict[str, Any]
    stop: dict[str, float] = field(default_factory=dict)
    checkpoint_freq: int = 0
    checkpoint_at_end: bool = True
    num_samples: int = 1
    storage_path: Optional[str] = None
    keep_checkpoints_num: Optional[int] = None
    checkpoint_score_attr: Optional[str] = None
    max_failures: int = 0


def _closest(word: str, options) -> str:
    """' (did you mean 'x'?)' if some option is close to `word` (ignoring case), else ''."""
    if not isinstance(word, str):  # a YAML key may be null, a number, ...
        return ""
    options = [str(o) for o in options]
    by_lower = {o.lower(): o for o in options}
    match = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean '{by_lower[match[0]]}'?)" if match else ""


def _registered(category: str) -> list[str]:
    """The names registered with Tune's registry in ``category``: flushed to a running Ray
    (``_registered``) or waiting for one (``_to_flush``: before ``ray.init``, e.g. QMIX)."""
    from ray.tune.registry import _global_registry

    keys = set(getattr(_global_registry, "_registered", set())) | set(getattr(_global_registry, "_to_flush", {}))
    return sorted({k.decode() if isinstance(k, bytes) else str(k) for (cat, k) in keys if cat == category})


def parse_json_arg(text: Optional[str], what: str) -> dict[str, Any]:
    """Parses a JSON object given on the command line (``--config``/``--stop``)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise CLIError(f"{what} is not valid JSON: {e}") from None
    if not isinstance(value, dict):
        raise CLIError(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def load_yaml(path: str) -> dict[str, dict[str, Any]]:
    """Reads an experiment YAML file: ``{experiment name: {run, env, ...}}``."""
    if not os.path.isfile(path):
        raise CLIError(f"experiment file not found: {path}")
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise CLIError(f"malformed YAML in {path}{where}: {problem}") from None
    if not isinstance(data, dict) or not data:
        raise CLIError(
            f"{path} must map experiment names to experiment settings ({{name: {{run: ..., env: ..., config: ...}}}})"
        )
    for name, entry in data.items():
        if not isinstance(entry, dict):
            raise CLIError(f"{path}: experiment '{name}' must be a mapping, got {type(entry).__name__}")
    return data


# --------------------------------------------------------------------------- algos
def _register_ours() -> None:
    """Registers QMIX and this package's envs with Tune's registry now.

    Importing ``rllib_qmix`` registers them and every ``ray.init`` does again, but between a
    ``ray.shutdown()`` and the next ``ray.init`` Tune's registry holds nothing (its entries lived
    in the stopped Ray), so a name looked up then would be unknown."""
    import rllib_qmix

    rllib_qmix.register()


def _registered_trainables() -> list[str]:
    """Names known to Tune's registry plus RLlib's built-in algorithms."""
    from ray.rllib.algorithms.registry import ALGORITHMS
    from ray.tune.registry import TRAINABLE_CLASS

    import rllib_qmix  # noqa: F401  (registers QMIX)

    return sorted(set(ALGORITHMS) | set(_registered(TRAINABLE_CLASS)))


def _import_object(path: str, what: str) -> Any:
    """Imports ``pkg.module:Name`` or ``pkg.module.Name``."""
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise CLIError(f"cannot import {what} '{path}': use the form package.module:Name")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise CLIError(f"cannot import {what} '{path}': {e}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise CLIError(f"cannot import {what} '{path}': module '{module_name}' has no attribute '{attr}'") from None


def resolve_algorithm(name: str) -> tuple[type, type]:
    """Returns (what to give Tune, the Algorithm class) for a ``run:`` value.

    Accepts a name in Tune's registry (QMIX, once ``rllib_qmix`` is imported), a
    built-in RLlib algorithm (PPO, DQN, ...) or an import path ``pkg.mod:Class``.
    """
    from ray.rllib.algorithms.algorithm import Algorithm
    from ray.rllib.algorithms.registry import ALGORITHMS
    from ray.tune.registry import TRAINABLE_CLASS, _global_registry

    _register_ours()
    if not isinstance(name, str) or not name:
        raise CLIError(f"'run' must be an algorithm name or import path, got {name!r}")
    if ":" in name:
        cls = _import_object(name, "algorithm")
    elif _global_registry.contains(TRAINABLE_CLASS, name):
        cls = _global_registry.get(TRAINABLE_CLASS, name)
    elif name in ALGORITHMS:  # built-in: import only this one, not all of RLlib's
        cls = ALGORITHMS[name]()[0]
    else:
        raise CLIError(f"unknown algorithm '{name}'{_closest(name, _registered_trainables())}")
    if not (inspect.isclass(cls) and issubclass(cls, Algorithm)):
        raise CLIError(f"'{name}' is not an RLlib Algorithm class")
    # Tune gets the class itself: resolving a name there would import every
    # built-in RLlib algorithm.
    return cls, cls


# ---------------------------------------------------------------------------- envs
def check_env(env: Any) -> None:
    """Raises CLIError unless `env` is a Tune env name, a gymnasium id or a class path."""
    from ray.tune.registry import ENV_CREATOR, _global_registry

    _register_ours()
    if env is None or not isinstance(env, str):
        return
    if _global_registry.contains(ENV_CREATOR, env):
        return
    if "." in env:  # RLlib treats such strings as class paths.
        _import_object(env, "environment")
        return
    import gymnasium as gym

    if env in gym.envs.registry:
        return
    if ":" in env:  # "package:EnvId": gymnasium imports the package first.
        try:
            gym.spec(env)
            return
        except Exception:  # noqa: BLE001
            pass
    known = list(gym.envs.registry) + _registered(ENV_CREATOR)
    raise CLIError(
        f"unknown environment '{env}': not a registered Tune env, a gymnasium id "
        f"or an importable class path{_closest(env, known)}"
    )


# -------------------------------------------------------------------------- config
def first_of_search_spaces(value: Any) -> Any:
    """Replaces Tune ``{grid_search: [...]}`` entries by their first value."""
    if isinstance(value, dict):
        if set(value) == {"grid_search"} and isinstance(value["grid_search"], list):
            return first_of_search_spaces(value["grid_search"][0])
        return {k: first_of_search_spaces(v) for k, v in value.items()}
    if isinstance(value, list):
        return [first_of_search_spaces(v) for v in value]
    return value


def expand_preset(config: Any, config_dict: dict[str, Any], algo_name: str) -> dict[str, Any]:
    """``config_dict`` with its ``preset`` key replaced by the preset's settings (QMIX's
    ``QMIXConfig.PRESETS``); the dict's own keys override the preset's."""
    if "preset" not in config_dict:
        return config_dict
    presets = getattr(config, "PRESETS", None)
    if not isinstance(presets, dict):
        raise CLIError(f"{algo_name} has no presets: remove 'preset' from config")
    rest = {k: v for k, v in config_dict.items() if k != "preset"}
    name = config_dict["preset"]
    if not isinstance(name, str) or name not in presets:
        raise CLIError(f"invalid config for {algo_name}: unknown preset {name!r}; presets: {sorted(presets)}")
    return {**presets[name], **rest}


def build_config(algo_cls: type, config_dict: dict[str, Any], algo_name: str = ""):
    """Builds and validates `algo_cls`'s AlgorithmConfig from a config dict.

    Flags keys that are no setting of the config class (with the closest name).
    """
    from ray.rllib.algorithms.algorithm_config import AlgorithmConfig

    config_dict = first_of_search_spaces(copy.deepcopy(config_dict))
    config = algo_cls.get_default_config()
    if not isinstance(config, AlgorithmConfig):
        raise CLIError(
            f"{algo_name or algo_cls.__name__} has no AlgorithmConfig (old API stack algorithms are not supported)"
        )
    config_dict = expand_preset(config, config_dict, algo_name or algo_cls.__name__)
    translate = AlgorithmConfig._translate_special_keys
    special = {"multiagent", "_enable_new_api_stack", "__trial_info__"}
    settings = [k for k in vars(config) if not k.startswith("_")]
    for key in config_dict:
        attr = translate(key, warn_deprecated=False)
        cls_attr = getattr(type(config), attr, None)
        is_method = callable(cls_attr) and not isinstance(cls_attr, property)
        if attr in special:
            continue
        if is_method or not hasattr(config, attr):
            raise CLIError(f"unknown config key '{key}' for {algo_name or algo_cls.__name__}{_closest(key, settings)}")
    try:
        config.update_from_dict(config_dict)
        config.validate()
    except CLIError:
        raise
    except Exception as e:  # noqa: BLE001 - RLlib raises many kinds; show one line.
        msg = " ".join(str(e).split()) or type(e).__name__
        raise CLIError(f"invalid config for {algo_name or algo_cls.__name__}: {msg}") from None
    return config


def normalize_stop(stop: Any) -> dict[str, float]:
    """Flattens nested stop dicts to ``a/b`` keys and maps old-stack names."""
    if stop is None:
        return {}
    if not isinstance(stop, dict):
        raise CLIError(f"'stop' must be a mapping of metric -> value, got {stop!r}")
    flat: dict[str, float] = {}

    def walk(prefix: str, d: dict[str, Any]) -> None:
        for k, v in d.items():
            key = f"{prefix}/{k}" if prefix else str(k)
            if isinstance(v, dict):
                walk(key, v)
            elif isinstance(v, bool) or not isinstance(v, (int, float)):
                raise CLIError(f"stop criterion '{key}' must be a number, got {v!r}")
            else:
                flat[STOP_ALIASES.get(key, key)] = v

    walk("", stop)
    return flat


def confirm_stops(algo_cls: type, config: dict[str, Any], stop: dict[str, float]) -> tuple[dict, dict]:
    """Makes a stop on a greedy evaluation metric a confirmed one, for algorithms that confirm
    targets (QMIX: ``confirm_targets``).

    Each stop ``evaluation/<metric>: v`` on a metric a confirmation measures becomes the
    target ``<metric>: v`` in the config's ``confirm_targets`` and the stop
    ``evaluation/confirmed/<metric>: v``: the run stops only where an evaluation that reached
    ``v`` is confirmed by ``confirm_episodes`` more episodes (default 128), so the checkpoint
    written at the stop meets the target when evaluated again. A config that sets
    ``confirm_targets`` itself (``{}`` turns confirmation off) keeps its stops as they are.

    Returns:
        The config and the stop, changed where a stop was confirmed.
    """
    from rllib_qmix.algorithm.confirm import CONFIRMABLE, CONFIRMED

    if "confirm_targets" in config or not hasattr(algo_cls.get_default_config(), "confirm_targets"):
        return config, stop
    targets, new_stop = {}, {}
    for key, value in stop.items():
        metric = key[len("evaluation/") :] if key.startswith("evaluation/") else None
        if metric in CONFIRMABLE:
            targets[metric] = value
            new_stop[f"evaluation/{CONFIRMED}/{metric}"] = value
        else:
            new_stop[key] = value
    if not targets:
        return config, stop
    return {**config, "confirm_targets": targets}, new_stop


def experiment_from_dict(
    name: str,
    entry: dict[str, Any],
    *,
    config_override: Optional[dict[str, Any]] = None,
    stop_override: Optional[dict[str, Any]] = None,
    storage_path: Optional[str] = None,
) -> ExperimentSpec:
    """Validates one classic experiment entry and returns an ExperimentSpec."""
    unknown = [k for k in entry if k not in EXPERIMENT_KEYS]
    if unknown:
        raise CLIError(f"experiment '{name}': unknown key '{unknown[0]}'{_closest(unknown[0], EXPERIMENT_KEYS)}")
    algo = entry.get("run", entry.get("algo"))
    if algo is None:
        raise CLIError(f"experiment '{name}' names no algorithm (add 'run: PPO' or similar)")
    trainable, algo_cls = resolve_algorithm(algo)

    config = entry.get("config") or {}
    if not isinstance(config, dict):
        raise CLIError(f"experiment '{name}': 'config' must be a mapping")
    config = copy.deepcopy(config)
    config.update(config_override or {})
    if entry.get("env") is not None:
        config["env"] = entry["env"]
    if entry.get("env_config") is not None and not isinstance(entry["env_config"], dict):
        raise CLIError(f"experiment '{name}': 'env_config' must be a mapping")
    if not isinstance(config.get("env_config", {}), dict):
        raise CLIError(f"experiment '{name}': 'config.env_config' must be a mapping")
    if entry.get("env_config") is not None:
        config["env_config"] = {**config.get("env_config", {}), **entry["env_config"]}
    from rllib_qmix.cli.classic_keys import ClassicKeyError, translate_classic_keys

    try:
        config = translate_classic_keys(config, algo_cls, str(algo))  # classic and old RLlib QMIX keys
    except ClassicKeyError as e:
        raise CLIError(str(e)) from None
    check_env(config.get("env"))
    # Tune rebuilds the config from this dict: the preset goes in as its settings.
    config = expand_preset(algo_cls.get_default_config(), config, str(algo))
    stop = normalize_stop(entry.get("stop"))
    stop.update(normalize_stop(stop_override))
    config, stop = confirm_stops(algo_cls, config, stop)
    build_config(algo_cls, config, str(algo))

    path = storage_path or entry.get("storage_path") or entry.get("local_dir")
    ints = {}
    for key in ("checkpoint_freq", "num_samples", "keep_checkpoints_num", "max_failures"):
        value = entry.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise CLIError(f"experiment '{name}': '{key}' must be an integer, got {value!r}")
        ints[key] = value
    return ExperimentSpec(
        name=str(name),
        algo_name=str(algo),
        trainable=trainable,
        algo_cls=algo_cls,
        param_space=config,
        stop=stop,
        checkpoint_freq=ints["checkpoint_freq"] or 0,
        checkpoint_at_end=bool(entry.get("checkpoint_at_end", True)),
        num_samples=ints["num_samples"] or 1,
        storage_path=os.path.abspath(os.path.expanduser(path)) if path else None,
        keep_checkpoints_num=ints["keep_checkpoints_num"],
        checkpoint_score_attr=entry.get("checkpoint_score_attr"),
        max_failures=ints["max_failures"] or 0,
    )


def load_experiments(path: str, **overrides: Any) -> list[ExperimentSpec]:
    """Loads and validates every experiment in a YAML file."""
    return [experiment_from_dict(name, entry, **overrides) for name, entry in load_yaml(path).items()]


# --------------------------------------------------------------------------- run
def _check_reachable(address: str) -> None:
    """Fails fast on HOST:PORT that nothing listens on (ray.init would retry for minutes)."""
    host, sep, port = address.rpartition(":")
    if address in ("auto", "local") or "://" in address or not sep or not port.isdigit():
        return
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
    except OSError as e:
        raise CLIError(f"cannot connect to Ray at '{address}': {e.strerror or e}") from None


def init_ray(address: Optional[str], verbose: int) -> None:
    """Joins the cluster at `address` or starts a local Ray."""
    import ray

    if address:  # before the early return: a bad address is an error even in a Ray process
        _check_reachable(address)
    if ray.is_initialized():
        return
    kwargs: dict[str, Any] = dict(
        log_to_driver=verbose > 0,
        logging_level=logging.INFO if verbose else logging.ERROR,
    )
    if address:
        kwargs["address"] = address
    else:  # "local": never attach to a cluster someone `ray start`-ed on this host
        kwargs.update(address="local", include_dashboard=False)
    try:
        ray.init(**kwargs)
    except (ConnectionError, ValueError, RuntimeError) as e:
        msg = " ".join(str(e).split())
        raise CLIError(
            f"cannot connect to Ray at '{address}': {msg}" if address else f"cannot start Ray: {msg}"
        ) from None
    if not address:  # our own Ray: end what a killed CLI would leave running
        from rllib_qmix.cli.reaper import start_reaper

        start_reaper()


def run_experiment(
    spec: ExperimentSpec,
    *,
    verbose: int = 0,
    resume: bool = False,
    max_iterations: Optional[int] = None,
    callbacks: Optional[list] = None,
) -> Any:
    """Runs one experiment with ``tune.Tuner`` and returns its ResultGrid.

    Prints one progress line per iteration; the first SIGINT ends every trial
    after its current iteration and saves a final checkpoint. ``callbacks``: more Tune
    callbacks (experiment tracking, ``cli/tracking.py``).
    """
    from ray import tune

    from rllib_qmix.algorithm.placement import worker_asks
    from rllib_qmix.cli import pending
    from rllib_qmix.cli.experiment_state import StateKeeper
    from rllib_qmix.cli.progress import CLIStopper, ProgressCallback, set_current_stop

    # A trial the cluster can never place (a GPU config without a GPU, more env runners than
    # cores) is refused now; one that waits for held resources is ended by the watchdog.
    asks = worker_asks(build_config(spec.algo_cls, spec.param_space, spec.algo_name), spec.algo_cls, main_process=True)
    problem = pending.check_trial_placement(asks, spec.name)
    if problem is not None:
        raise CLIError(problem)
    pending.reset()
    set_current_stop(spec.stop, max_iterations)

    # Save Tune's experiment state after every result (not every ~10 s), so that --resume after
    # a crash knows every trial checkpoint written before it; cheap for the few trials here.
    os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", "0")

    checkpoint_config = tune.CheckpointConfig(
        checkpoint_frequency=spec.checkpoint_freq,
        checkpoint_at_end=spec.checkpoint_at_end,
        num_to_keep=spec.keep_checkpoints_num,
        checkpoint_score_attribute=spec.checkpoint_score_attr,
    )
    run_config = tune.RunConfig(
        name=spec.name,
        storage_path=spec.storage_path,
        stop=CLIStopper(spec.stop, max_iterations),
        checkpoint_config=checkpoint_config,
        failure_config=tune.FailureConfig(max_failures=spec.max_failures),
        callbacks=[
            ProgressCallback(verbose=verbose, stop=spec.stop),
            pending.PendingWatchdog(asks, spec.name),
            StateKeeper(experiment_dir(spec)),  # what --resume needs after a kill mid-write
            *(callbacks or []),
        ],
        verbose=min(verbose, 3),
    )
    if resume:
        path = experiment_dir(spec)
        if not resume_plan(spec):
            print(nothing_to_resume(spec), flush=True)
            return tune.ResultGrid(tune.ExperimentAnalysis(path))
        # Every trial continues from its last checkpoint (iteration, env steps, epsilon, weights,
        # targets, optimizer; the replay if the config stores it), whether it was stopped by
        # Ctrl-C, crashed, or reached the stop of the earlier command, up to this command's stop.
        resume_all = tune.ResumeConfig(
            finished=tune.ResumeConfig.ResumeType.RESUME,
            unfinished=tune.ResumeConfig.ResumeType.RESUME,
            errored=tune.ResumeConfig.ResumeType.RESUME,
        )
        tuner = tune.Tuner.restore(
            path, trainable=spec.trainable, param_space=spec.param_space, _resume_config=resume_all
        )
        # Tune restores the earlier command's run config (its stop, callbacks, checkpointing);
        # this command's apply instead (the experiment's name and storage stay). The stopper
        # Tune restores from its experiment state applies this command's stop too.
        restored = tuner._local_tuner.get_run_config()
        for key in ("stop", "checkpoint_config", "failure_config", "callbacks", "verbose"):
            setattr(restored, key, getattr(run_config, key))
    else:
        tuner = tune.Tuner(
            spec.trainable,
            param_space=spec.param_space,
            run_config=run_config,
            tune_config=tune.TuneConfig(num_samples=spec.num_samples),
        )
    grid = tuner.fit()
    failure = pending.placement_failure()
    if failure is not None:
        raise CLIError(failure)
    return grid


def _trial_dirs(path: str) -> list[str]:
    return sorted(
        os.path.join(path, d) for d in os.listdir(path) if os.path.isfile(os.path.join(path, d, "params.json"))
    )


def _config_changes(started: dict[str, Any], now: dict[str, Any], prefix: str = "") -> list[str]:
    """Settings of ``now`` that differ from the config a trial ``started`` with (search spaces
    of ``now`` are skipped: each trial started with one of their values)."""
    changes = []
    for key in sorted(set(started) | set(now), key=str):
        old, new = started.get(key, "(not set)"), now.get(key, "(not set)")
        if isinstance(new, dict) and set(new) == {"grid_search"}:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            changes += _config_changes(old, new, f"{prefix}{key}.")
        elif json.dumps(old, sort_keys=True, default=str) != json.dumps(new, sort_keys=True, default=str):
            changes.append(f"{prefix}{key} (was {old!r}, now {new!r})")
    return changes


def _meets_stop(row: dict[str, Any], stop: dict[str, float]) -> bool:
    for key, value in stop.items():
        try:
            got = float(row[key])
        except (KeyError, TypeError, ValueError):
            continue
        if got == got and got >= value:
            return True
    return False


def resume_plan(spec: ExperimentSpec) -> list[str]:
    """The trial directories ``--resume`` continues (checked before Ray starts): those whose last
    result does not meet ``spec.stop``. Refuses an experiment that was never started and a
    config that differs from the one its trials started with; repairs Tune's state files if a
    kill cut them short (``cli/experiment_state.py``), or refuses if it can't."""
    from ray import tune

    from rllib_qmix.cli.experiment_state import CutStateError, repair_cut_state

    path = experiment_dir(spec)
    if not tune.Tuner.can_restore(path):
        raise CLIError(
            f"nothing to resume at {path}: no experiment was started there "
            "(run without --resume first, with the same --storage-path)"
        )
    try:
        for line in repair_cut_state(path):
            print(line, flush=True)
    except CutStateError as e:
        raise CLIError(str(e)) from None
    return resumable_trials(path, spec)


def nothing_to_resume(spec: ExperimentSpec) -> str:
    """The line that says an experiment's trials all meet the stop already."""
    return (
        f"nothing to resume at {experiment_dir(spec)}: every trial already meets the stop criteria "
        f"{spec.stop} (give a larger --stop to train on)"
    )


def resumable_trials(path: str, spec: ExperimentSpec) -> list[str]:
    """The trial directories of the experiment at ``path`` that ``--resume`` continues: those
    whose last result does not meet ``spec.stop`` yet. Refuses a config that differs from the
    one the trials started with (a resumed trial runs its own)."""
    from rllib_qmix.cli.results import read_results

    trials = _trial_dirs(path)
    for trial in trials:
        try:
            with open(os.path.join(trial, "params.json")) as f:
                started = json.load(f)
        except ValueError:  # cut short by a kill while Tune copied the trial's files
            print(
                f"{os.path.basename(trial)}: its params.json was cut short by the crash, so the config "
                "it started with can't be compared with this one; Tune's experiment state still holds "
                "it, and the trial continues with it",
                flush=True,
            )
            continue
        changes = _config_changes(started, json.loads(json.dumps(spec.param_space, default=str)))
        if changes:
            raise CLIError(
                f"--resume continues each trial with the config it started with, and the config "
                f"now differs: {', '.join(changes[:3])}; undo the change, or train a new "
                "experiment (another --name or --storage-path)"
            )
    left = []
    for trial in trials:
        rows = read_results(trial)
        if not rows or not _meets_stop(rows[-1], spec.stop):
            left.append(trial)
    return left


def experiment_dir(spec: ExperimentSpec) -> str:
    """Where Tune writes (and ``--resume`` finds) this experiment's results."""
    root = spec.storage_path or os.path.join(os.path.expanduser("~"), "ray_results")
    return os.path.join(root, spec.name)
