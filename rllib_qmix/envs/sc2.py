"""Adapter to the real SMAC package (``backend="sc2"``), where it and StarCraft II are installed."""

from __future__ import annotations

from typing import Any


def make_sc2_env(map_name: str = "3m", seed: int | None = None, **smac_kwargs: Any) -> Any:
    """Creates ``smac.env.StarCraft2Env``; it has the same API as the embedded simulator.

    Raises:
        ImportError: If the ``smac`` package is missing, saying what to install.
    """
    try:
        from smac.env import StarCraft2Env
    except ImportError as err:
        raise ImportError(
            "backend='sc2' needs the real SMAC package and the StarCraft II game: "
            "`pip install git+https://github.com/oxwhirl/smac.git`, install StarCraft II and set "
            "SC2PATH (see SMAC's README). Use backend='lite' (the default) for the embedded "
            "simulator, which needs neither."
        ) from err
    return StarCraft2Env(map_name=map_name, seed=seed, **smac_kwargs)
