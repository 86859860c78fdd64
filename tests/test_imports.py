"""The package's import graph: no cycles, and each layer imports only the layers below it.

Every ``import`` counts, including those inside functions: a deferred import still ties two
modules together. Layers (a module may import its own layer and those listed for it):
the simulator and env adapters know nothing of RLlib's sampling or learning; the algorithm
never imports the command line; pure torch networks import no Ray.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rllib_qmix"

#: What each area of the package may import from the package (besides itself).
ALLOWED = {
    "rllib_qmix.keys": set(),
    "rllib_qmix.budget": set(),
    "rllib_qmix.envs": {"rllib_qmix.keys"},
    "rllib_qmix.models": {"rllib_qmix.keys"},
    "rllib_qmix.sampling": {"rllib_qmix.keys", "rllib_qmix.envs", "rllib_qmix.models"},
    "rllib_qmix.learning": {"rllib_qmix.keys", "rllib_qmix.envs", "rllib_qmix.models", "rllib_qmix.sampling"},
    "rllib_qmix.algorithm": {
        "rllib_qmix.keys",
        "rllib_qmix.envs",
        "rllib_qmix.models",
        "rllib_qmix.sampling",
        "rllib_qmix.learning",
    },
    "rllib_qmix.migration": {
        "rllib_qmix.keys",
        "rllib_qmix.envs",
        "rllib_qmix.models",
        "rllib_qmix.sampling",
        "rllib_qmix.learning",
        "rllib_qmix.algorithm",
    },
    "rllib_qmix.deploy": {
        "rllib_qmix.keys",
        "rllib_qmix.envs",
        "rllib_qmix.models",
        "rllib_qmix.sampling",
        "rllib_qmix.learning",
        "rllib_qmix.algorithm",
    },
    "rllib_qmix.cli": {
        "rllib_qmix",
        "rllib_qmix.budget",
        "rllib_qmix.keys",
        "rllib_qmix.envs",
        "rllib_qmix.models",
        "rllib_qmix.sampling",
        "rllib_qmix.learning",
        "rllib_qmix.algorithm",
    },
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules that ``name`` imports (``from a import b`` counts ``a.b`` if it is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {name: _imports(name, path, set(mods)) for name, path in mods.items()}


def _area(name: str) -> str:
    for area in sorted(ALLOWED, key=len, reverse=True):
        if name == area or name.startswith(area + "."):
            return area
    return name


def test_no_import_cycles():
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            # A package's __init__ importing its own submodules is how packages work, not a cycle.
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_each_area_imports_only_the_layers_below_it():
    wrong = []
    for name, targets in _graph().items():
        area = _area(name)
        if area not in ALLOWED:
            continue
        for target in targets:
            t_area = _area(target)
            if t_area != area and t_area not in ALLOWED[area]:
                wrong.append(f"{name} imports {target}")
    assert not wrong, "layering broken: " + "; ".join(sorted(wrong))


def test_pure_torch_modules_import_no_ray():
    for rel in ("models/networks.py", "learning/targets.py"):
        tree = ast.parse((PACKAGE / rel).read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [m for m in names if m.split(".")[0] == "ray"], rel


def test_the_checker_sees_a_cycle(tmp_path, monkeypatch):
    """The cycle check can fail: two modules that import each other are reported."""
    pkg = tmp_path / "rllib_qmix"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("")
    (pkg / "a" / "x.py").write_text("def f():\n    from rllib_qmix.a import y\n")
    (pkg / "a" / "y.py").write_text("from rllib_qmix.a.x import f\n")
    import sys

    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", pkg)
    with pytest.raises(pytest.fail.Exception, match="import cycle"):
        test_no_import_cycles()
