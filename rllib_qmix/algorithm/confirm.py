"""Confirmed evaluation targets: a greedy evaluation that reaches a target is measured again.

The first evaluation over a target line is often a lucky one: with 32 battles a policy that
wins 88% of them reaches 95% now and then. With ``QMIXConfig.evaluation(confirm_targets=...)``
an evaluation that meets one of its targets is followed at once by a confirmation of
``confirm_episodes`` more episodes with the same weights, reported under
``evaluation/confirmed/...`` (``CONFIRMED``); a stop on ``evaluation/confirmed/<metric>`` then
fires only where the confirmation meets the target too, and the checkpoint written at that
stop holds the weights that were confirmed. ``rllib train file`` moves a YAML stop on a
confirmable evaluation metric there (``rllib_qmix.cli.experiment.confirm_stops``).

The confirmation leaves no trace in the evaluation env runners' metrics, so the regular
``evaluation/env_runners/...`` values stay those of the regular evaluations.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Optional

from rllib_qmix.sampling.env_runner import EPISODE_INFO_KEYS

#: Where a confirmation's results go in the evaluation results (``evaluation/confirmed/...``).
CONFIRMED = "confirmed"
#: Default number of episodes of a confirmation.
DEFAULT_CONFIRM_EPISODES = 128
#: The evaluation metrics a confirmation measures (paths inside the evaluation results).
CONFIRMABLE = (
    "env_runners/episode_return_mean",
    "env_runners/episode_len_mean",
    *(f"env_runners/{key}_mean" for key in EPISODE_INFO_KEYS),
)


def lookup(results: dict, path: str) -> Optional[float]:
    """The number at ``a/b/c`` in nested ``results`` (None if absent, not a number, or NaN)."""
    node: Any = results
    for part in path.split("/"):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, numbers.Real) or math.isnan(node):
        return None
    return float(node)


def targets_met(results: dict, targets: dict[str, float]) -> list[str]:
    """The metrics of ``targets`` (``{path: threshold}``) that ``results`` reaches (``>=``)."""
    return [key for key, value in targets.items() if (got := lookup(results, key)) is not None and got >= value]


def episode_metrics(episodes: list) -> dict[str, Any]:
    """The confirmation's results from its episodes (``TeamEpisode``s): the means of
    ``CONFIRMABLE`` over every episode (an info mean over the episodes that report it) and the
    number of episodes, laid out as the evaluation results are (``{"env_runners": {...}}``)."""
    n = len(episodes)
    runners: dict[str, float] = {"num_episodes": n}
    if n:
        runners["episode_return_mean"] = sum(ep.get_return() for ep in episodes) / n
        runners["episode_len_mean"] = sum(len(ep) for ep in episodes) / n
        for key in EPISODE_INFO_KEYS:
            values = [float(ep.info[key]) for ep in episodes if key in ep.info]
            if values:
                runners[f"{key}_mean"] = sum(values) / len(values)
    return {"env_runners": runners}


def sample_quietly(runner: Any, num_episodes: int, explore: bool) -> list:
    """``num_episodes`` episodes from an env runner, leaving its metrics and step count as
    they were (so a confirmation never mixes into the regular evaluation's numbers)."""
    metrics = runner.metrics.get_state()
    steps = getattr(runner, "num_env_steps_sampled_lifetime", None)
    try:
        return runner.sample(num_episodes=num_episodes, explore=explore)
    finally:
        runner.metrics.set_state(metrics)
        if steps is not None:
            runner.num_env_steps_sampled_lifetime = steps


def check_confirm_settings(targets: Any, episodes: Any) -> Optional[str]:
    """The error message for bad ``confirm_targets``/``confirm_episodes``, or None."""
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        return f"`confirm_episodes` must be an integer >= 1, got {episodes!r}."
    if not isinstance(targets, dict):
        return f"`confirm_targets` must be a dict of evaluation metric -> threshold, got {targets!r}."
    for key, value in targets.items():
        if key not in CONFIRMABLE:
            return (
                f"`confirm_targets` has {key!r}: a confirmation measures {', '.join(CONFIRMABLE)} "
                "(paths inside the evaluation results)."
            )
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return f"`confirm_targets[{key!r}]` must be a number, got {value!r}."
    return None
