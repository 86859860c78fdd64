"""How a trained QMIX team fights: greedy battles of a checkpoint's policy, broken down.

A win rate and a return say how well a team does, not why it loses. This plays greedy battles
with the agent network of a checkpoint (only the network is loaded, not the replay) on the
embedded simulator and reports, over the battles: how they end (win, defeat, time-out), which
unit types die on each side and when, the health left on each side, what the agents choose
(attack, heal, move, stop) and how focused their fire is (distinct enemies shot per step).

    python benchmarks/battle_stats.py results/checkpoints/learning_smac_mmm2.seed1 --map MMM2
    python benchmarks/battle_stats.py CHECKPOINT --map MMM2 --episodes 128 --json out.json

``CHECKPOINT`` is an algorithm checkpoint or its ``.../rl_module/default_policy`` folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

_MODULE_SUBDIR = Path("learner_group") / "learner" / "rl_module" / "default_policy"


def module_dir(checkpoint: Path) -> Path:
    """The agent network's folder inside an algorithm checkpoint (or the folder itself)."""
    for cand in (checkpoint, checkpoint / _MODULE_SUBDIR):
        if any(cand.glob("module_state.*")):  # .pkl, or .msgpack when saved with use_msgpack
            return cand
    raise SystemExit(
        f"no QMIX agent network in {checkpoint} (looked for module_state.* there and in "
        f"{_MODULE_SUBDIR}); pass an algorithm checkpoint or its rl_module/default_policy folder"
    )


def play(module, map_name: str, episodes: int, seed: int, **env_kwargs) -> tuple[list[dict], list[str]]:
    """Plays ``episodes`` greedy battles side by side.

    Returns:
        One dict of statistics per battle, and the unit types (allies first, then enemies).
    """
    from rllib_qmix.envs.smac.engine import Engine
    from rllib_qmix.sampling.acting import TeamActor

    eng = Engine(map_name, episodes, [seed + i for i in range(episodes)], **env_kwargs)
    if module.n_agents != eng.n_agents or module.n_actions != eng.n_actions:
        raise SystemExit(
            f"the checkpoint's network is for {module.n_agents} agents x {module.n_actions} actions, "
            f"{map_name} has {eng.n_agents} x {eng.n_actions}: pass the map it was trained on (--map)"
        )
    eng.reset()
    A, E = eng.n_agents, episodes
    types = eng.units(0)["type"]
    heal_kind = np.array([t == "medivac" for t in types[:A]])
    start_hp = np.stack([eng.units(e)["health"] + eng.units(e)["shield"] for e in range(E)])
    first_death = np.full((E, 2), -1)  # step of the first ally / enemy death
    dead = np.zeros((E, len(types)), bool)  # as of the last step
    actions_seen = [Counter() for _ in range(E)]
    targets_per_step = [[] for _ in range(E)]
    actor = TeamActor(module, E, np.random.default_rng(seed))
    active = np.ones(E, bool)
    ret = np.zeros(E)
    while active.any():
        act = actor.act(eng.obs(), eng.avail, epsilon=0.0)
        act[~active] = 0
        for e in np.flatnonzero(active):
            alive = ~dead[e, :A]
            for a in np.flatnonzero(alive):
                k = int(act[e, a])
                kind = ("heal" if heal_kind[a] else "attack") if k >= 6 else {0: "no-op", 1: "stop"}.get(k, "move")
                actions_seen[e][kind] += 1
            shot = {int(act[e, a]) for a in np.flatnonzero(alive & ~heal_kind) if act[e, a] >= 6}
            if shot:
                targets_per_step[e].append(len(shot))
        rew, term = eng.step(act, active)
        ret[active] += rew[active]
        for e in np.flatnonzero(active):
            now = eng.units(e)["health"] <= 0
            for side, sl in ((0, slice(0, A)), (1, slice(A, None))):
                if first_death[e, side] < 0 and now[sl].any():
                    first_death[e, side] = eng.steps[e]
            dead[e] = now
        active &= ~term
    battles = []
    for e in range(E):
        u = eng.units(e)
        left = u["health"] + u["shield"]
        battles.append(
            {
                "won": bool(eng.won[e]),
                "timed_out": bool(eng.timed_out[e]),
                "length": int(eng.steps[e]),
                "return": float(ret[e]),
                "ally_deaths": dict(Counter(types[:A][dead[e, :A]].tolist())),
                "enemy_deaths": dict(Counter(types[A:][dead[e, A:]].tolist())),
                "ally_hp_left": float(left[:A].sum() / start_hp[e, :A].sum()),
                "enemy_hp_left": float(left[A:].sum() / start_hp[e, A:].sum()),
                "first_ally_death": int(first_death[e, 0]),
                "first_enemy_death": int(first_death[e, 1]),
                "actions": dict(actions_seen[e]),
                "targets_per_step": float(np.mean(targets_per_step[e])) if targets_per_step[e] else 0.0,
            }
        )
    return battles, types.tolist()


def summarize(battles: list[dict], ally_types: list[str], enemy_types: list[str]) -> dict:
    """Means over battles (deaths per type, actions as fractions of alive agent-steps)."""
    n = len(battles)
    mean = lambda key: float(np.mean([b[key] for b in battles]))  # noqa: E731
    acts = Counter()
    for b in battles:
        acts.update(b["actions"])
    total = sum(acts.values()) or 1

    def median_first(key: str) -> float | None:  # over the battles where that side lost a unit
        steps = [b[key] for b in battles if b[key] >= 0]
        return float(np.median(steps)) if steps else None

    return {
        "battles": n,
        "win_rate": mean("won"),
        "timeout_rate": mean("timed_out"),
        "defeat_rate": float(np.mean([not b["won"] and not b["timed_out"] for b in battles])),
        "return": mean("return"),
        "length": mean("length"),
        "ally_deaths": {t: float(np.mean([b["ally_deaths"].get(t, 0) for b in battles])) for t in ally_types},
        "enemy_deaths": {t: float(np.mean([b["enemy_deaths"].get(t, 0) for b in battles])) for t in enemy_types},
        "ally_hp_left": mean("ally_hp_left"),
        "enemy_hp_left": mean("enemy_hp_left"),
        "first_ally_death_step": median_first("first_ally_death"),
        "first_enemy_death_step": median_first("first_enemy_death"),
        "action_fractions": {k: acts[k] / total for k in ("attack", "heal", "move", "stop", "no-op")},
        "targets_per_step": mean("targets_per_step"),
    }


def print_summary(s: dict, counts: dict[str, Counter]) -> None:
    print(
        f"battles {s['battles']}: won {s['win_rate']:.1%}, lost {s['defeat_rate']:.1%}, "
        f"timed out {s['timeout_rate']:.1%}; return {s['return']:.2f}, length {s['length']:.1f} steps"
    )
    for side, key in (("allies", "ally_deaths"), ("enemies", "enemy_deaths")):
        cells = ", ".join(f"{t} {v:.2f}/{counts[side][t]}" for t, v in s[key].items())
        print(f"  {side:8s} dead per battle: {cells}")
    print(
        f"  health left: allies {s['ally_hp_left']:.1%}, enemies {s['enemy_hp_left']:.1%}; "
        f"first death (median step): ally {s['first_ally_death_step']}, enemy {s['first_enemy_death_step']}"
    )
    print(
        "  actions of alive agents: "
        + ", ".join(f"{k} {v:.1%}" for k, v in s["action_fractions"].items())
        + f"; distinct enemies shot per step {s['targets_per_step']:.2f}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--map", required=True, help="the SMAC map the checkpoint was trained on")
    p.add_argument("--episodes", type=int, default=64)
    p.add_argument("--seed", type=int, default=0, help="battle i uses seed + i")
    p.add_argument("--json", type=Path, default=None, help="write the summary and every battle here")
    args = p.parse_args()
    if args.episodes < 1:
        raise SystemExit("--episodes must be at least 1")
    import torch
    from ray.rllib.core.rl_module.rl_module import RLModule

    import rllib_qmix  # noqa: F401  (the module class must be importable to unpickle)

    torch.set_num_threads(1)
    module = RLModule.from_checkpoint(str(module_dir(args.checkpoint)))
    module.eval()
    battles, types = play(module, args.map, args.episodes, args.seed)
    A = module.n_agents
    counts = {"allies": Counter(types[:A]), "enemies": Counter(types[A:])}
    summary = summarize(battles, list(counts["allies"]), list(counts["enemies"]))
    print_summary(summary, counts)
    if args.json:
        args.json.write_text(
            json.dumps(
                {"checkpoint": str(args.checkpoint), "map": args.map, "summary": summary, "battles": battles}, indent=2
            )
        )
        print(f"wrote {args.json}")


if __name__ == "__main__":
    sys.exit(main())
