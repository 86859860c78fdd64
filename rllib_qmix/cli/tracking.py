"""Experiment tracking for ``rllib train``: Weights & Biases and MLflow through Tune's logger callbacks.

``--wandb-project P`` adds Tune's ``WandbLoggerCallback`` (W&B's own settings apply:
``WANDB_API_KEY``, or ``WANDB_MODE=offline`` to write runs locally for a later ``wandb sync``);
``--mlflow-tracking-uri U`` adds Tune's ``MLflowLoggerCallback`` (an MLflow server, or a local
file store ``file:///path``, which MLflow 3 opens only with ``MLFLOW_ALLOW_FILE_STORE=true``),
one MLflow run per trial in the experiment named after the
``rllib train`` experiment. TensorBoard files are written either way. Each needs its optional
extra, checked before Ray starts.
"""

from __future__ import annotations

import importlib
from typing import Any, Optional

from rllib_qmix.cli.experiment import CLIError


def _require(module: str, flag: str, extra: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError:
        raise CLIError(f"{flag} needs the {module} package: pip install 'rllib_qmix[{extra}]'") from None


def check_tracking(wandb_project: Optional[str], mlflow_tracking_uri: Optional[str]) -> None:
    """Raises CLIError naming the extra to install when a tracking flag's package is missing."""
    if wandb_project is not None:
        if not wandb_project:
            raise CLIError("--wandb-project needs a project name")
        _require("wandb", "--wandb-project", "wandb")
    if mlflow_tracking_uri is not None:
        if not mlflow_tracking_uri:
            raise CLIError("--mlflow-tracking-uri needs a URI (a server, or file:///path for a local store)")
        _require("mlflow", "--mlflow-tracking-uri", "mlflow")


def tracking_callbacks(
    wandb_project: Optional[str], mlflow_tracking_uri: Optional[str], experiment_name: str
) -> list[Any]:
    """Tune logger callbacks for the tracking flags given (none: an empty list)."""
    check_tracking(wandb_project, mlflow_tracking_uri)
    callbacks: list[Any] = []
    if wandb_project:
        from ray.air.integrations.wandb import WandbLoggerCallback

        callbacks.append(WandbLoggerCallback(project=wandb_project, group=experiment_name))
    if mlflow_tracking_uri:
        from ray.air.integrations.mlflow import MLflowLoggerCallback

        callbacks.append(
            MLflowLoggerCallback(tracking_uri=mlflow_tracking_uri, experiment_name=experiment_name, save_artifact=False)
        )
    return callbacks


__all__ = ["check_tracking", "tracking_callbacks"]
