"""Fault figures: runs the fault tests and tabulates what each one measured.

Each fault test (tests/algorithm/test_{faults,node_loss,save_faults,learner_death}.py) asserts
what happens and prints one ``figure: FAULT | WHAT HAPPENED`` line; this script runs them with
pytest, prints the table docs/faults.md shows, and writes faults.json into results/ (``--out DIR``).
The churn soak is separate (``benchmarks/soak.py --kill-every 120``).

    python benchmarks/faults.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time

from _common import ROOT, add_out_argument, out_dir

TESTS = [
    "tests/algorithm/test_faults.py",
    "tests/algorithm/test_node_loss.py",
    "tests/algorithm/test_save_faults.py",
    "tests/algorithm/test_learner_death.py",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_out_argument(parser)
    args = parser.parse_args(argv)

    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *TESTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")},
    )
    minutes = (time.monotonic() - start) / 60.0
    rows = [
        {"fault": m.group(1).strip(), "figure": m.group(2).strip()}
        for m in re.finditer(r"^figure: (.+?) \| (.+)$", proc.stdout, re.M)
    ]
    summary = re.findall(r"^=*\s*(\d+ (?:passed|failed).*?)\s*=*$", proc.stdout, re.M)
    width = max((len(r["fault"]) for r in rows), default=5)
    print(f"{'fault':<{width}}  figure")
    for r in rows:
        print(f"{r['fault']:<{width}}  {r['figure']}")
    print(f"\npytest: {summary[-1] if summary else 'no summary'} (exit {proc.returncode}), {minutes:.1f} min")
    out = out_dir(args.out) / "faults.json"
    out.write_text(
        json.dumps(
            {
                "rows": rows,
                "pytest_exit": proc.returncode,
                "pytest_summary": summary[-1] if summary else None,
                "minutes": round(minutes, 2),
                "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0]},
            },
            indent=1,
        )
    )
    print(f"wrote {out}")
    if proc.returncode != 0:
        print(proc.stdout[-4000:], proc.stderr[-2000:], sep="\n", file=sys.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
