"""The env "smacv2" for RLlib: SMACv2 (embedded simulator or upstream's package) as a MultiAgentEnv.

``config.environment("smacv2", env_config={"scenario": "protoss_5_vs_5", "backend": "lite", "seed": 0})``.
Besides ``scenario`` (a name of ``rllib_qmix.envs.smacv2.SCENARIO_NAMES``), ``backend``
("lite", the default, or "sc2") and ``seed``, the env config takes ``capability_config``
(upstream's dict, instead of ``scenario``), ``timeout_is_terminal`` (as the env "smac") and
SMAC's / SMACv2's keyword options. Everything else is as the env "smac" (``smac_rllib.py``):
the same per-agent dicts, global state, reward split and truncation at the time limit.
"""

from __future__ import annotations

from typing import Any, Optional

from rllib_qmix.envs.smac_rllib import BACKENDS, SMACMultiAgentEnv

#: How to get upstream's SMACv2; the game itself is installed as for SMAC.
SMACV2_INSTALL_HINT = (
    "Install oxwhirl's SMACv2 with `pip install git+https://github.com/oxwhirl/smacv2.git`, install "
    "StarCraft II with SMACv2's maps (32x32_flat.SC2Map in its Maps/SMAC_Maps folder) and set SC2PATH. "
    "Use backend='lite' (the default) for the embedded simulator, which needs neither."
)
#: The observation options of SMACv2's configs (sc2_gen_*.yaml), which upstream's constructor
#: does not default to; the sc2 backend passes them so both backends play the same env.
SC2_CONFIG_OPTIONS = {"obs_own_pos": True, "use_unit_ranges": True, "min_attack_range": 2}


def _scenario(cfg: dict) -> Any:
    from rllib_qmix.envs.smacv2 import get_scenario, scenario_from_capability_config

    scenario = cfg.pop("scenario", None)
    cap = cfg.pop("capability_config", None)
    if scenario is not None and cap is not None:
        raise ValueError("give the env 'smacv2' either 'scenario' or 'capability_config', not both")
    if cap is not None:
        return scenario_from_capability_config(cap, cfg.pop("map_name", None))
    if "map_name" in cfg:
        raise ValueError("the env 'smacv2' takes 'scenario' (e.g. 'protoss_5_vs_5'), not 'map_name'")
    return get_scenario(scenario if scenario is not None else "protoss_5_vs_5")


def _upstream_wrapper() -> Any:
    """``smacv2.env.StarCraftCapabilityEnvWrapper``, or an ImportError that says what to install."""
    from rllib_qmix.envs.sc2 import import_upstream

    return import_upstream(
        "smacv2",
        "StarCraftCapabilityEnvWrapper",
        "oxwhirl's SMACv2",
        SMACV2_INSTALL_HINT,
        context="backend='sc2' for the env 'smacv2'",
    )


def make_smacv2_env(env_config: Optional[dict] = None) -> Any:
    """A SMACv2 env with SMAC's API from an env config (see the module docstring)."""
    cfg = dict(env_config or {})
    backend = cfg.pop("backend", "lite")
    if backend not in BACKENDS:
        raise ValueError(f"Unknown SMACv2 backend {backend!r}: use one of {BACKENDS}.")
    scenario = _scenario(cfg)
    seed = cfg.pop("seed", None)
    if backend == "lite":
        from rllib_qmix.envs.smacv2 import SMACv2Env

        return SMACv2Env(scenario, seed=seed, **cfg)
    from rllib_qmix.envs.smacv2 import capability_config

    if seed is not None:  # one seed per env of a run, as the env "smac" does for real SMAC
        seed = int(seed) + 1000 * int(getattr(env_config, "worker_index", 0) or 0)
        seed += int(getattr(env_config, "vector_index", 0) or 0)
    options = {**SC2_CONFIG_OPTIONS, **cfg}
    return _upstream_wrapper()(
        capability_config=capability_config(scenario), map_name=f"10gen_{scenario.race}", seed=seed, **options
    )


class SMACv2MultiAgentEnv(SMACMultiAgentEnv):
    """SMACv2 as an RLlib ``MultiAgentEnv`` (agents ``agent_0 ..``); see the module docstring."""

    @staticmethod
    def _make_env(env_config: dict) -> Any:
        return make_smacv2_env(env_config)
