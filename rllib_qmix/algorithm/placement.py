"""Can the cluster place what an algorithm asks for? One clear error instead of a silent wait.

RLlib creates its env runners and learners as Ray actors and waits for them without a limit:
when the cluster can't give them CPUs or GPUs (a GPU config on a machine without one, more env
runners than cores, or a first algorithm that still holds the cores when a second one is built),
``config.build_algo()`` and ``Algorithm.from_checkpoint`` wait forever without a word, and a
Tune trial stays PENDING. This module works out what a config asks for (as RLlib's own
``default_resource_request`` counts it), compares it with what the cluster has, and raises a
:class:`PlacementError` that says what was asked, what is free, and the likely cause:

- more than the cluster has in all: at once, unless the cluster can autoscale (then it waits
  for new nodes, saying so);
- less than the cluster has but more than is free: after :data:`PLACEMENT_TIMEOUT_S` seconds
  of waiting for it to come free (another algorithm still holds it: ``algo.stop()``).

``QMIX.setup`` runs :func:`check_placement` before it creates any actor (not inside a Tune
trial, whose placement group already holds everything); the ``rllib`` CLI runs
:func:`trial_placement_problem` before a Tune run and watches for trials that stay pending.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

#: Seconds to wait for resources that exist but are held (e.g. by another algorithm) before
#: giving up with a :class:`PlacementError`.
PLACEMENT_TIMEOUT_S = 30.0
#: Ray's resources that are not CPUs, GPUs or custom resources a config can ask for.
_BOOKKEEPING = ("memory", "object_store_memory")


class PlacementError(RuntimeError):
    """The cluster can't place an algorithm's env runners or learners: what was asked, what
    is free, and the likely cause."""


@dataclass(frozen=True)
class Ask:
    """``count`` workers of one kind, each asking for the resources in ``each``."""

    what: str
    count: int
    each: dict[str, float]
    setting: str  # the config call that asks for them

    def describe(self) -> str:
        """E.g. ``2 env runners × 1 CPU (env_runners(num_env_runners=2))``."""
        plural = "" if self.count == 1 else ("es" if self.what.endswith("process") else "s")
        return f"{self.count} {self.what}{plural} × {_fmt(self.each)} ({self.setting})"


def _fmt(resources: Mapping[str, float]) -> str:
    """``{"CPU": 2, "GPU": 1}`` -> ``2 CPUs, 1 GPU``."""
    parts = []
    for key in sorted(resources, key=lambda k: (k not in ("CPU", "GPU"), k)):
        value = resources[key]
        number = f"{value:g}"
        parts.append(f"{number} {key}{'' if value == 1 or key not in ('CPU', 'GPU') else 's'}")
    return ", ".join(parts) or "nothing"


def _nonzero(bundle: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in bundle.items() if v and k not in _BOOKKEEPING}


def _learner_cpus(config: Any) -> float:
    """RLlib's CPUs per learner: ``num_cpus_per_learner``, where "auto" means 1 without a GPU."""
    if config.num_cpus_per_learner != "auto":
        return float(config.num_cpus_per_learner)
    return 0.0 if config.num_gpus_per_learner else 1.0


def worker_asks(config: Any, algo_cls: Optional[type] = None, *, main_process: bool = False) -> list[Ask]:
    """What ``config`` asks Ray for: env runners, evaluation env runners and learners (and, with
    ``main_process``, the algorithm's own process, which a Tune trial reserves too).

    Args:
        config: An ``AlgorithmConfig`` (new API stack).
        algo_cls: The algorithm class (whether it creates evaluation env runners); default RLlib's.
        main_process: Include the driver's bundle (the Tune trial's first bundle).
    """
    from ray.rllib.algorithms.algorithm import Algorithm

    algo_cls = algo_cls or Algorithm
    asks: list[Ask] = []
    if main_process:
        bundle = {"CPU": config.num_cpus_for_main_process, **config.custom_resources_for_main_process}
        setting = "resources(num_cpus_for_main_process=...)"
        if config.num_learners == 0:
            bundle["CPU"] = max(_learner_cpus(config), config.num_cpus_for_main_process)
            bundle["GPU"] = config.num_gpus_per_learner
            gpus = config.num_gpus_per_learner
            setting = f"with its learner: learners(num_learners=0, num_gpus_per_learner={gpus:g})"
        if _nonzero(bundle):
            asks.append(Ask("main process", 1, _nonzero(bundle), setting))
    runner = {
        "CPU": config.num_cpus_per_env_runner,
        "GPU": config.num_gpus_per_env_runner,
        **config.custom_resources_per_env_runner,
    }
    if config.num_env_runners and _nonzero(runner):
        setting = f"env_runners(num_env_runners={config.num_env_runners}"
        setting += "" if runner["CPU"] == 1 else f", num_cpus_per_env_runner={runner['CPU']}"
        setting += ")" if not runner["GPU"] else f", num_gpus_per_env_runner={runner['GPU']})"
        asks.append(Ask("env runner", config.num_env_runners, _nonzero(runner), setting))
    eval_config = config.get_evaluation_config_object()
    if eval_config is not None and algo_cls._should_create_evaluation_env_runners(eval_config):
        n = eval_config.num_env_runners
        bundle = {
            "CPU": eval_config.num_cpus_per_env_runner,
            "GPU": eval_config.num_gpus_per_env_runner,
            **eval_config.custom_resources_per_env_runner,
        }
        if n and _nonzero(bundle):
            asks.append(
                Ask("evaluation env runner", n, _nonzero(bundle), f"evaluation(evaluation_num_env_runners={n})")
            )
    if config.num_learners:
        bundle = {
            "CPU": _learner_cpus(config) + config.num_aggregator_actors_per_learner,
            "GPU": config.num_gpus_per_learner,
            **(config.custom_resources_per_learner or {}),
        }
        setting = f"learners(num_learners={config.num_learners}, num_gpus_per_learner={config.num_gpus_per_learner})"
        if _nonzero(bundle):
            asks.append(Ask("learner", config.num_learners, _nonzero(bundle), setting))
    return asks


def total(asks: list[Ask]) -> dict[str, float]:
    """The sum of every ask's resources."""
    out: dict[str, float] = {}
    for ask in asks:
        for key, value in ask.each.items():
            out[key] = out.get(key, 0.0) + ask.count * value
    return out


def _short(need: Mapping[str, float], have: Mapping[str, float]) -> list[str]:
    """The resources of ``need`` that ``have`` lacks (a small tolerance for float sums)."""
    return [k for k, v in need.items() if v > have.get(k, 0.0) + 1e-9]


def cluster_can_autoscale() -> bool:
    """Whether more nodes can join this Ray cluster by themselves: the cluster launcher's
    bootstrap config is on this node (Tune's own test), or the autoscaler's report names node
    types of a cluster config. A local ``ray.init()`` or a ``ray start`` cluster runs Ray's
    read-only autoscaler, whose node types are the nodes themselves (``node_<id>``): it can't."""
    if Path("~/ray_bootstrap_config.yaml").expanduser().exists():
        return True
    try:
        import json

        from ray.experimental.internal_kv import _internal_kv_get

        raw = _internal_kv_get("__autoscaling_status")
        report = (json.loads(raw) if raw else {}).get("autoscaler_report") or {}
    except Exception:  # noqa: BLE001 - no status: a cluster without an autoscaler
        return False
    mapping = report.get("node_type_mapping") or {}
    configured = [kind for node, kind in mapping.items() if kind != f"node_{node}"]
    return bool(configured or report.get("pending_launches") or report.get("pending_nodes"))


@dataclass
class ClusterView:
    """What a Ray cluster has: in all, free now, and per node (in all)."""

    total: dict[str, float]
    free: dict[str, float]
    nodes: list[dict[str, float]]

    @classmethod
    def now(cls) -> ClusterView:
        import ray

        nodes = [_nonzero(n.get("Resources", {})) for n in ray.nodes() if n.get("Alive")]
        return cls(_nonzero(ray.cluster_resources()), _nonzero(ray.available_resources()), nodes)


def describe_asks(asks: list[Ask]) -> str:
    """E.g. ``2 env runners × 1 CPU (env_runners(num_env_runners=2)) and 1 learner × 1 GPU (...)``."""
    text = " and ".join(a.describe() for a in asks)
    if len(asks) > 1 or asks[0].count > 1:
        text += f": {_fmt(total(asks))} in all"
    return text


def _have(view: ClusterView, asks: list[Ask], keys: list[str], free: bool) -> str:
    """What the cluster has of the resources ``asks`` and ``keys`` name (CPUs always)."""
    named = set(keys) | set(total(asks)) | {"CPU"}
    shown = sorted(named, key=lambda k: (k not in ("CPU", "GPU"), k))
    if free:
        return "the cluster has " + ", ".join(
            f"{view.free.get(k, 0):g} of its {view.total.get(k, 0):g} {k}{'s' if k in ('CPU', 'GPU') else ''} free"
            for k in shown
        )
    return "the cluster has " + _fmt({k: view.total.get(k, 0.0) for k in shown}) + " in all"


def infeasible(asks: list[Ask], view: ClusterView) -> Optional[str]:
    """Why ``asks`` can never be placed on the cluster as it is (None if they can)."""
    need = total(asks)
    short = _short(need, view.total)
    if short:
        causes = []
        if "GPU" in short:
            causes.append("there is no GPU Ray can use here" if not view.total.get("GPU") else "not enough GPUs")
            causes[-1] += ": set num_gpus_per_learner=0 (and num_gpus_per_env_runner=0) to train on CPUs"
        if "CPU" in short:
            causes.append(
                f"more CPUs than the cluster's {view.total.get('CPU', 0):g}: lower num_env_runners "
                "(or num_cpus_per_env_runner), or join a larger cluster"
            )
        for key in short:
            if key not in ("CPU", "GPU"):
                causes.append(f"no node offers the custom resource '{key}' in that amount")
        have = _have(view, asks, short, free=False)
        return f"it asks for {describe_asks(asks)}; {have}. Likely cause: {'; '.join(causes)}"
    for ask in asks:  # one worker must fit on one node
        if view.nodes and not any(not _short(ask.each, node) for node in view.nodes):
            biggest = max(view.nodes, key=lambda n: n.get("CPU", 0.0))
            return (
                f"one {ask.what} asks for {_fmt(ask.each)} ({ask.setting}), more than any node has "
                f"(the largest: {_fmt(biggest)}). Likely cause: a worker larger than a machine: ask for less per worker"
            )
    return None


def unavailable(asks: list[Ask], view: ClusterView) -> Optional[str]:
    """Why ``asks`` can't be placed now, although the cluster has enough in all (None if they can)."""
    short = _short(total(asks), view.free)
    if not short:
        return None
    return (
        f"it asks for {describe_asks(asks)}; {_have(view, asks, short, free=True)}. Likely cause: another "
        "algorithm (or other Ray actors) in this cluster still holds them: call algo.stop() on an "
        "algorithm you no longer use (e.g. before Algorithm.from_checkpoint), or ask for fewer workers"
    )


def local_gpu_problem(config: Any) -> Optional[str]:
    """Why a learner in this very process (``num_learners=0``) can't have the GPU it asks for."""
    if config.num_learners or not config.num_gpus_per_learner or getattr(config, "_fake_gpus", False):
        return None
    import torch

    found = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if found >= math.ceil(config.num_gpus_per_learner):
        return None
    return (
        f"the learner runs in this process (learners(num_learners=0)) on "
        f"{config.num_gpus_per_learner:g} GPU (num_gpus_per_learner={config.num_gpus_per_learner:g}), "
        f"but torch finds {found} CUDA device{'s' if found != 1 else ''} here. Likely cause: no GPU on this "
        "machine, or a CPU-only build of torch: set num_gpus_per_learner=0, or install a CUDA build of torch"
    )


def check_placement(
    config: Any,
    algo_name: str,
    algo_cls: Optional[type] = None,
    *,
    timeout_s: Optional[float] = None,
    poll_s: float = 0.5,
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr, flush=True),
) -> None:
    """Raises a :class:`PlacementError` if the cluster can't place ``config``'s env runners and
    learners: at once if it never can (unless it autoscales), else after waiting ``timeout_s``
    (default :data:`PLACEMENT_TIMEOUT_S`) for held resources to come free.

    Does nothing inside a Ray placement group (a Tune trial, whose resources are reserved), and
    starts Ray (as RLlib would) only when the config asks for remote workers.
    """
    import ray
    from ray.util import get_current_placement_group

    problem = local_gpu_problem(config)
    if problem is not None:
        raise PlacementError(f"{algo_name} can't be placed: {problem}")
    asks = worker_asks(config, algo_cls)
    if not asks:
        return
    if not ray.is_initialized():
        ray.init()
    if get_current_placement_group() is not None:
        return
    timeout_s = PLACEMENT_TIMEOUT_S if timeout_s is None else timeout_s
    view = ClusterView.now()
    problem = infeasible(asks, view)
    if problem is not None:
        if cluster_can_autoscale():
            log(f"{algo_name}: waiting for the autoscaler to add nodes: {problem}")
            return
        raise PlacementError(f"{algo_name} can't be placed: {problem}")
    deadline = time.monotonic() + timeout_s
    told = False
    while (problem := unavailable(asks, view)) is not None:
        if cluster_can_autoscale():
            log(f"{algo_name}: waiting for resources (the cluster autoscales): {problem}")
            return
        if time.monotonic() >= deadline:
            raise PlacementError(f"{algo_name} can't be placed (waited {timeout_s:g} s): {problem}")
        if not told and timeout_s >= 5:
            told = True
            log(f"{algo_name}: waiting up to {timeout_s:g} s for resources: {problem}")
        time.sleep(poll_s)
        view = ClusterView.now()
