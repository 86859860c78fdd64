"""Adapter to the real SMAC package (``backend="sc2"``), where it and StarCraft II are installed."""

from __future__ import annotations

import importlib
import sys
from typing import Any

#: How to install oxwhirl's SMAC; ``pip install smac`` is another project (SMAC3).
INSTALL_HINT = (
    "Install oxwhirl's SMAC with `pip install git+https://github.com/oxwhirl/smac.git`, install "
    "StarCraft II and set SC2PATH to it (see SMAC's README); note that `pip install smac` installs "
    "SMAC3, automl's hyperparameter optimiser, an unrelated package. Use backend='lite' (the "
    "default) for the embedded simulator, which needs neither."
)


def _describe(module_name: str) -> str:
    """Where an imported module lives, and the installed ``smac`` distribution's version."""
    where = getattr(sys.modules.get(module_name), "__file__", None) or "location unknown"
    try:
        from importlib.metadata import version

        return f"{where}, smac {version('smac')}"
    except Exception:  # no metadata (e.g. a module put in sys.modules by hand)
        return where


def import_upstream(package: str, attr: str, what: str, hint: str, context: str = "backend='sc2'") -> Any:
    """``<package>.env.<attr>`` of an upstream package, or one ImportError that says why not
    (missing, another package of that name, a failing import) and what to install (``hint``)."""
    module_name = f"{package}.env"
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        missing = getattr(err, "name", None)
        if missing in (package, module_name) and sys.modules.get(package) is None:
            reason = f"no package named `{package}` is installed"
        elif missing == module_name:
            reason = (
                f"the installed `{package}` package ({_describe(package)}) has no `{module_name}`: it is not {what}"
            )
        else:
            reason = f"importing `{module_name}` failed ({type(err).__name__}: {err})"
        raise ImportError(f"{context} needs {what}, but {reason}. {hint}") from err
    cls = getattr(module, attr, None)
    if cls is None:
        raise ImportError(
            f"{context} needs {what}, but the installed `{module_name}` ({_describe(module_name)}) has no "
            f"`{attr}`: it is not {what}. {hint}"
        )
    return cls


def _smac_env_class() -> Any:
    """``smac.env.StarCraft2Env`` of oxwhirl's SMAC, or an ImportError that says what to install."""
    return import_upstream("smac", "StarCraft2Env", "oxwhirl's SMAC", INSTALL_HINT)


def make_sc2_env(map_name: str = "3m", seed: int | None = None, **smac_kwargs: Any) -> Any:
    """Creates ``smac.env.StarCraft2Env``; it has the same API as the embedded simulator.

    The seed is given to the constructor: real SMAC's ``seed()`` takes no argument (it returns
    the constructor's seed), so the env can't be reseeded per episode.

    Raises:
        ImportError: If oxwhirl's SMAC can't be imported (missing, or another package named
            ``smac`` such as SMAC3), saying what to install.
    """
    return _smac_env_class()(map_name=map_name, seed=seed, **smac_kwargs)
