"""Trials that never start: the ``rllib`` CLI says why instead of waiting without a word.

Before a Tune run, :func:`check_trial_placement` refuses a trial the cluster can never place (a
GPU config on a machine without one, more env runners than cores), unless the cluster
autoscales. During the run, :class:`PendingWatchdog` (a Tune callback) notices when no trial
has started for :data:`~rllib_qmix.algorithm.placement.PLACEMENT_TIMEOUT_S` seconds (the
resources exist but something else holds them, e.g. another run on a shared cluster) and ends
the run with that reason; ``CLIStopper.stop_all`` reads it. A Ctrl-C while no trial has
started ends the run at once too: there is no iteration to wait for.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Optional

from ray.tune import Callback

from rllib_qmix.algorithm import placement
from rllib_qmix.algorithm.placement import Ask, ClusterView, cluster_can_autoscale, infeasible, unavailable

# Module-level so that the stopper (pickled with Tune's experiment state) stays picklable.
_STARTED = threading.Event()
_FAILED: dict[str, str] = {}


def reset() -> None:
    """Forgets the previous run's state (one CLI process may run several experiments)."""
    _STARTED.clear()
    _FAILED.clear()


def any_trial_started() -> bool:
    """Whether some trial of the current run has started (got its resources)."""
    return _STARTED.is_set()


def placement_failure() -> Optional[str]:
    """Why the current run ended because its trials could not be placed (None if it didn't)."""
    return _FAILED.get("message")


def check_trial_placement(asks: list[Ask], name: str) -> Optional[str]:
    """The reason a trial asking for ``asks`` can never be placed on this cluster (None if it
    can, or if the cluster autoscales: then it says it waits for new nodes)."""
    problem = infeasible(asks, ClusterView.now())
    if problem is None:
        return None
    if cluster_can_autoscale():
        print(f"{name}: waiting for the autoscaler to add nodes: {problem}", file=sys.stderr, flush=True)
        return None
    return f"a trial of {name} can't be placed: {problem}"


def own_placement_ready() -> bool:
    """Whether a placement group of this driver's job has its resources (Tune has placed a
    trial and Ray is starting it): then the resources are held by this run, not by another.
    A placement group's id ends with the id of the job that created it."""
    import ray

    job = ray.get_runtime_context().get_job_id()
    try:
        table = ray.util.placement_group_table()
    except Exception:  # no table: assume not (the watchdog then goes by free resources only)
        return False
    return any(pg_id.endswith(job) and pg.get("state") == "CREATED" for pg_id, pg in table.items())


class PendingWatchdog(Callback):
    """Ends a Tune run whose trials have all stayed pending for ``timeout_s`` seconds.

    Args:
        asks: What one trial asks for (``placement.worker_asks(..., main_process=True)``).
        name: The experiment's name, for the message.
        timeout_s: Seconds to wait (default ``placement.PLACEMENT_TIMEOUT_S``).
    """

    def __init__(self, asks: list[Ask], name: str, timeout_s: Optional[float] = None) -> None:
        self.asks = list(asks)
        self.name = name
        self.timeout_s = timeout_s
        self._since: Optional[float] = None
        self._told = False

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        _STARTED.set()

    def on_step_end(self, iteration: int, trials: list, **info: Any) -> None:
        if _STARTED.is_set() or _FAILED or not trials:
            return
        if any(t.status != "PENDING" for t in trials):
            _STARTED.set()
            return
        now = time.monotonic()
        if self._since is None:
            self._since = now
        timeout_s = placement.PLACEMENT_TIMEOUT_S if self.timeout_s is None else self.timeout_s
        waited = now - self._since
        if waited < min(5.0, timeout_s) or (self._told and waited < timeout_s):
            return
        problem = unavailable(self.asks, ClusterView.now())
        if problem is None or own_placement_ready():  # free, or held for a trial of ours: Ray is
            self._since = now  # starting it (a restore, or a loaded machine, can take a while)
            return
        if cluster_can_autoscale():
            if not self._told:
                print(f"{self.name}: waiting for resources (the cluster autoscales): {problem}", file=sys.stderr)
                self._told = True
            return
        if waited >= timeout_s:
            _FAILED["message"] = f"no trial of {self.name} could start within {timeout_s:g} s: {problem}"
        elif not self._told:
            self._told = True
            print(f"{self.name}: waiting up to {timeout_s:g} s for resources: {problem}", file=sys.stderr, flush=True)
