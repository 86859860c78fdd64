"""SMACv2 on the embedded simulator: procedurally generated battles, exactly reproducible from a seed.

``SMACv2Env("protoss_5_vs_5", seed=0)`` has SMAC's API; ``StarCraftCapabilityEnvWrapper`` takes
upstream's ``capability_config``; ``BatchedSMACv2Env`` steps N battles as arrays;
``SCENARIO_NAMES`` lists the 15 scenarios; ``make_scenario`` builds others (sizes, fixed teams,
only one start mode). Facts and sources: ``scenarios.py`` and ``docs/smacv2.md``.
"""

from .batched import BatchedSMACv2Env
from .env import SMACv2Env, StarCraftCapabilityEnvWrapper, capability_config, scenario_from_capability_config
from .scenarios import SCENARIO_NAMES, SCENARIOS, Scenario, get_scenario, make_scenario

__all__ = [
    "SMACv2Env",
    "StarCraftCapabilityEnvWrapper",
    "BatchedSMACv2Env",
    "SCENARIO_NAMES",
    "SCENARIOS",
    "Scenario",
    "get_scenario",
    "make_scenario",
    "capability_config",
    "scenario_from_capability_config",
]
