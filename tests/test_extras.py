"""The optional envs install through extras of their own, and a missing one names its extra."""

from __future__ import annotations

import configparser
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _extras() -> dict[str, set[str]]:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    section = cfg["options.extras_require"]
    return {name: {line.strip() for line in section[name].splitlines() if line.strip()} for name in section}


def test_each_optional_env_has_an_extra_and_the_tests_install_them_all() -> None:
    extras = _extras()
    assert extras["mpe"] == {"mpe2"} and extras["lbf"] == {"lbforaging"} and extras["rware"] == {"rware"}
    assert extras["envs"] == extras["mpe"] | extras["lbf"] | extras["rware"]
    assert extras["envs"] <= extras["test"]


@pytest.mark.parametrize(
    "module,make,extra",
    [
        ("mpe2", "rllib_qmix.envs.mpe:make_simple_spread", "mpe"),
        ("lbforaging", "rllib_qmix.envs.gym_tuple:make_lbf", "lbf"),
        ("rware", "rllib_qmix.envs.gym_tuple:make_rware", "rware"),
    ],
)
def test_a_missing_env_package_names_its_extra(module, make, extra, monkeypatch) -> None:
    import importlib

    for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)  # `import module` raises ImportError
    path, _, func = make.partition(":")
    with pytest.raises(ImportError, match=rf"pip install -e \"\.\[{extra}\]\""):
        getattr(importlib.import_module(path), func)({})
