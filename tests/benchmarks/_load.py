"""Loads a benchmark script (``benchmarks/<name>.py``) as a module, the way its tests need it.

The scripts are not a package: each imports the shared ``_common`` module from its own
folder, which Python finds when the script runs; here the folder is put on ``sys.path``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load_benchmark(name: str) -> ModuleType:
    """Imports ``benchmarks/<name>.py`` under the module name ``benchmark_<name>``."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
