"""Classic RLlib config keys that Ray 2.60 renamed or dropped, translated for ``rllib train``.

Experiment YAML written for older RLlib uses keys that RLlib 2.60 refuses (``num_rollout_workers``,
``num_envs_per_worker``, ...) or silently ignores on its new API stack (``num_gpus``). Each is
translated to its 2.60 name with one warning line on stderr; keys with no counterpart
(``horizon``, ...) are refused naming what to do instead. For QMIX, old RLlib QMIX's own keys
(``train_batch_size``, ``target_network_update_freq``, ``exploration_config``, ...) are translated
too, by ``rllib_qmix.algorithm.old_rllib_keys`` (the same translation as ``QMIXConfig.update_from_dict``).
"""

from __future__ import annotations

import sys
import warnings
from typing import Any


class ClassicKeyError(ValueError):
    """A config key that can't be translated (``rllib train`` shows it as one error line)."""


#: Classic key -> its name in RLlib 2.60.
RENAMED = {
    "num_workers": "num_env_runners",
    "num_rollout_workers": "num_env_runners",
    "num_envs_per_worker": "num_envs_per_env_runner",
    "num_cpus_per_worker": "num_cpus_per_env_runner",
    "num_gpus_per_worker": "num_gpus_per_env_runner",
    "custom_resources_per_worker": "custom_resources_per_env_runner",
    "evaluation_num_workers": "evaluation_num_env_runners",
    "recreate_failed_workers": "restart_failed_env_runners",
    "ignore_worker_failures": "ignore_env_runner_failures",
    "num_consecutive_worker_failures_tolerance": "num_consecutive_env_runner_failures_tolerance",
    "worker_health_probe_timeout_s": "env_runner_health_probe_timeout_s",
    "worker_restore_timeout_s": "env_runner_restore_timeout_s",
    "validate_workers_after_construction": "validate_env_runners_after_construction",
    "num_learner_workers": "num_learners",
    "num_gpus_per_learner_worker": "num_gpus_per_learner",
    "num_cpus_per_learner_worker": "num_cpus_per_learner",
    "num_cpus_for_driver": "num_cpus_for_main_process",
    "metrics_smoothing_episodes": "metrics_num_episodes_for_smoothing",
    "min_iter_time_s": "min_time_s_per_iteration",
    "min_time_s_per_reporting": "min_time_s_per_iteration",
    "timesteps_per_iteration": "min_sample_timesteps_per_iteration",
    "min_sample_timesteps_per_reporting": "min_sample_timesteps_per_iteration",
    "min_train_timesteps_per_reporting": "min_train_timesteps_per_iteration",
    "sgd_minibatch_size": "minibatch_size",
    "num_sgd_iter": "num_epochs",
}
#: Classic keys with no counterpart in RLlib 2.60 -> what to do instead.
REMOVED = {
    "horizon": "limit episodes in the env itself (e.g. gymnasium's TimeLimit wrapper)",
    "soft_horizon": "limit episodes in the env itself (e.g. gymnasium's TimeLimit wrapper)",
    "no_done_at_end": "return `truncated` instead of `terminated` from the env at a time limit",
}


def _warn(message: str) -> None:
    print(f"rllib train: warning: {message}", file=sys.stderr, flush=True)


def translate_classic_keys(config: dict[str, Any], algo_cls: type, algo_name: str) -> dict[str, Any]:
    """``config`` with classic keys under their RLlib 2.60 names (and, for QMIX, old RLlib QMIX's
    keys translated), printing one warning line per translated key.

    Raises:
        ClassicKeyError: A key with no counterpart, a value that can't carry over, or a classic key
            given together with its new name.
    """
    out = dict(config)
    for old, reason in REMOVED.items():
        if old in out:
            raise ClassicKeyError(f"config key '{old}' was removed from RLlib: {reason}, and remove '{old}'")
    for old, new in RENAMED.items():
        if old not in out:
            continue
        if new in out:
            raise ClassicKeyError(f"config has both '{old}' and '{new}', its RLlib 2.60 name: remove '{old}'")
        out[new] = out.pop(old)
        _warn(f"'{old}' is '{new}' in RLlib 2.60; taken as {new}: {out[new]!r}")
    gpus = out.get("num_gpus")
    if gpus not in (None, 0):
        if "num_gpus_per_learner" in out or "num_learners" in out:
            raise ClassicKeyError("config has 'num_gpus' and 'num_learners'/'num_gpus_per_learner': remove 'num_gpus'")
        del out["num_gpus"]
        if gpus > 1:
            out.update(num_learners=int(gpus), num_gpus_per_learner=1)
        else:
            out["num_gpus_per_learner"] = gpus
        _warn(
            f"'num_gpus: {gpus}' (the old stack's learner GPUs) is ignored by RLlib 2.60's new stack; taken as "
            + ", ".join(f"{k}: {out[k]}" for k in ("num_learners", "num_gpus_per_learner") if k in out)
        )
    if any(c.__name__ == "QMIX" for c in getattr(algo_cls, "__mro__", ())):
        out = _translate_old_qmix_keys(out, algo_cls, algo_name)
    return out


def _translate_old_qmix_keys(config: dict[str, Any], algo_cls: type, algo_name: str) -> dict[str, Any]:
    from rllib_qmix.algorithm.old_rllib_keys import OldQMIXKeyWarning, translate_old_keys

    out = dict(config)
    optimizer = algo_cls.get_default_config().optimizer
    presets = getattr(algo_cls.get_default_config(), "PRESETS", {})
    optimizer = presets.get(out.get("preset"), {}).get("optimizer", optimizer)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", OldQMIXKeyWarning)
        try:
            new = translate_old_keys(out, optimizer)
        except ValueError as e:
            raise ClassicKeyError(f"invalid config for {algo_name}: {e}") from None
    for warning in caught:
        if issubclass(warning.category, OldQMIXKeyWarning):
            _warn(f"old RLlib QMIX key: {warning.message}")
        else:  # pragma: no cover - another library's warning: shown as it would be
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return {**out, **new}


__all__ = ["REMOVED", "RENAMED", "ClassicKeyError", "translate_classic_keys"]
