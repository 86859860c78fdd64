"""Live training output for the `rllib` CLI, and a clean Ctrl-C.

``ProgressCallback`` is a Tune callback. On a terminal it keeps one live progress bar per
trial (tqdm), updated in place: env steps toward the stop criterion, iteration, return,
training and last greedy win rate, steps/s and ETA. Not on a terminal (CI, ``nohup``, a
pipe) it prints one line every ``log_interval_s`` seconds and one at every evaluation. With
``--verbose`` it prints a line per iteration. ``CLIStopper`` applies the experiment's stop
criteria (nested keys as ``a/b``) and ends every trial after its current iteration once
SIGINT was received, so that Tune's ``checkpoint_at_end`` writes a final checkpoint.
"""

from __future__ import annotations

import difflib
import io
import math
import numbers
import os
import signal
import sys
import threading
import time
from typing import Any, Optional

from ray.tune import Callback
from ray.tune.stopper import Stopper
from ray.tune.utils import flatten_dict

from rllib_qmix import budget

# Set by the first SIGINT; module-level so that the stopper stays picklable.
_INTERRUPTED = threading.Event()
#: Why the stopper ended each trial (trial id -> reason), for the end-of-run line.
STOP_REASONS: dict[str, str] = {}
#: The stop criteria of the command running now (see ``CLIStopper.__setstate__``).
_CURRENT_STOP: dict[str, dict[str, float]] = {}


def _on_sigint(signum: int, frame: Any) -> None:
    from rllib_qmix.cli import pending

    _INTERRUPTED.set()
    if not pending.any_trial_started():
        message = "\nInterrupted before any trial started: stopping now."
    else:
        message = (
            "\nInterrupted: stopping after the current iteration and saving a "
            "checkpoint (press Ctrl-C again to abort without one)."
        )
    print(message, file=sys.stderr, flush=True)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def set_current_stop(criteria: dict[str, float], max_iterations: Optional[int] = None) -> None:
    """Registers the stop criteria (and iteration cap) of the command running now (for a
    resumed stopper)."""
    _CURRENT_STOP["criteria"] = dict(criteria)
    _CURRENT_STOP["max_iterations"] = max_iterations


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
    """Stops a trial when any criterion ``metric >= value`` holds, or on SIGINT.

    Tune saves the stopper in its experiment state and, on a resume, uses the saved one; a
    stopper unpickled while a command runs applies that command's criteria (``--resume`` runs
    to the stop given now), which :func:`set_current_stop` registers.
    """

    def __init__(self, criteria: dict[str, float], max_iterations: Optional[int] = None):
        self.criteria = dict(criteria)
        self.max_iterations = max_iterations
        self._checked = False
        self._first: dict[str, int] = {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "criteria" in _CURRENT_STOP:
            self.criteria = dict(_CURRENT_STOP["criteria"])
            self.max_iterations = _CURRENT_STOP.get("max_iterations")
            self._checked = False
            self._first = {}

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
            STOP_REASONS[trial_id] = "stopped by Ctrl-C"
            return True
        it = flat.get("training_iteration")
        if self.max_iterations is not None and isinstance(it, numbers.Real):
            first = self._first.setdefault(trial_id, int(it))  # this command's first iteration
            if int(it) - first + 1 >= self.max_iterations:
                STOP_REASONS[trial_id] = f"{budget.ENV_VAR}={self.max_iterations} iterations in this command"
                return True
        for key, value in self.criteria.items():
            got = flat.get(key)
            if isinstance(got, numbers.Real) and not math.isnan(got) and got >= value:
                STOP_REASONS[trial_id] = f"reached the stop {key} >= {value:g} ({_number(got)})"
                return True
        return False

    def stop_all(self) -> bool:
        """Ends the whole run when its trials can't be placed, or on Ctrl-C before any started."""
        from rllib_qmix.cli import pending

        if pending.placement_failure() is not None:
            return True
        return _INTERRUPTED.is_set() and not pending.any_trial_started()


def _get(flat: dict[str, Any], *keys: str) -> Optional[float]:
    for key in keys:
        value = flat.get(key)
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            if not math.isnan(value):
                return float(value)
    return None


def _number(value: float) -> str:
    return f"{int(value):,d}" if float(value).is_integer() else f"{value:.4g}"


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
    confirmed_ret = _get(flat, "evaluation/confirmed/env_runners/episode_return_mean")
    if confirmed_ret is not None:
        n = _get(flat, "evaluation/confirmed/env_runners/num_episodes")
        confirmed_win = _get(flat, "evaluation/confirmed/env_runners/battle_won_mean")
        win_txt = f" win {100 * confirmed_win:5.1f}%" if confirmed_win is not None else ""
        parts.append(f"confirmed over {int(n or 0)}: return {confirmed_ret:.2f}{win_txt}")
    if steps_per_s is not None:
        parts.append(f"{steps_per_s:7.0f} steps/s")
    parts.append(f"elapsed {_hms(_get(flat, 'time_total_s') or 0.0)}")
    return " | ".join(parts)


#: Result keys that count env steps, the unit of a progress bar when a stop criterion uses one.
_STEP_KEYS = ("num_env_steps_sampled_lifetime", "env_runners/num_env_steps_sampled_lifetime")
_BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]{postfix}"
#: Seconds between two progress lines when the output is not a terminal.
LOG_INTERVAL_S = 10.0


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _has_size(stream: Any) -> bool:
    """Whether the terminal behind ``stream`` reports a usable size."""
    try:
        size = os.get_terminal_size(stream.fileno())
        return size.columns >= 40 and size.lines >= 2
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False


class _Bar:
    """One trial's live bar: env steps (or iterations) toward the stop criterion."""

    def __init__(self, name: str, stop: dict[str, float], stream: Any, position: int) -> None:
        from tqdm import tqdm

        sized = _has_size(stream)
        self.steps_key = next((k for k in _STEP_KEYS if k in stop), None)
        self.iter_key = "training_iteration" if "training_iteration" in stop else None
        if self.steps_key is not None:
            total, unit = stop[self.steps_key], "step"
        elif self.iter_key is not None:
            total, unit = stop[self.iter_key], "it"
        else:
            total, unit = None, "step"
        self.bar = tqdm(
            total=total,
            desc=name,
            unit=unit,
            unit_scale=unit == "step",
            file=stream,
            position=position,
            leave=True,
            # Follow the terminal's size, unless it reports none (a pty without a size, where
            # tqdm would draw a zero-width bar and hide every bar below row 0).
            dynamic_ncols=sized,
            ncols=None if sized else 160,
            nrows=None if sized else 50,
            smoothing=0.1,
            bar_format=_BAR_FORMAT if total else None,
        )

    def update(self, flat: dict[str, Any], last_eval: Optional[str]) -> None:
        """Moves the bar to this result and shows its summary (and the last greedy win rate)."""
        if self.iter_key is not None and self.steps_key is None:
            done = _get(flat, "training_iteration")
        else:
            done = _get(flat, *_STEP_KEYS)
        postfix = _postfix(flat) + (f" eval {last_eval}" if last_eval is not None else "")
        self.bar.set_postfix_str(postfix, refresh=False)
        if done is not None:
            done = int(done) if self.bar.total is None else min(int(done), int(self.bar.total))
            if done > self.bar.n:
                self.bar.update(done - self.bar.n)  # tqdm's smoothed rate and ETA follow
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def _eval_summary(flat: dict[str, Any]) -> str:
    """The greedy evaluation in ``flat``: win rate (where there is one) and return, with when."""
    parts = []
    win = _get(flat, "evaluation/env_runners/battle_won_mean")
    if win is not None:
        parts.append(f"win rate {100 * win:.1f}%")
    ret = _get(flat, "evaluation/env_runners/episode_return_mean")
    if ret is not None:
        parts.append(f"return {ret:.2f}")
    it = _get(flat, "training_iteration")
    return ", ".join(parts) + (f" (iteration {int(it)})" if it is not None else "")


def _postfix(flat: dict[str, Any]) -> str:
    """The bar's short summary: iteration, return, training and greedy win rate."""
    parts = [f"iter {int(_get(flat, 'training_iteration') or 0)}"]
    ret = _get(flat, "env_runners/episode_return_mean")
    if ret is not None:
        parts.append(f"return {ret:.2f}")
    win = _get(flat, "env_runners/battle_won_mean")
    if win is not None:
        parts.append(f"win {100 * win:.0f}%")
    return " ".join(parts)


class ProgressCallback(Callback):
    """Training progress: a live bar on a terminal, else a line every ~10 s and per evaluation.

    Args:
        verbose: 1 or more prints a line per iteration (and no bar).
        stream: Where to write (default stdout; errors go to stderr).
        stop: The experiment's stop criteria (the bar counts toward their env steps).
        log_interval_s: Seconds between lines when ``stream`` is not a terminal.
    """

    def __init__(
        self,
        verbose: int = 0,
        stream: Any = None,
        stop: Optional[dict[str, float]] = None,
        log_interval_s: float = LOG_INTERVAL_S,
    ):
        self.verbose = verbose
        self.stream = stream
        self.stop = dict(stop or {})
        self.log_interval_s = log_interval_s
        self._last: dict[str, tuple] = {}
        self._last_line_at: dict[str, float] = {}
        self._last_eval: dict[str, str] = {}
        self._eval_seen: dict[str, Optional[float]] = {}
        self._eval_summary: dict[str, str] = {}
        self._final: dict[str, dict[str, Any]] = {}
        self._bars: dict[str, _Bar] = {}

    @property
    def _out(self) -> Any:
        return self.stream or sys.stdout

    def _mode(self) -> str:
        if self.verbose:
            return "lines"
        return "bar" if _is_terminal(self._out) else "log"

    def _print(self, text: str, err: bool = False) -> None:
        stream = self.stream or (sys.stderr if err else sys.stdout)
        if self._bars and _is_terminal(stream):
            from tqdm import tqdm

            tqdm.write(text, file=stream)
        else:
            print(text, file=stream, flush=True)

    def _name(self, trial: Any) -> str:
        return str(trial)

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._print(f"[{self._name(trial)}] started, results in {trial.path}")
        if self._mode() == "bar":
            self._bars[trial.trial_id] = _Bar(self._name(trial), self.stop, self._out, len(self._bars))

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict[str, Any], **info: Any) -> None:
        flat = flatten_dict(result, delimiter="/")
        key = trial.trial_id
        rate = self._rate(key, flat)
        self._final[key] = flat
        evaluated = self._new_evaluation(key, flat, getattr(trial, "config", None))
        if evaluated:
            win = _get(flat, "evaluation/env_runners/battle_won_mean")
            self._last_eval[key] = f"{100 * win:.0f}%" if win is not None else "done"
            self._eval_summary[key] = _eval_summary(flat)
        mode = self._mode()
        if mode == "bar":
            bar = self._bars.get(key)
            if bar is not None:
                bar.update(flat, self._last_eval.get(key))
            return
        now = time.monotonic()
        due = now - self._last_line_at.get(key, -float("inf")) >= self.log_interval_s
        if mode == "lines" or evaluated or due:
            self._last_line_at[key] = now
            self._print(f"[{self._name(trial)}] {format_line(flat, rate)}")

    def _new_evaluation(self, key: str, flat: dict[str, Any], config: Any = None) -> bool:
        """Whether this result carries an evaluation not seen before.

        RLlib evaluates in the iterations that are multiples of ``evaluation_interval`` and
        repeats (and re-counts) the last evaluation's metrics in the next result, so with the
        trial's ``evaluation_interval`` known only those iterations count. Without it, the
        lifetime count of evaluation episodes (or env steps) tells a new evaluation from a
        repeated one.
        """
        if _get(flat, "evaluation/env_runners/episode_return_mean") is None:
            return False
        interval = config.get("evaluation_interval") if isinstance(config, dict) else None
        it = _get(flat, "training_iteration")
        if isinstance(interval, int) and not isinstance(interval, bool) and interval > 0 and it is not None:
            return int(it) % interval == 0
        count = _get(
            flat,
            "evaluation/env_runners/num_episodes_lifetime",
            "evaluation/env_runners/num_env_steps_sampled_lifetime",
        )
        if count is not None and self._eval_seen.get(key) == count:
            return False
        self._eval_seen[key] = count
        return True

    def _rate(self, key: str, flat: dict[str, Any]) -> Optional[float]:
        """Env steps per second since the previous result of this trial; for a trial's first
        result in this run (a new trial, or a resumed one whose counters start where the
        checkpoint left them), over that iteration alone."""
        steps = _get(flat, *_STEP_KEYS)
        total = _get(flat, "time_total_s")
        if steps is None or total is None:
            return None
        prev = self._last.get(key)
        self._last[key] = (steps, total)
        if prev is None:
            d_steps = _get(flat, "env_runners/num_env_steps_sampled", "num_env_steps_sampled")
            d_time = _get(flat, "time_this_iter_s")
            if d_steps is None or d_time is None:
                return None
        else:
            d_steps, d_time = steps - prev[0], total - prev[1]
        return d_steps / d_time if d_time > 0 else None

    def _close_bar(self, trial: Any) -> None:
        bar = self._bars.pop(trial.trial_id, None)
        if bar is not None:
            bar.close()

    def on_checkpoint(self, iteration: int, trials: list, trial: Any, checkpoint: Any, **info: Any) -> None:
        self._print(f"[{self._name(trial)}] checkpoint saved: {checkpoint.path}")

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._close_bar(trial)
        self._print(f"[{self._name(trial)}] finished{self._end_summary(trial.trial_id)}")

    def _end_summary(self, key: str) -> str:
        """Where the trial ended, why, and its last greedy evaluation."""
        flat = self._final.get(key)
        if flat is None:
            return ""
        where = f" at iteration {int(_get(flat, 'training_iteration') or 0)}"
        steps = _get(flat, *_STEP_KEYS)
        if steps is not None:
            where += f", {int(steps):,d} env steps"
        reason = STOP_REASONS.get(key)
        text = where + (f": {reason}" if reason else "")
        evaluation = self._eval_summary.get(key)
        return text + (f"; last greedy evaluation: {evaluation}" if evaluation else "; no greedy evaluation ran")

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._close_bar(trial)
        self._print(f"[{self._name(trial)}] FAILED: see {trial.path}/error.txt", err=True)
