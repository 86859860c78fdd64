"""What the benchmark scripts share: where results go, and the ``--out`` option.

Every script prints a table and writes JSON (and PNGs) into ``results/`` at the repository
root by default, a git-ignored folder; ``--out DIR`` chooses another. Results that the docs
cite are copied by hand into ``docs/results/``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Default output folder of every benchmark (git-ignored).
RESULTS = ROOT / "results"


def add_out_argument(parser: argparse.ArgumentParser) -> None:
    """Adds ``--out DIR`` (default ``results/``)."""
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"folder for the JSON/PNG results (default: {RESULTS.relative_to(ROOT)}/, git-ignored)",
    )


def out_dir(arg: Path | None) -> Path:
    """The output folder for ``--out`` (created if needed)."""
    path = Path(arg) if arg is not None else RESULTS
    path.mkdir(parents=True, exist_ok=True)
    return path


def sim_env_config(name: str) -> tuple[str, dict]:
    """The registered env and env config of a SMAC map ("3m") or a SMACv2 scenario ("protoss_5_vs_5")."""
    from rllib_qmix.envs.smacv2 import SCENARIO_NAMES

    if name in SCENARIO_NAMES:
        return "smacv2", {"scenario": name}
    return "smac", {"map_name": name}


def make_sim_env(name: str, seed: int | None = None, **options):
    """An embedded-simulator env with SMAC's API for a SMAC map or a SMACv2 scenario name
    (``options``: more env options, e.g. ``heuristic_ai=True``)."""
    from rllib_qmix.envs.smac_rllib import make_smac_env
    from rllib_qmix.envs.smacv2_rllib import make_smacv2_env

    env, cfg = sim_env_config(name)
    return (make_smacv2_env if env == "smacv2" else make_smac_env)({**cfg, "seed": seed, **options})
