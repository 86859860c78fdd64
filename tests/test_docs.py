"""Every runnable code block of README.md and docs/*.md runs as written.

A block is a fenced block tagged ``python``, ``bash``, ``sh``, ``shell`` or ``console`` (for
``console``, the lines that start with ``$ ``). A block that can't run on a CI machine (it needs
StarCraft II, a GPU or several machines, or it is the test suite itself) is marked by an HTML
comment on the line right above its fence, which says why::

    <!-- not run: needs StarCraft II -->

Every other block runs, and a block tagged with another language (or none) must be text: its
tag is one of ``NOT_CODE``. How the blocks run:

- Commands are cut short only by the environment variable ``RLLIB_QMIX_MAX_ITERATIONS=1``
  (``rllib_qmix.budget``), which the CLI, ``benchmarks/learning.py``, the random baseline and
  the README's Python example read; the text of a block is never changed.
- Each bash block runs with ``bash -e`` in its own copy of the repository's folders (a real copy
  of ``benchmarks/``, whose results go beside it, and links to the rest) with its own ``HOME``
  (so ``~/ray_results`` starts empty), the test's virtual environment first on ``PATH`` (as if
  activated) and linked as ``.venv`` (its install done: ``make train`` then only trains).
- The Python blocks of one file run in order in one interpreter, sharing their names.
- Blocks run two at a time; identical blocks (comments aside) run once.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

REPO = Path(__file__).resolve().parents[1]
DOC_FILES = ["README.md", *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md"))]
RUNNABLE = {"python", "bash", "sh", "shell", "console"}
#: Fence tags of blocks that are not commands (diagrams, output, file contents).
NOT_CODE = {"", "text", "yaml", "json", "toml", "ini", "diff", "output"}
#: The environment variable that cuts every command's training short, and its value here.
BUDGET = {"RLLIB_QMIX_MAX_ITERATIONS": "1"}
#: Blocks running at once (2 CPU cores in CI: a block waits on Ray's start much of its time).
WORKERS = 3
TIMEOUT_S = 600
_MARK = re.compile(r"^\s*<!--\s*not run:\s*(?P<reason>.*?)\s*-->\s*$")
_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[ \t]*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its tag, its code and why it does not run (if marked)."""

    file: str
    line: int
    lang: str
    code: str
    not_run: Optional[str]

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


def read_blocks(file: str) -> list[Block]:
    """The fenced blocks of ``file`` (relative to the repository), in order."""
    lines = (REPO / file).read_text().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, start = m.group("indent"), i
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        code = textwrap.dedent("\n".join(ln[len(indent) :] if ln.startswith(indent) else ln for ln in lines[i + 1 : j]))
        k = start - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        mark = _MARK.match(lines[k]) if k >= 0 and start - k <= 2 else None
        blocks.append(Block(file, start + 1, m.group("lang").lower(), code, mark.group("reason") if mark else None))
        i = j + 1
    return blocks


ALL_BLOCKS = [b for f in DOC_FILES for b in read_blocks(f)]
BASH_BLOCKS = [b for b in ALL_BLOCKS if b.lang in RUNNABLE - {"python"} and b.not_run is None]
PYTHON_FILES = sorted({b.file for b in ALL_BLOCKS if b.lang == "python" and b.not_run is None})


def commands(block: Block) -> str:
    """A shell block's script (for ``console``, its ``$ `` lines)."""
    if block.lang != "console":
        return block.code
    return "\n".join(ln[2:] for ln in block.code.splitlines() if ln.startswith("$ "))


def _normalized(script: str) -> str:
    """A script without comments and line continuations, to tell identical blocks."""
    out = []
    for line in script.replace("\\\n", " ").splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            words = line.split()
        if words:
            out.append(" ".join(words))
    return "\n".join(out)


# ------------------------------------------------------------------- the workspace
def _workspace(root: Path, name: str) -> Path:
    """A folder that looks like the repository to a block: ``benchmarks/`` copied (its results go
    to ``results/`` beside it), everything else the docs name linked, and ``.venv`` standing for
    the installed virtual environment (its ``bin`` is this interpreter's)."""
    ws = root / name
    ws.mkdir(parents=True)
    shutil.copytree(REPO / "benchmarks", ws / "benchmarks", ignore=shutil.ignore_patterns("__pycache__", "results"))
    for entry in REPO.iterdir():
        if entry.name in {"benchmarks", "results", "rllib_qmix", ".git"} or entry.name.startswith(".venv"):
            continue
        (ws / entry.name).symlink_to(entry)
    venv = ws / ".venv"
    venv.mkdir()
    (venv / "bin").symlink_to(Path(sys.executable).parent)
    (venv / ".installed").touch()  # newer than setup.cfg & co: `make` sees the install done
    return ws


def _env(home: Path, mpl: Path) -> dict[str, str]:
    # A block runs as a user would type it: without pytest's or Ray's variables, and without an
    # outer `make`'s (`make test VENV=.venv-ci` puts VENV in the environment and in MAKEFLAGS, and
    # a `make train` in a block would then install into .venv-ci instead of using .venv).
    dropped = ("PYTEST", "RAY_ADDRESS", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")
    makefile_vars = {"PYTHON", "VENV", "PIP_CONSTRAINTS", "PYTEST_ARGS"}
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped) and k not in makefile_vars}
    env.update(BUDGET)
    env.update(
        HOME=str(home),
        MPLCONFIGDIR=str(mpl),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        VIRTUAL_ENV=str(Path(sys.executable).parent.parent),
        OMP_NUM_THREADS="1",
        RAY_USAGE_STATS_ENABLED="0",
        PYTHONUNBUFFERED="1",
    )
    env.pop("PYTHONPATH", None)
    return env


_PY_DRIVER = """\
import sys, traceback
namespace = {"__name__": "__main__"}
for path, origin in zip(sys.argv[1::2], sys.argv[2::2]):
    print(f"--- {origin}", flush=True)
    code = compile(open(path).read(), origin, "exec")
    exec(code, namespace)
"""


@dataclass
class Ran:
    """How a block (or a file's Python blocks) ran."""

    returncode: int
    output: str
    seconds: float


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> Ran:
    started = time.monotonic()
    try:
        proc = subprocess.run(
            argv, cwd=str(cwd), env=env, capture_output=True, text=True, timeout=TIMEOUT_S, start_new_session=True
        )
        rc, out = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as e:
        rc, out = -1, f"timed out after {TIMEOUT_S} s\n{e.stdout or ''}{e.stderr or ''}"
    return Ran(rc, out, time.monotonic() - started)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, request) -> dict[str, Future]:
    """Starts every runnable block (two at a time) and returns their futures by block id."""
    # Only the blocks of the tests selected in this session (e.g. with -k) run.
    wanted = {item.callspec.id for item in request.session.items if hasattr(item, "callspec")}
    root = tmp_path_factory.mktemp("docs")
    mpl = root / "matplotlib"
    mpl.mkdir()
    pool = ThreadPoolExecutor(max_workers=WORKERS)
    futures: dict[str, Future] = {}
    seen: dict[str, str] = {}
    # The longest first: the Python examples, then the shell blocks in order.
    for file in [f for f in PYTHON_FILES if f in wanted]:
        blocks = [b for b in ALL_BLOCKS if b.file == file and b.lang == "python" and b.not_run is None]
        name = re.sub(r"\W", "_", file) + "_python"
        ws = _workspace(root, name)
        argv = [sys.executable, str(ws / "_docs_driver.py")]
        (ws / "_docs_driver.py").write_text(_PY_DRIVER)
        for b in blocks:
            path = ws / f"_block_{b.line}.py"
            path.write_text(b.code + "\n")
            argv += [str(path), b.id]
        futures[f"{file}[python]"] = pool.submit(_run, argv, ws, _env(root / f"home_{name}", mpl))
    for b in [b for b in BASH_BLOCKS if b.id in wanted]:
        key = _normalized(commands(b))
        if key in seen:  # the same commands already run for another block
            futures[b.id] = futures[seen[key]]
            continue
        seen[key] = b.id
        name = re.sub(r"\W", "_", b.id)
        ws = _workspace(root, name)
        argv = ["bash", "-e", "-o", "pipefail", "-c", commands(b)]
        futures[b.id] = pool.submit(_run, argv, ws, _env(root / f"home_{name}", mpl))
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    done = {k: f.result() for k, f in futures.items() if f.done() and not f.cancelled()}
    if capture is not None and done:  # how long each block took: what the docs cost CI
        with capture.global_and_fixture_disabled():
            print(f"\ndocs blocks ({WORKERS} at a time, {BUDGET}), seconds each:")
            for key, ran in sorted(done.items(), key=lambda kv: -kv[1].seconds):
                print(f"  {ran.seconds:6.1f}  {key}  (exit {ran.returncode})")


# ---------------------------------------------------------------------------- tests
def test_the_docs_have_blocks_and_every_tag_is_known() -> None:
    """A block with a tag that is neither runnable nor text would silently never run."""
    assert len([b for b in ALL_BLOCKS if b.file == "README.md" and b.lang in RUNNABLE]) >= 5
    unknown = [f"{b.id} ({b.lang})" for b in ALL_BLOCKS if b.lang not in RUNNABLE | NOT_CODE]
    assert not unknown, f"fenced blocks with a tag that is neither runnable nor text: {unknown}"


def test_every_not_run_mark_gives_a_reason_and_marks_a_runnable_block() -> None:
    for file in DOC_FILES:
        lines = (REPO / file).read_text().splitlines()
        marked = {b.line for b in read_blocks(file) if b.not_run is not None}
        for i, line in enumerate(lines, 1):
            if "not run:" in line and line.strip().startswith("<!--"):
                m = _MARK.match(line)
                assert m and m.group("reason"), f"{file}:{i}: a mark needs a reason: <!-- not run: REASON -->"
                nxt = next(n for n in range(i + 1, len(lines) + 1) if lines[n - 1].strip())
                assert nxt in marked, f"{file}:{i}: the mark is not right above a fenced block"
        for b in read_blocks(file):
            if b.not_run is not None:
                assert b.lang in RUNNABLE, f"{b.id}: a mark on a block that is not code"


@pytest.mark.integration
@pytest.mark.parametrize("block", BASH_BLOCKS, ids=lambda b: b.id)
def test_shell_block_runs(block: Block, runs) -> None:
    ran = runs[block.id].result()
    head = f"{block.id} failed (exit {ran.returncode}) after {ran.seconds:.0f} s"
    assert ran.returncode == 0, f"{head}:\n{ran.output[-6000:]}"


@pytest.mark.integration
@pytest.mark.parametrize("file", PYTHON_FILES)
def test_python_blocks_run(file: str, runs) -> None:
    ran = runs[f"{file}[python]"].result()
    assert ran.returncode == 0, f"{file}'s Python blocks failed after {ran.seconds:.0f} s:\n{ran.output[-6000:]}"


def test_every_table_has_its_header() -> None:
    """Rows cut off from their table by a paragraph render as text (docs/qmix.md's timers rows did)."""
    for file in DOC_FILES:
        lines = (REPO / file).read_text().splitlines()
        fenced, i = False, 0
        while i < len(lines):
            if lines[i].lstrip().startswith("```"):
                fenced = not fenced
            if fenced or not lines[i].lstrip().startswith("|"):
                i += 1
                continue
            start = i
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                i += 1
            assert i - start >= 2 and re.match(r"^\s*\|(\s*:?-+:?\s*\|)+\s*$", lines[start + 1]), (
                f"{file}:{start + 1}: table rows without a header and |---| line above them"
            )


#: Files that speak to users: no notes about the machines this project was developed on, its
#: issue numbers, or paths outside the repository.
USER_FILES = [
    "README.md",
    "Makefile",
    *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md")),
    *sorted(str(p.relative_to(REPO)) for p in (REPO / "scripts").glob("*")),
    *sorted(str(p.relative_to(REPO)) for p in (REPO / "tuned_examples").glob("*.yaml")),
    *sorted(str(p.relative_to(REPO)) for p in (REPO / "benchmarks").glob("*.py")),
    *sorted(str(p.relative_to(REPO)) for p in (REPO / "rllib_qmix").rglob("*.py")),
]
_NOT_FOR_USERS = re.compile(r"\blent\b|\bissues? #?\d+|\.\./\.library|\.\./shared\b|\bdevice machine", re.I)


def test_the_docs_speak_to_users() -> None:
    found = []
    for file in USER_FILES:
        for n, line in enumerate((REPO / file).read_text().splitlines(), 1):
            if _NOT_FOR_USERS.search(line):
                found.append(f"{file}:{n}: {line.strip()[:100]}")
    assert not found, "notes about our own machines, issues or outside paths:\n" + "\n".join(found)
