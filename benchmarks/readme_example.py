"""What the README's Python example reaches: runs its first Python block as written, N times.

Each run is a fresh Python process (its own local Ray) that executes the block exactly as
README.md has it (500 iterations of QMIX on 3m, then save, ``algo.stop()``,
``Algorithm.from_checkpoint`` and a greedy evaluation). The block prints the greedy win rate
before training, the exploring win rate at the end and the greedy win rate of the restored
algorithm; this script collects those and the wall time per run.

    python benchmarks/readme_example.py --runs 2

Prints a table and writes readme_example.json into results/ (``--out DIR`` to choose).
``RLLIB_QMIX_MAX_ITERATIONS`` in the environment shortens the block's training, as it would
for the README's reader; a run measured so says so in the file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, add_out_argument, out_dir

_PRINTED = {
    "greedy_before": "greedy win rate before:",
    "exploring_end": "exploring win rate:",
    "greedy_after": "greedy win rate after:",
}


def readme_example() -> str:
    """The first ```python block after the README's "## Python" heading."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("\n## Python\n") :]
    match = re.search(r"^```python\n(.*?)^```", section, re.M | re.S)
    if match is None:
        raise SystemExit("README.md has no ```python block under '## Python'")
    return match.group(1)


def run_once(code: str) -> dict:
    """Runs the block in a fresh process (in a scratch folder, with its own HOME)."""
    with tempfile.TemporaryDirectory(prefix="readme_example_") as tmp:
        script = Path(tmp) / "example.py"
        script.write_text(code)
        env = {**os.environ, "HOME": tmp, "RAY_USAGE_STATS_ENABLED": "0"}
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, str(script)], cwd=tmp, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"the README's example failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    row: dict = {"minutes": round(seconds / 60, 2)}
    for key, prefix in _PRINTED.items():
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith(prefix)), None)
        row[key] = float(line[len(prefix) :]) if line is not None else None
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=2, help="fresh runs of the block (default 2)")
    add_out_argument(p)
    args = p.parse_args()
    code = readme_example()
    rows = []
    for i in range(args.runs):
        rows.append(run_once(code))
        print(f"run {i}: {rows[-1]}", flush=True)
    print(f"\n{'run':>4} {'greedy before':>14} {'exploring at end':>17} {'greedy after':>13} {'minutes':>8}")
    for i, r in enumerate(rows):
        cells = [f"{100 * r[k]:.1f}%" if r[k] is not None else "n/a" for k in _PRINTED]
        print(f"{i:>4} {cells[0]:>14} {cells[1]:>17} {cells[2]:>13} {r['minutes']:>8.1f}")
    capped = os.environ.get("RLLIB_QMIX_MAX_ITERATIONS")
    path = out_dir(args.out) / "readme_example.json"
    path.write_text(json.dumps({"iteration_cap": capped, "runs": rows}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
