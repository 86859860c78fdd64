"""``from_pymarl``: a QMIXConfig from pymarl's or EPyMARL's config files.

pymarl (oxwhirl/pymarl) and EPyMARL (uoe-agents/epymarl) configure a run with three YAML files
merged in this order: ``config/default.yaml``, then the env's ``config/envs/<env>.yaml``, then
the algorithm's ``config/algs/<alg>.yaml`` (nested dicts merged key by key), and finally the
command line's ``with key=value`` overrides (``env_args.map_name=8m``). ``from_pymarl`` merges
the same way and maps every key to QMIXConfig's setting with the meaning it had there:

- pymarl trains with RMSprop, EPyMARL with Adam (recognised by its own keys, or ``flavour=``);
- pymarl's ``target_update_interval`` counts sampled episodes; EPyMARL's
  ``target_update_interval_or_tau`` counts learner updates (above 1) or is a soft-update tau;
- one learner update per ``batch_size_run`` episodes (the parallel runner's envs), learning
  from the first full batch (``learning_starts = batch_size``);
- envs: ``sc2`` -> ``"smac"`` (the embedded simulator, or ``backend="sc2"``) with ``env_args``;
  a time-out is terminal as in pymarl unless ``continuing_episode``; ``gymma`` -> ``"lbf"``,
  ``"rware"``, ``"mpe_simple_spread"`` or ``"mpe_simple_speaker_listener"`` by ``env_args.key``,
  truncated at ``time_limit``, the concatenated observations as the state for LBF and RWARE.

Keys of the run itself (``t_max``, logging, saving, testing) are not algorithm settings: they are
listed in one warning with their RLlib counterpart. Keys with no counterpart (another agent,
learner, action selector or mixer) raise a ``ValueError`` that names them.
"""

from __future__ import annotations

import ast
import copy
import logging
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any, Optional, Union

import yaml

logger = logging.getLogger(__name__)

Source = Union[str, pathlib.Path, Mapping[str, Any], None]

#: pymarl key -> QMIXConfig setting, same meaning.
SAME = {
    "gamma": "gamma",
    "lr": "lr",
    "batch_size": "episode_batch_size",
    "buffer_size": "replay_capacity",
    "optim_alpha": "optim_alpha",
    "optim_eps": "optim_eps",
    "grad_norm_clip": "grad_clip",
    "rnn_hidden_dim": "agent_hidden_dim",
    "hidden_dim": "agent_hidden_dim",
    "obs_agent_id": "obs_agent_id",
    "obs_last_action": "obs_last_action",
    "epsilon_start": "epsilon_start",
    "epsilon_finish": "epsilon_finish",
    "epsilon_anneal_time": "epsilon_anneal_steps",
    "double_q": "double_q",
    "mixing_embed_dim": "mixing_embed_dim",
    "hypernet_layers": "hypernet_layers",
    "hypernet_embed": "hypernet_embed",
    "standardise_rewards": "standardize_rewards",
}
#: Keys that must have this value (the only one QMIXConfig implements).
REQUIRED = {
    "action_selector": "epsilon_greedy",
    "agent": "rnn",
    "mac": "basic_mac",
    "learner": "q_learner",
    "agent_output_type": "q",
    "use_rnn": True,
    "standardise_returns": False,
    "common_reward": True,
    "reward_scalarisation": "sum",
    "add_value_last_step": True,
    "obs_individual_obs": False,
    "evaluation_epsilon": 0.0,
    "test_greedy": True,
    "pretrained_wrapper": None,
}
#: Keys of the run (not of the algorithm): the RLlib way to get the same.
RUN_KEYS = {
    "t_max": "stop={'num_env_steps_sampled_lifetime': t_max} (rllib train's `stop`, or your loop)",
    "test_interval": "evaluation(evaluation_interval=N iterations)",
    "test_nepisode": "evaluation(evaluation_duration=N, evaluation_duration_unit='episodes')",
    "log_interval": "RLlib reports every iteration",
    "runner_log_interval": "RLlib reports every iteration",
    "learner_log_interval": "RLlib reports every iteration",
    "use_tensorboard": "RLlib always writes TensorBoard logs",
    "save_model": "rllib train's checkpoint_freq / algo.save()",
    "save_model_interval": "rllib train's checkpoint_freq",
    "checkpoint_path": "Algorithm.from_checkpoint(path)",
    "evaluate": "rllib evaluate CHECKPOINT",
    "render": "rllib evaluate CHECKPOINT --render out.gif",
    "load_step": "Algorithm.from_checkpoint(path)",
    "save_replay": "rllib evaluate CHECKPOINT --render out.gif",
    "local_results_path": "rllib train --storage-path",
    "use_cuda": "learners(num_gpus_per_learner=1)",
    "buffer_cpu_only": "the replay always lives in CPU memory",
    "repeat_id": "run bookkeeping",
    "label": "run bookkeeping",
    "name": "run bookkeeping",
    "hypergroup": "run bookkeeping",
    "critic_lr": "QMIX has no critic",
    "runner": "num_envs_per_env_runner (batch_size_run)",
    "save_episodes": "run bookkeeping",
    "episode_dir": "run bookkeeping",
    "clear_existing_episodes": "run bookkeeping",
}
#: Keys read elsewhere in the translation.
_HANDLED = {"env", "env_args", "seed", "batch_size_run", "mixer", "target_update_interval"}
_HANDLED |= {"target_update_interval_or_tau", "optimizer"}
#: Keys only EPyMARL's files have: a config with one of them trained with EPyMARL's Adam.
EPYMARL_KEYS = ("target_update_interval_or_tau", "standardise_rewards", "use_rnn", "hidden_dim", "common_reward")
#: EPyMARL ``gymma`` keys -> (our env, its gymnasium id or None).
_GYMMA_PREFIXES = {"lbforaging": "lbf", "rware": "rware"}
_MPE = {
    "simplespread": "mpe_simple_spread",
    "simple_spread": "mpe_simple_spread",
    "simple-spread": "mpe_simple_spread",
    "simplespeakerlistener": "mpe_simple_speaker_listener",
    "simple_speaker_listener": "mpe_simple_speaker_listener",
    "simple-speaker-listener": "mpe_simple_speaker_listener",
}


def _read(source: Source, folder: Optional[pathlib.Path], sub: str, what: str) -> dict[str, Any]:
    """A config dict from a dict, a YAML path, or a name in ``folder/sub`` (``{}`` for None)."""
    if source is None:
        return {}
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source))
    path = pathlib.Path(source).expanduser()
    if not path.suffix and folder is not None:
        path = folder / sub / f"{source}.yaml"
    if not path.is_file():
        where = f" (looked in {folder / sub})" if folder is not None and not pathlib.Path(source).suffix else ""
        raise FileNotFoundError(f"No pymarl {what} config file {path}{where}.")
    with open(path) as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a YAML mapping of pymarl settings, not {type(data).__name__}.")
    return data


def merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """pymarl's ``recursive_dict_update``: ``update``'s keys over ``base``'s, dicts key by key."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _parse_value(text: str) -> Any:
    """A command-line value as sacred reads it: a Python literal, else YAML, else the string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            return text


def apply_overrides(config: dict[str, Any], overrides: Union[Sequence[str], Mapping[str, Any]]) -> dict[str, Any]:
    """``config`` with command-line overrides (``["env_args.map_name=8m", "lr=1e-3"]``, or a
    dict of dotted keys) applied, as ``python src/main.py ... with KEY=VALUE`` does."""
    items = overrides.items() if isinstance(overrides, Mapping) else []
    if not isinstance(overrides, Mapping):
        pairs = []
        for item in overrides:
            if not isinstance(item, str) or "=" not in item:
                raise ValueError(f"pymarl override {item!r} must look like KEY=VALUE (e.g. env_args.map_name=8m).")
            key, text = item.split("=", 1)
            pairs.append((key.strip(), _parse_value(text.strip())))
        items = pairs
    out = copy.deepcopy(config)
    for dotted, value in items:
        keys = dotted.split(".")
        target = out
        for key in keys[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        target[keys[-1]] = value
    return out


def load_pymarl_config(
    alg: Source = "qmix",
    env: Source = "sc2",
    *,
    config_dir: Union[str, pathlib.Path, None] = None,
    default: Source = None,
    overrides: Union[Sequence[str], Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The merged pymarl config dict: ``default`` <- ``env`` <- ``alg`` <- ``overrides``.

    Args:
        alg: The algorithm config: a dict, a YAML path, or a name in ``config_dir/algs``.
        env: The env config: a dict, a YAML path, or a name in ``config_dir/envs``.
        config_dir: pymarl's ``src/config`` folder (for names, and its ``default.yaml``).
        default: The default config (default: ``config_dir/default.yaml`` if there is one).
        overrides: Command-line style overrides, applied last.
    """
    folder = pathlib.Path(config_dir).expanduser() if config_dir is not None else None
    if default is None and folder is not None and (folder / "default.yaml").is_file():
        default = folder / "default.yaml"
    merged = _read(default, folder, "", "default")
    merged = merge(merged, _read(env, folder, "envs", "env"))
    merged = merge(merged, _read(alg, folder, "algs", "algorithm"))
    return apply_overrides(merged, overrides)


def from_pymarl(
    alg: Source = "qmix",
    env: Source = "sc2",
    *,
    config_dir: Union[str, pathlib.Path, None] = None,
    default: Source = None,
    overrides: Union[Sequence[str], Mapping[str, Any]] = (),
    flavour: Optional[str] = None,
    backend: str = "lite",
):
    """A ``QMIXConfig`` from pymarl's or EPyMARL's config files (see the module docstring).

    .. testcode::

        config = from_pymarl("qmix", "sc2", config_dir="pymarl/src/config",
                             overrides=["env_args.map_name=8m"])
        algo = config.build_algo()

    Args:
        alg: The algorithm config (a dict, a YAML path, or a name in ``config_dir/algs``).
        env: The env config (a dict, a YAML path, or a name in ``config_dir/envs``).
        config_dir: pymarl's or EPyMARL's ``src/config`` folder.
        default: Their ``default.yaml`` (default: the one in ``config_dir``). Keys it would set
            and no file sets take pymarl's defaults (``QMIXConfig().preset("pymarl")``).
        overrides: ``with``-style overrides applied last (``["env_args.map_name=8m"]``).
        flavour: "pymarl" (RMSprop) or "epymarl" (Adam); default: "epymarl" if a file has one
            of EPyMARL's own keys, else "pymarl".
        backend: The SMAC backend for ``env: sc2``: "lite" (embedded simulator) or "sc2".

    Raises:
        ValueError: A key with no counterpart in QMIXConfig, or a value QMIX does not implement.
        FileNotFoundError: A config file that isn't there.
    """
    from rllib_qmix.algorithm.qmix import QMIXConfig

    cfg = load_pymarl_config(alg, env, config_dir=config_dir, default=default, overrides=overrides)
    if flavour is None:
        flavour = "epymarl" if any(k in cfg for k in EPYMARL_KEYS) else "pymarl"
    if flavour not in ("pymarl", "epymarl"):
        raise ValueError(f"flavour must be 'pymarl' or 'epymarl', got {flavour!r}.")
    unknown = sorted(k for k in cfg if k not in SAME and k not in REQUIRED and k not in RUN_KEYS and k not in _HANDLED)
    if unknown:
        raise ValueError(
            f"pymarl keys {unknown} have no counterpart in QMIXConfig; remove them (from_pymarl maps "
            f"{sorted(SAME)}, the env and run keys; docs/migrating.md has the table)."
        )
    for key, wanted in REQUIRED.items():
        if key in cfg and cfg[key] != wanted and not (key == "evaluation_epsilon" and cfg[key] == 0):
            raise ValueError(
                f"pymarl key {key}={cfg[key]!r}: QMIXConfig implements {key}={wanted!r} only (QMIX with a shared "
                "recurrent agent, epsilon-greedy over a common team reward); remove it or set it to that."
            )

    settings: dict[str, Any] = {"optimizer": "adam" if flavour == "epymarl" else "rmsprop"}
    if "optimizer" in cfg:
        settings["optimizer"] = str(cfg["optimizer"]).lower()
    for key, new in SAME.items():
        if key in cfg:
            settings[new] = cfg[key]
    mixer = cfg.get("mixer", "qmix")
    if mixer not in ("qmix", "vdn", None):
        raise ValueError(f"pymarl mixer={mixer!r} has no counterpart: QMIXConfig's mixers are 'qmix', 'vdn' and None.")
    settings["mixer"] = mixer
    runs = int(cfg.get("batch_size_run", 1) or 1)
    settings["updates_per_episode"] = 1.0 / runs  # one update per runner.run() of batch_size_run episodes
    batch = int(settings.get("episode_batch_size", 32))
    settings["learning_starts"] = batch  # pymarl learns once the buffer can sample a batch
    if "target_update_interval_or_tau" in cfg:  # EPyMARL: in learner updates, or a tau
        value = float(cfg["target_update_interval_or_tau"])
        if value > 1:
            settings.update(target_update_interval=int(round(value)), target_update_tau=None)
        else:
            settings.update(target_update_tau=value)
    elif "target_update_interval" in cfg:  # pymarl: in sampled episodes
        episodes = int(cfg["target_update_interval"])
        settings.update(target_update_interval=max(1, round(episodes / runs)), target_update_tau=None)
    env_name, env_config, state_from_obs = _env(cfg, backend)
    settings["state_from_obs"] = state_from_obs

    run_keys = {k: cfg[k] for k in RUN_KEYS if k in cfg}
    if run_keys:
        logger.warning(
            "from_pymarl: run settings that are not QMIXConfig settings, not applied: %s.",
            "; ".join(f"{k}={v!r} -> {RUN_KEYS[k]}" for k, v in run_keys.items()),
        )
    config = (
        QMIXConfig()
        .preset("pymarl")
        .training(**settings)
        .environment(env_name, env_config=env_config)
        .env_runners(num_envs_per_env_runner=runs)
    )
    if cfg.get("seed") is not None:
        config.debugging(seed=int(cfg["seed"]))
    return config


def _env(cfg: dict[str, Any], backend: str) -> tuple[str, dict[str, Any], bool]:
    """(our env name, its env_config, state_from_obs) for pymarl's ``env`` and ``env_args``."""
    name = cfg.get("env", "sc2")
    args = dict(cfg.get("env_args") or {})
    if name == "sc2":
        args.setdefault("map_name", "3m")
        timeout_is_terminal = not bool(args.get("continuing_episode", False))
        return "smac", {**args, "backend": backend, "timeout_is_terminal": timeout_is_terminal}, False
    if name == "gymma":
        key = args.pop("key", None)
        time_limit = args.pop("time_limit", None)
        args.pop("pretrained_wrapper", None)
        if args:
            raise ValueError(f"gymma env_args {sorted(args)} have no counterpart; remove them.")
        if not isinstance(key, str) or not key:
            raise ValueError("env: gymma needs env_args.key (e.g. 'lbforaging:Foraging-8x8-2p-3f-v3').")
        package, _, env_id = key.rpartition(":")
        if package in _GYMMA_PREFIXES or env_id.startswith(("Foraging", "rware")):
            ours = _GYMMA_PREFIXES.get(package) or ("lbf" if env_id.startswith("Foraging") else "rware")
            env_config = {"key": env_id}
            if time_limit is not None:
                env_config["time_limit"] = int(time_limit)
            return ours, env_config, True
        squashed = env_id.lower().removeprefix("pz-mpe-").rsplit("-v", 1)[0]
        if squashed in _MPE:
            return _MPE[squashed], {} if time_limit is None else {"max_cycles": int(time_limit)}, False
        raise ValueError(
            f"gymma env_args.key={key!r} has no counterpart: from_pymarl maps Level-Based Foraging "
            "('lbforaging:Foraging-...'), RWARE ('rware:rware-...') and MPE's simple_spread and "
            "simple_speaker_listener."
        )
    raise ValueError(
        f"pymarl env {name!r} has no counterpart: from_pymarl maps 'sc2' (SMAC) and EPyMARL's 'gymma' "
        "(LBF, RWARE, MPE); for another env, build the config with QMIXConfig().environment(...)."
    )


__all__ = ["apply_overrides", "from_pymarl", "load_pymarl_config", "merge"]
