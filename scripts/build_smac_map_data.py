"""Builds the simulator's map data file from SMAC's decoded map files.

Reads a ``maps.json`` of SMAC's 23 ``.SC2Map`` files decoded (oxwhirl/smac's
``SMAC_Maps/*.SC2Map``, MPQ archives read with ``mpyq``: cell flags, cliff levels, map script
and unit data; one entry per map with ``pathable``, ``cliff_level``, ``cell_flags``, the spawn
calls, the enemy's order and the ``unit_overrides``) and writes the parts the simulator uses to
``rllib_qmix/envs/smac/data/smac_maps.json``, which ships with the package:

- ``pathable``: ground cells units can reach from the spawns (rows y = 0..31, x left to right);
- ``cliff_level``: t3SyncCliffLevel / 64, times 8 (so ramps' 1.125 steps stay integers);
- ``flags``: the raw t3CellFlags byte (bit 0x01 blocks ground units);
- ``allies`` / ``enemies``: one entry per "create N units at P" call of the map script;
- ``order``: the enemy's order (attack-move to a point, to a random point between two, the
  ally unit group, or none);
- ``units``: the gameplay fields of the map's own unit data (the passive "_RL" copies).

Run from the repository root:  python scripts/build_smac_map_data.py PATH/maps.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "rllib_qmix" / "envs" / "smac" / "data" / "smac_maps.json"

#: Gameplay fields of a unit's data entry that the simulator reads.
UNIT_FIELDS = (
    "LifeMax",
    "LifeArmor",
    "LifeRegenRate",
    "ShieldsMax",
    "ShieldRegenDelay",
    "ShieldRegenRate",
    "EnergyStart",
    "EnergyMax",
    "EnergyRegenRate",
    "Speed",
    "Acceleration",
    "Sight",
    "Radius",
    "InnerRadius",
    "SeparationRadius",
    "Mover",
    "DefaultAcquireLevel",
    "Response",
)


#: One character per cell value 0..31 (the grids hold small non-negative integers).
DIGITS = "0123456789abcdefghijklmnopqrstuv"


def _grid_rows(grid: list[list], scale: int = 1) -> list[str]:
    """A [y][x] grid of small non-negative numbers as one string per row, a ``DIGITS`` char a cell."""
    return ["".join(DIGITS[int(round(v * scale))] for v in row) for row in grid]


def _unit(entry: dict) -> dict:
    summary = entry["summary"]
    out = {k: float(summary[k]) if _is_number(summary[k]) else summary[k] for k in UNIT_FIELDS if k in summary}
    for key in ("planes", "attributes", "weapons"):
        out[key] = summary.get(key, [])
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def build(source: Path) -> dict:
    data = json.loads(source.read_text())
    maps = {}
    for name, m in sorted(data.items()):
        assert m["size"] == [32, 32], name
        order = dict(m["enemy_order_detail"])
        order.pop("text", None)
        maps[name] = {
            "pathable": _grid_rows(m["pathable"]),
            "cliff_level": _grid_rows(m["cliff_level"], 8),
            "flags": _grid_rows(m["cell_flags"]),
            "allies": [{"unit": s["unit"], "count": s["count"], "pos": s["pos"]} for s in m["ally_spawn"]],
            "enemies": [{"unit": s["unit"], "count": s["count"], "pos": s["pos"]} for s in m["enemy_spawn"]],
            "order": order,
            "units": {u: _unit(e) for u, e in sorted(m["unit_overrides"].items()) if u.endswith("_RL")},
        }
    return {
        "source": "oxwhirl/smac SMAC_Maps/*.SC2Map, decoded (MPQ archives read with mpyq)",
        "grids": "rows y = 0..31 (bottom first), one char of DIGITS per cell x = 0..31; cliff_level is x8",
        "digits": DIGITS,
        "maps": maps,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", type=Path, help="the decoded maps.json")
    args = ap.parse_args()
    if not args.source.is_file():
        print(f"no decoded map data at {args.source}", file=sys.stderr)
        return 2
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(json.dumps(build(args.source), indent=1, sort_keys=True) + "\n")
    print(f"wrote {TARGET} ({TARGET.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
