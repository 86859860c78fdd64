"""Builds the simulator's SC2 unit and weapon data file from StarCraft II's own data tables.

Reads two public git repositories (clones or bare mirrors) and writes the figures the
simulator plays to ``rllib_qmix/envs/smac/data/sc2_data.json``, which ships with the package,
each with the file and field it came from:

- noorus/sc2-gamedata: JSON dumps of SC2's game data per game version. ``units.json`` (speed,
  acceleration, turning, radius, sight, life, shields, armour, attributes, planes, weapons) and
  ``weapons.json`` (range, period, random delay, damage point, backswing, scan range, range
  slop, arc, target filter, and the effect tree: damage, bonuses, hits and their timing,
  splash, missile launch). ``v4.6.2.69232`` is the version behind the SMAC paper's results;
  ``v4.8.2.71663`` (the nearest dump to SMAC's 4.10) is compared field by field and every
  difference is recorded (the build fails on one, since the simulator plays one table).
- SC2Mapster/SC2GameData: the game's XML catalogs. The dumps above hold no missile movers, so
  the missiles' flight (``MoverData.xml``, ``CMoverMissile`` speed, acceleration and maximum
  speed, reached through ``EffectData.xml``'s ``CEffectLaunchMissile`` and ``UnitData.xml``'s
  missile units) and the medivac's heal (``EffectData.xml``'s ``CEffectCreateHealer``,
  ``AbilData.xml``'s ``CAbilEffectTarget`` range) come from there. Those entries are the same
  in every version that repository holds (its history starts at SC2 4.1.3).

Run from the repository root, with the two repositories fetched somewhere:

    python scripts/build_sc2_data.py --gamedata PATH/sc2-gamedata --catalogs PATH/SC2GameData
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "rllib_qmix" / "envs" / "smac" / "data" / "sc2_data.json"

PRIMARY = "v4.6.2.69232"
COMPARED = "v4.8.2.71663"
#: The stock units SMAC's battles use (the agents' "_RL" copies inherit their weapons).
UNITS = ("Marine", "Marauder", "Medivac", "Stalker", "Zealot", "Colossus", "Zergling", "Baneling", "Hydralisk")
STRUCTURES = ("SpineCrawler",)
UNIT_FIELDS = (
    "race",
    "speed",
    "acceleration",
    "turningRate",
    "stationaryTurningRate",
    "radius",
    "sight",
    "lifeMax",
    "lifeArmor",
    "lifeRegenRate",
    "shieldsMax",
    "shieldRegenRate",
    "shieldRegenDelay",
    "energyMax",
    "energyStart",
    "energyRegenRate",
    "attackTargetPriority",
    "armored",
    "light",
    "biological",
    "mechanical",
    "massive",
    "structure",
    "planes",
    "mover",
    "weapons",
)
WEAPON_FIELDS = (
    "range",
    "minScanRange",
    "rangeSlop",
    "period",
    "randomDelayMin",
    "randomDelayMax",
    "damagePoint",
    "backSwing",
    "arc",
    "arcSlop",
    "melee",
    "filterRequires",
)
CATALOG_MODS = ("core", "liberty", "swarm", "void", "libertymulti", "swarmmulti", "voidmulti")


class Source:
    """Reads files of one git repository at its HEAD (a work tree or a bare mirror)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.commit = self._git("rev-parse", "HEAD").strip()

    def _git(self, *args: str) -> str:
        flag = "-C" if (self.path / ".git").exists() else "--git-dir"
        out = subprocess.run(["git", flag, str(self.path), *args], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"git {' '.join(args)} failed in {self.path}: {out.stderr.strip()}")
        return out.stdout

    def text(self, name: str) -> str:
        return self._git("show", f"HEAD:{name}")


# ----------------------------------------------------------------------------- game data dumps
def _by_name(table: dict) -> dict[str, dict]:
    return {entry["name"]: entry for entry in table.values()}


def _damages(effect: dict, delay: float, out: list[dict]) -> None:
    """Flattens an effect tree into its damage effects, each with its delay after the launch
    (persistent effects repeat their children at their periods)."""
    kind = effect.get("type")
    if kind == "damage":
        out.append(
            {
                "name": effect["name"],
                "delay": round(delay, 6),
                "amount": effect["dmgAmount"],
                "armor_reduction": effect["dmgArmorReduction"],
                "bonus": effect["dmgAttributeBonuses"],
                "kind": effect["dmgKind"],
                "splash": effect["dmgSplash"],
                "search_requires": effect.get("searchRequires", []),
                "search_excludes": effect.get("searchExcludes", []),
            }
        )
    elif kind == "persistent":
        periods = effect.get("persistentPeriods", [0.0])
        t = delay
        for k in range(effect.get("persistentCount", 1)):
            t += periods[min(k, len(periods) - 1)]
            for child in effect.get("setEffects", []):
                _damages(child, t, out)
    elif kind == "set":
        for child in effect.get("setEffects", []):
            _damages(child, delay, out)
    elif kind == "missile":
        _damages(effect["impact"], delay, out)


def _weapon(entry: dict) -> dict[str, Any]:
    w = {f: entry[f] for f in WEAPON_FIELDS}
    effect = entry["effect"]
    w["effect_type"] = effect.get("type")
    w["missile_effect"] = effect["name"] if effect.get("type") == "missile" else None
    w["suicide"] = any(e.get("type") == "suicide" for e in effect.get("setEffects", []))
    hits: list[dict] = []
    _damages(effect, 0.0, hits)
    w["damage"] = hits
    return w


def game_data(src: Source, version: str) -> dict[str, Any]:
    units = _by_name(json.loads(src.text(f"{version}/units.json")))
    weapons = _by_name(json.loads(src.text(f"{version}/weapons.json")))
    out_units, out_weapons = {}, {}
    for name in UNITS + STRUCTURES:
        u = units[name]
        out_units[name] = {f: u[f] for f in UNIT_FIELDS}
        for w in u["weapons"]:
            out_weapons[w] = _weapon(weapons[w])
    return {"units": out_units, "weapons": out_weapons}


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Paths at which two JSON values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += differences(a.get(k), b.get(k), f"{path}.{k}" if path else k)
        return out
    return [] if a == b else [f"{path}: {a!r} -> {b!r}"]


# ----------------------------------------------------------------------------- XML catalogs
def _catalog(src: Source, kind: str) -> dict[str, ET.Element]:
    """id -> the first definition of each entry of one catalog (``MoverData``...) over the mods in
    load order; the mods that define it again are kept in its ``_mods`` attribute (for the
    entries read here they add validators only, which the output lists)."""
    found: dict[str, ET.Element] = {}
    owner: dict[str, str] = {}
    for mod in CATALOG_MODS:
        try:
            text = src.text(f"mods/{mod}.sc2mod/base.sc2data/GameData/{kind}.xml")
        except SystemExit:
            continue
        for el in ET.fromstring(text):
            i = el.get("id")
            if i is None:
                continue
            if i in found:
                owner[i] = owner[i] + "," + mod
            else:
                found[i], owner[i] = el, mod
    for i, el in found.items():
        el.set("_mods", owner[i])
    return found


def _value(el: ET.Element | None, tag: str) -> str | None:
    if el is None:
        return None
    child = el.find(tag)
    return None if child is None else child.get("value")


def _mover(movers: dict[str, ET.Element], name: str) -> dict[str, Any]:
    """A missile mover's first motion phase, following ``parent`` links."""
    fields: dict[str, Any] = {}
    chain = []
    while name:
        el = movers[name]
        chain.append(f"{name} ({el.get('_mods')})")
        phase = el.find("MotionPhases")
        for tag in ("Speed", "Acceleration", "MaxSpeed"):
            v = _value(phase, tag)
            if v is not None and tag not in fields:
                fields[tag] = float(v)
        name = el.get("parent")
    return {"chain": chain, **fields}


def catalogs(src: Source, missile_effects: list[str]) -> dict[str, Any]:
    effects, units, movers = _catalog(src, "EffectData"), _catalog(src, "UnitData"), _catalog(src, "MoverData")
    abils = _catalog(src, "AbilData")
    out: dict[str, Any] = {"missiles": {}}
    for name in missile_effects:
        el = effects[name]
        link = el.find("Movers")
        if link is not None:  # movers of its own, by range: the last covers the weapon's full range
            entries = el.findall("Movers")
            mover = entries[-1].get("Link")
            via = f"EffectData {name}.Movers"
        else:  # the missile unit's mover: its Mover field, else a mover named after the unit
            ammo = _value(el, "AmmoUnit")
            mover = _value(units.get(ammo), "Mover") or ammo
            via = f"EffectData {name}.AmmoUnit={ammo} -> UnitData {ammo}.Mover"
        out["missiles"][name] = {"mover": mover, "via": via, **_mover(movers, mover)}
    heal = effects["MedivacHeal"]
    out["medivac_heal"] = {
        "rate": float(_value(heal, "RechargeVitalRate")),
        "energy_per_life": float(_value(heal, "DrainVitalCostFactor")),
        "range": float(_value(abils["MedivacHeal"], "Range")),
        "autocast_range": float(_value(abils["MedivacHeal"], "AutoCastRange")),
        "via": "EffectData CEffectCreateHealer MedivacHeal (RechargeVitalRate, DrainVitalCostFactor); "
        "AbilData CAbilEffectTarget MedivacHeal (Range, AutoCastRange)",
        "defined_in": heal.get("_mods"),
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gamedata", type=Path, required=True, help="noorus/sc2-gamedata (clone or bare mirror)")
    ap.add_argument("--catalogs", type=Path, required=True, help="SC2Mapster/SC2GameData (clone or bare mirror)")
    ap.add_argument("--out", type=Path, default=TARGET)
    args = ap.parse_args()
    gd, cat = Source(args.gamedata), Source(args.catalogs)
    data = game_data(gd, PRIMARY)
    diff = differences(data, game_data(gd, COMPARED))
    if diff:
        sys.exit(f"{PRIMARY} and {COMPARED} differ for the simulator's units:\n" + "\n".join(diff))
    missiles = sorted({w["missile_effect"] for w in data["weapons"].values() if w["missile_effect"]})
    out = {
        "about": "SC2's figures for the simulator's stock units; built by scripts/build_sc2_data.py.",
        "sources": {
            "gamedata": {
                "repo": "noorus/sc2-gamedata",
                "commit": gd.commit,
                "files": [f"{PRIMARY}/units.json", f"{PRIMARY}/weapons.json"],
                "identical_in": COMPARED,
            },
            "catalogs": {
                "repo": "SC2Mapster/SC2GameData",
                "commit": cat.commit,
                "files": [
                    f"mods/{{{','.join(CATALOG_MODS)}}}.sc2mod/base.sc2data/GameData/{{Effect,Unit,Mover,Abil}}Data.xml"
                ],
            },
        },
        "units": data["units"],
        "weapons": data["weapons"],
        **catalogs(cat, missiles),
    }
    args.out.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out}: {len(out['units'])} units, {len(out['weapons'])} weapons, {len(missiles)} missiles")


if __name__ == "__main__":
    main()
