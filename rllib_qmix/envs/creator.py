"""The one env-creator helper: ``config.env`` as a QMIX team env (RLlib resolves the name).

The env runner builds its envs with it, and ``QMIX.setup`` uses it to name the env's own
error when env runners fail to start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

from rllib_qmix.envs.grouped import GroupedTeamEnv, grouped_agents
from rllib_qmix.envs.team import TeamEnv, TeamEnvError, as_team_env


def env_creator(config: Any) -> Callable[[Any], Any]:
    """RLlib's creator of ``config.env``: a registered name, a class, a class path or a gymnasium id."""
    from ray.rllib.algorithms.algorithm import Algorithm

    if config.env is None:
        raise ValueError("QMIX needs an env: set one with `config.environment(env=...)`.")
    return Algorithm._get_env_id_and_creator(config.env, config)[1]


def env_options(name: str, env_config: Optional[dict], defaults: dict[str, Any]) -> dict[str, Any]:
    """``defaults`` updated from an env creator's ``env_config``.

    Raises:
        TeamEnvError: ``env_config`` has a key not in ``defaults`` (the error names the valid ones).
    """
    cfg = dict(env_config or {})
    unknown = sorted(set(cfg) - set(defaults))
    if unknown:
        raise TeamEnvError(f"Unknown env_config keys for '{name}': {unknown}; valid: {sorted(defaults)}.")
    return {**defaults, **cfg}


def make_team_env(
    config: Any,
    *,
    worker_index: int = 0,
    vector_index: int = 0,
    num_workers: int = 0,
    creator: Optional[Callable[[Any], Any]] = None,
) -> TeamEnv:
    """Creates one env of ``config`` (an ``AlgorithmConfig``) and wraps it in the team view.

    Args:
        config: The algorithm config (``env``, ``env_config``, ``state_from_obs``).
        worker_index: The env runner's index (0: the local one).
        vector_index: The env's index within its runner.
        num_workers: Number of remote env runners.
        creator: The creator RLlib made for ``config.env`` (resolved here when None).

    Raises:
        ValueError: ``config`` names no env.
        TeamEnvError: The env is not one QMIX can use (says what to change).
    """
    from ray.rllib.env.env_context import EnvContext

    make = creator or env_creator(config)
    ctx = EnvContext(config.env_config, worker_index=worker_index, vector_index=vector_index, num_workers=num_workers)
    return team_view(make(ctx), state_from_obs=config.state_from_obs)


def team_view(env: Any, state_from_obs: bool = False) -> TeamEnv:
    """``env`` as a ``TeamEnv``: an env grouped with ``with_agent_groups`` (old RLlib QMIX's
    envs) gets ``GroupedTeamEnv``, any other ``as_team_env``'s adapter."""
    from ray.rllib.env.multi_agent_env import MultiAgentEnv

    if isinstance(env, MultiAgentEnv) and grouped_agents(env) is not None:
        return GroupedTeamEnv(env, state_from_obs)
    return as_team_env(env, state_from_obs)


__all__ = ["env_creator", "env_options", "make_team_env", "team_view"]
