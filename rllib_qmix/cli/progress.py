"""Live training output for the `rllib` CLI: one line per iteration, clean Ctrl-C.

``ProgressCallback`` is a Tune callback printing a compact line per training
iteration; ``CLIStopper`` applies the experiment's stop criteria (nested keys
as ``a/b``) and ends every trial after its current iteration once SIGINT was
received, so that Tune's ``checkpoint_at_end`` writes a final checkpoint.
"""

from __future__ import annotations

import difflib
import math
import numbers
import os
import signal
import sys
import threading
from typing import Any, Optional

from ray.tune import Callback
from ray.tune.stopper import Stopper
from ray.tune.utils import flatten_dict

# Set by the first SIGINT; module-level so that the stopper stays picklable.
_INTERRUPTED = threading.Event()


def _on_sigint(signum: int, frame: Any) -> None:
    _INTERRUPTED.set()
    print(
        "\nInterrupted: stopping after the current iteration and saving a "
        "checkpoint (press Ctrl-C again to abort without one).",
        file=sys.stderr,
        flush=True,
    )
    signal.signal(signal.SIGINT, signal.default_int_handler)


def install_sigint_handler() -> None:
    """Replaces Tune's SIGINT handling by ours (stop cleanly with a checkpoint)."""
    _INTERRUPTED.clear()
    os.environ["TUNE_DISABLE_SIGINT_HANDLER"] = "1"
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_sigint)


def interrupted() -> bool:
    """Whether SIGINT was received since :func:`install_sigint_handler`."""
    return _INTERRUPTED.is_set()


class CLIStopper(Stopper):
    """Stops a trial when any criterion ``metric >= value`` holds, or on SIGINT."""

    def __init__(self, criteria: dict[str, float]):
        self.criteria = dict(criteria)
        self._checked = False

    def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
        flat = flatten_dict(result, delimiter="/")
        if not self._checked:
            self._checked = True
            for key in self.criteria:
                # Evaluation metrics appear only in iterations that evaluate: no warning.
                if key not in flat and not key.startswith("evaluation/"):
                    match = difflib.get_close_matches(key, list(flat), n=1, cutoff=0.6)
                    hint = f" (did you mean '{match[0]}'?)" if match else ""
                    print(
                        f"warning: stop criterion '{key}' is not in the results{hint}; it will never stop the run",
                        file=sys.stderr,
                        flush=True,
                    )
        if _INTERRUPTED.is_set():
            return True
        for key, value in self.criteria.items():
            got = flat.get(key)
            if isinstance(got, numbers.Real) and not math.isnan(got) and got >= value:
                return True
        return False

    def stop_all(self) -> bool:
        return False


def _get(flat: dict[str, Any], *keys: str) -> Optional[float]:
    for key in keys:
        value = flat.get(key)
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            if not math.isnan(value):
                return float(value)
    return None


def _hms(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def format_line(flat: dict[str, Any], steps_per_s: Optional[float]) -> str:
    """One progress line from a flattened result dict."""
    parts = [f"iter {int(_get(flat, 'training_iteration') or 0):4d}"]
    steps = _get(flat, "num_env_steps_sampled_lifetime", "env_runners/num_env_steps_sampled_lifetime")
    if steps is not None:
        parts.append(f"steps {int(steps):>9,d}")
    ret = _get(flat, "env_runners/episode_return_mean")
    parts.append(f"return {ret:8.2f}" if ret is not None else "return      n/a")
    win = _get(flat, "env_runners/battle_won_mean")
    if win is not None:
        parts.append(f"win {100 * win:5.1f}%")
    length = _get(flat, "env_runners/episode_len_mean")
    if length is not None:
        parts.append(f"len {length:6.1f}")
    eps = _get(flat, "env_runners/epsilon")
    if eps is not None:
        parts.append(f"eps {eps:.3f}")
    eval_ret = _get(flat, "evaluation/env_runners/episode_return_mean")
    if eval_ret is not None:
        eval_win = _get(flat, "evaluation/env_runners/battle_won_mean")
        win_txt = f" win {100 * eval_win:5.1f}%" if eval_win is not None else ""
        parts.append(f"eval return {eval_ret:.2f}{win_txt}")
    if steps_per_s is not None:
        parts.append(f"{steps_per_s:7.0f} steps/s")
    parts.append(_hms(_get(flat, "time_total_s") or 0.0))
    return " | ".join(parts)


class ProgressCallback(Callback):
    """Prints one line per training iteration (and checkpoints, errors)."""

    def __init__(self, verbose: int = 0, stream: Any = None):
        self.verbose = verbose
        self.stream = stream
        self._last: dict[str, tuple] = {}
        self._num_trials = 0

    def _print(self, text: str, err: bool = False) -> None:
        stream = self.stream or (sys.stderr if err else sys.stdout)
        print(text, file=stream, flush=True)

    def _name(self, trial: Any) -> str:
        return str(trial)

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._num_trials = len(trials)
        self._print(f"[{self._name(trial)}] started, results in {trial.path}")

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict[str, Any], **info: Any) -> None:
        flat = flatten_dict(result, delimiter="/")
        steps = _get(flat, "num_env_steps_sampled_lifetime", "env_runners/num_env_steps_sampled_lifetime")
        total = _get(flat, "time_total_s")
        rate = None
        prev = self._last.get(trial.trial_id)
        if steps is not None and total is not None:
            d_steps = steps - (prev[0] if prev else 0.0)
            d_time = total - (prev[1] if prev else 0.0)
            rate = d_steps / d_time if d_time > 0 else None
            self._last[trial.trial_id] = (steps, total)
        self._print(f"[{self._name(trial)}] {format_line(flat, rate)}")

    def on_checkpoint(self, iteration: int, trials: list, trial: Any, checkpoint: Any, **info: Any) -> None:
        self._print(f"[{self._name(trial)}] checkpoint saved: {checkpoint.path}")

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._print(f"[{self._name(trial)}] finished")

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._print(f"[{self._name(trial)}] FAILED: see {trial.path}/error.txt", err=True)
