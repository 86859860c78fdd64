"""Reading a Tune trial's results (result.json, else progress.csv) as flat rows."""

from __future__ import annotations

import csv
import json
import os


def _flatten(d: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in d.items():
        key = f"{prefix}/{k}" if prefix else str(k)
        if isinstance(v, dict):
            out.update(_flatten(v, key))
        else:
            out[key] = v
    return out


def read_results(trial_dir: str) -> list[dict[str, object]]:
    """Rows of flattened results of one trial (result.json, else progress.csv)."""
    rows: list[dict[str, object]] = []
    result_json = os.path.join(trial_dir, "result.json")
    if os.path.isfile(result_json):
        with open(result_json) as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        rows.append(_flatten(json.loads(line)))
                    except json.JSONDecodeError:
                        continue  # a partially written last line
    if not rows and os.path.isfile(os.path.join(trial_dir, "progress.csv")):
        with open(os.path.join(trial_dir, "progress.csv"), newline="") as f:
            rows = [dict(r) for r in csv.DictReader(f)]
    return rows
