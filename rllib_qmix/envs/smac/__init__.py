"""Embedded SMAC-compatible battle simulator (numpy + numba, no StarCraft II needed).

``StarCraft2Env`` has SMAC's API; ``BatchedStarCraft2Env`` steps N battles as arrays;
``MAP_NAMES`` lists the 23 SMAC maps; ``save_gif`` writes an episode to an animated GIF.
Unconfirmed facts are chosen in ``choices.py``.
"""

from .batched import BatchedStarCraft2Env
from .env import StarCraft2Env
from .maps import MAP_NAMES, MAPS, MapSpec, custom_map, get_map
from .render import save_gif

__all__ = ["StarCraft2Env", "BatchedStarCraft2Env", "MAP_NAMES", "MAPS", "MapSpec", "get_map", "custom_map", "save_gif"]
