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
