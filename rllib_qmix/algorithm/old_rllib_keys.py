"""Old RLlib QMIX's config keys, translated to QMIXConfig's settings with their old meaning.

RLlib's own QMIX (``ray.rllib.algorithms.qmix.QMixConfig``, gone from Ray since late 2024) was configured
with keys this package names differently or counts in other units. ``translate_old_keys``
turns them into QMIXConfig settings, one warning (``OldQMIXKeyWarning``) per key naming the
setting it becomes, or raises a ``ValueError`` naming the setting to use where the old meaning
cannot carry over. ``QMIXConfig.update_from_dict``, ``training``, ``exploration`` and
``rollouts`` call it, so Python configs, Tune param spaces and ``rllib train`` YAML all take the
old keys.

Old QMIX's meanings (its ``QMixConfig``, ``QMixTorchPolicy`` and ``QMix.training_step``):

- ``train_batch_size``: each update sampled stored fragments of whole episodes until the batch
  held at least this many env steps -> ``train_batch_env_steps``.
- ``target_network_update_freq``: the target networks were copied when this many env steps had
  been sampled since the last copy -> ``target_update_env_steps``.
- ``optim_alpha``, ``optim_eps``: its optimizer was always RMSprop (alpha, eps) -> the same
  settings with ``optimizer="rmsprop"`` (this package's default is Adam).
- ``exploration_config``: EpsilonGreedy's ``initial_epsilon``, ``final_epsilon``,
  ``epsilon_timesteps`` (env steps) -> ``epsilon_start``, ``epsilon_finish``,
  ``epsilon_anneal_steps``.
- ``replay_buffer_config["capacity"]`` -> ``replay_capacity`` (episodes).
- ``model["lstm_cell_size"]`` -> ``agent_hidden_dim``; ``model["max_seq_len"]``: whole episodes
  only (its default, 999999).
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

#: Old QMIX's ``max_seq_len`` default: episodes were never cut into shorter sequences.
WHOLE_EPISODES_SEQ_LEN = 999999
#: RLlib's "not set" marker for deprecated settings (``ray.rllib.utils.deprecation.DEPRECATED_VALUE``).
_DEPRECATED = -1
#: Keys only old QMIX had (not settings of QMIXConfig): a config with one of them is an old one.
OLD_ONLY_KEYS = (
    "train_batch_size",
    "target_network_update_freq",
    "replay_buffer_config",
    "exploration_config",
    "model",
    "simple_optimizer",
    "grad_norm_clipping",
    "lr_schedule",
    "store_buffer_in_checkpoints",
    "num_steps_sampled_before_learning_starts",
    "tau",
    "adam_epsilon",
)
#: The translated keys of ``training(...)`` (the rest go to ``exploration`` and ``rollouts``).
OLD_TRAINING_KEYS = tuple(k for k in OLD_ONLY_KEYS if k != "exploration_config")
_EPSILON_KEYS = {
    "initial_epsilon": "epsilon_start",
    "final_epsilon": "epsilon_finish",
    "epsilon_timesteps": "epsilon_anneal_steps",
}
_REPLAY_TYPES = ("ReplayBuffer", "MultiAgentReplayBuffer", "EpisodeReplayBuffer", "MultiAgentEpisodeReplayBuffer")
#: Old ``rollouts(...)`` arguments -> ``env_runners(...)`` arguments.
ROLLOUTS_KEYS = {
    "num_rollout_workers": "num_env_runners",
    "num_workers": "num_env_runners",
    "num_envs_per_worker": "num_envs_per_env_runner",
    "rollout_fragment_length": "rollout_fragment_length",
    "batch_mode": "batch_mode",
    "remote_worker_envs": "remote_worker_envs",
    "sample_timeout_s": "sample_timeout_s",
}


class OldQMIXKeyWarning(UserWarning):
    """A key of old RLlib QMIX was translated to this package's setting (the message names it)."""


def warn(message: str) -> None:
    """Emits one ``OldQMIXKeyWarning``, attributed to the first caller outside this package."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    level, frame = 2, sys._getframe(1)  # stacklevel 2 is warn()'s caller
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, OldQMIXKeyWarning, stacklevel=level)


def is_old_config(settings: dict[str, Any]) -> bool:
    """Whether ``settings`` holds a key only old RLlib QMIX had (its empty defaults aside)."""
    return any(_given(k, settings[k]) for k in OLD_ONLY_KEYS if k in settings)


def _given(key: str, value: Any) -> bool:
    """False for the values RLlib itself leaves in a config dict (no user setting)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value == _DEPRECATED):
        return False
    if key == "exploration_config" and value == {}:
        return False
    if key == "model":
        from ray.rllib.models.catalog import MODEL_DEFAULTS

        return value != MODEL_DEFAULTS and bool(value)
    return True


def _positive_int(key: str, value: Any, new: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 1 or int(value) != value:
        raise ValueError(f"`{key}` must be a positive integer, got {value!r} (it becomes `{new}`).")
    return int(value)


def translate_old_keys(settings: dict[str, Any], optimizer: str) -> dict[str, Any]:
    """Pops old RLlib QMIX's keys from ``settings`` and returns the QMIXConfig settings they
    become (warning once per key); ``optimizer`` is the config's optimizer now.

    Raises:
        ValueError: A key whose meaning can't carry over, a malformed value, or an old key given
            together with the setting it becomes.
    """
    old = is_old_config(settings) or "optim_alpha" in settings
    out: dict[str, Any] = {}
    for key in OLD_ONLY_KEYS:
        if key not in settings:
            continue
        value = settings.pop(key)
        if _given(key, value):
            for new_key, new_value in _translate(key, value).items():
                if new_key in settings or new_key in out:
                    raise ValueError(
                        f"Both `{key}` (old RLlib QMIX) and `{new_key}`, which it becomes, are set: remove `{key}`."
                    )
                out[new_key] = new_value
    switch = [k for k in ("optim_alpha", "optim_eps") if k in settings]
    if old and switch and "optimizer" not in settings and optimizer != "rmsprop":
        out["optimizer"] = "rmsprop"
        keys = " and ".join(f"`{k}`" for k in switch)
        what = "these are RMSprop's settings" if len(switch) > 1 else "it is an RMSprop setting"
        warn(
            f"{keys}: old RLlib QMIX always trained with RMSprop and {what}; kept, with `optimizer='rmsprop'` "
            "(this package's default optimizer is Adam)."
        )
    return out


def _translate(key: str, value: Any) -> dict[str, Any]:
    """One old key's new settings (after its warning), or a ValueError."""
    if key == "train_batch_size":
        n = _positive_int(key, value, "train_batch_env_steps")
        warn(
            f"`train_batch_size={n}` becomes `train_batch_env_steps={n}`: each learner batch holds whole episodes, "
            "drawn until it has at least that many env steps, as old RLlib QMIX counted it (`episode_batch_size` "
            "counts episodes instead)."
        )
        return {"train_batch_env_steps": n}
    if key == "target_network_update_freq":
        n = _positive_int(key, value, "target_update_env_steps")
        warn(
            f"`target_network_update_freq={n}` becomes `target_update_env_steps={n}`: the target networks are "
            "copied once that many env steps were sampled since the last copy, as in old RLlib QMIX "
            "(`target_update_interval` counts learner updates instead)."
        )
        return {"target_update_env_steps": n}
    if key == "grad_norm_clipping":
        warn(f"`grad_norm_clipping={value}` becomes `grad_clip={value}` (the global gradient norm, as before).")
        return {"grad_clip": value}
    if key == "exploration_config":
        return _exploration(value)
    if key == "replay_buffer_config":
        return _replay(value)
    if key == "model":
        return _model(value)
    if key == "simple_optimizer":
        warn(
            f"`simple_optimizer={value}` has no counterpart: it chose how old RLlib stepped the optimizer, with the "
            "same result. Where and how updates run is `learners(num_learners=..., num_gpus_per_learner=...)`."
        )
        return {}
    if key == "lr_schedule":
        if not isinstance(value, (list, tuple)) or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in value):
            raise ValueError(f"`lr_schedule` must be a list of [env_step, lr] pairs, got {value!r}.")
        schedule = [[int(t), float(v)] for t, v in value]
        warn(f"`lr_schedule={schedule}` becomes `lr={schedule}` (RLlib's schedule over sampled env steps, as before).")
        return {"lr": schedule}
    if key == "store_buffer_in_checkpoints":
        warn(f"`store_buffer_in_checkpoints={value}` becomes `store_replay_buffer_in_checkpoints={value}`.")
        return {"store_replay_buffer_in_checkpoints": bool(value)}
    if key == "tau":
        if value != 1.0:
            raise ValueError(
                f"`tau={value}`: old RLlib QMIX ignored `tau` (it always copied the target networks). For soft "
                "target updates set `target_update_tau`; remove `tau`."
            )
        warn("`tau=1.0`: old RLlib QMIX copied the target networks, as this package does (`target_update_tau=None`).")
        return {}
    if key == "num_steps_sampled_before_learning_starts":
        raise ValueError(
            f"`num_steps_sampled_before_learning_starts={value}` counts env steps; this package starts learning "
            "after `learning_starts` stored episodes: set `learning_starts` and remove the old key."
        )
    if key == "adam_epsilon":
        raise ValueError(
            f"`adam_epsilon={value}`: old RLlib QMIX never used it (it trained with RMSprop). For Adam set "
            "`optimizer='adam'` and its epsilon `optim_eps`; remove `adam_epsilon`."
        )
    raise AssertionError(key)  # pragma: no cover - every OLD_ONLY_KEYS entry is handled above


def _exploration(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"`exploration_config` must be a dict, got {value!r}.")
    kind = value.get("type", "EpsilonGreedy")
    name = kind if isinstance(kind, str) else getattr(kind, "__name__", repr(kind))
    if name.rsplit(".", 1)[-1] != "EpsilonGreedy":
        raise ValueError(
            f"`exploration_config` of type {name!r}: QMIX explores epsilon-greedily only, set with "
            "`epsilon_start`, `epsilon_finish` and `epsilon_anneal_steps`; remove `exploration_config`."
        )
    unknown = sorted(set(value) - set(_EPSILON_KEYS) - {"type", "warmup_timesteps"})
    if unknown or value.get("warmup_timesteps", 0):
        what = unknown or ["warmup_timesteps"]
        raise ValueError(
            f"`exploration_config` keys {what} have no counterpart: QMIX's epsilon anneals linearly from "
            "`epsilon_start` to `epsilon_finish` over `epsilon_anneal_steps` env steps; remove them."
        )
    out = {new: value[old] for old, new in _EPSILON_KEYS.items() if old in value}
    if out:
        pairs = ", ".join(f"`{new}={value[old]}`" for old, new in _EPSILON_KEYS.items() if old in value)
        warn(f"`exploration_config` (EpsilonGreedy, over env steps) becomes {pairs}.")
    return out


def _replay(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"`replay_buffer_config` must be a dict, got {value!r}.")
    kind = value.get("type", "ReplayBuffer")
    name = (kind if isinstance(kind, str) else getattr(kind, "__name__", repr(kind))).rsplit(".", 1)[-1]
    if name not in _REPLAY_TYPES or value.get("prioritized_replay") is True:
        raise ValueError(
            f"`replay_buffer_config` of type {name!r}: QMIX's episode replay samples uniformly "
            "(`replay_capacity` episodes); remove `replay_buffer_config`."
        )
    unit = value.get("storage_unit", "fragments")
    if unit not in ("fragments", "episodes"):
        raise ValueError(
            f"`replay_buffer_config` with storage_unit={unit!r}: QMIX stores whole episodes; set "
            "`replay_capacity` in episodes and remove `replay_buffer_config`."
        )
    for key in ("learning_starts", "min_size_for_sampling", "num_steps_sampled_before_learning_starts"):
        if value.get(key):
            raise ValueError(
                f"`replay_buffer_config['{key}']={value[key]}` counts env steps; this package starts learning after "
                "`learning_starts` stored episodes: set `learning_starts` instead."
            )
    ignored = {"type", "storage_unit", "capacity", "prioritized_replay", "worker_side_prioritization"}
    ignored |= {"learning_starts", "min_size_for_sampling", "num_steps_sampled_before_learning_starts"}
    unknown = sorted(k for k in set(value) - ignored if value[k] not in (None, _DEPRECATED))
    if unknown or value.get("worker_side_prioritization"):
        raise ValueError(
            f"`replay_buffer_config` keys {unknown or ['worker_side_prioritization']} have no counterpart in QMIX's "
            "episode replay (`replay_capacity`); remove them."
        )
    if "capacity" not in value:
        return {}
    n = _positive_int("replay_buffer_config['capacity']", value["capacity"], "replay_capacity")
    per = "fragments of whole episodes, each at least one episode" if unit == "fragments" else "episodes"
    warn(f"`replay_buffer_config['capacity']={n}` becomes `replay_capacity={n}` episodes (old QMIX counted {per}).")
    return {"replay_capacity": n}


def _model(value: Any) -> dict[str, Any]:
    from ray.rllib.models.catalog import MODEL_DEFAULTS

    if not isinstance(value, dict):
        raise ValueError(f"`model` must be a dict, got {value!r}.")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "lstm_cell_size":
            n = _positive_int("model['lstm_cell_size']", item, "agent_hidden_dim")
            warn(f"`model['lstm_cell_size']={n}` becomes `agent_hidden_dim={n}` (the agent's GRU width).")
            out["agent_hidden_dim"] = n
        elif key == "max_seq_len":
            if item != WHOLE_EPISODES_SEQ_LEN:
                raise ValueError(
                    f"`model['max_seq_len']={item}`: QMIX trains on whole episodes (old RLlib QMIX's default "
                    f"{WHOLE_EPISODES_SEQ_LEN}) and can't cut them into shorter sequences; remove it."
                )
            warn(f"`model['max_seq_len']={item}`: whole episodes, which is what QMIX always trains on.")
        elif key in ("n_agents", "full_obs_space"):  # set by old QMIX itself, not by users
            continue
        elif item != MODEL_DEFAULTS.get(key, object()):
            raise ValueError(
                f"`model['{key}']` has no counterpart: QMIX's agent network is a DRQN set with `agent_hidden_dim`, "
                "`obs_agent_id` and `obs_last_action`; remove it."
            )
    return out


__all__ = ["OLD_ONLY_KEYS", "OldQMIXKeyWarning", "ROLLOUTS_KEYS", "is_old_config", "translate_old_keys"]
