"""Reference returns on mpe2 simple_spread (3 agents, 25 steps), to put QMIX's return in context.

Two policies, each over ``--episodes`` seeded episodes, scored as QMIX is scored: the team
return is the sum of the agents' rewards over the episode.

- ``random``: a uniformly random action per agent and step.
- ``assignment``: a scripted, decentralised policy. Each agent rebuilds all positions relative
  to itself from its own observation, finds the assignment of agents to landmarks with the
  least total distance (the same for every agent), and steers to its landmark, braking for its
  velocity. A hand-written policy that knows the task's answer; a yardstick, not an optimum.

    python benchmarks/mpe_baselines.py --episodes 200

Prints a table and writes mpe_baselines.json into results/ (``--out DIR`` to choose).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
from collections.abc import Callable

import numpy as np
from _common import out_dir

N_AGENTS = 3
# mpe2's discrete actions: 0 no-op, 1 -x, 2 +x, 3 -y, 4 +y.
_AXIS_ACTIONS = ((1, 2), (3, 4))


def parse_obs(obs: np.ndarray, n: int = N_AGENTS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """simple_spread's observation -> (own velocity [2], landmarks [n, 2], other agents [n-1, 2]),
    positions relative to the agent."""
    vel = obs[0:2]
    landmarks = obs[4 : 4 + 2 * n].reshape(n, 2)
    others = obs[4 + 2 * n : 4 + 2 * n + 2 * (n - 1)].reshape(n - 1, 2)
    return vel, landmarks, others


def assignment_action(obs: np.ndarray, index: int, brake: float = 0.5, tolerance: float = 0.05) -> int:
    """The scripted policy's action for agent ``index`` (its place among the agents)."""
    vel, landmarks, others = parse_obs(obs)
    agents = np.insert(others, index, np.zeros(2), axis=0)  # every agent, relative to this one
    best = min(
        itertools.permutations(range(N_AGENTS)),
        key=lambda p: sum(np.linalg.norm(agents[a] - landmarks[p[a]]) for a in range(N_AGENTS)),
    )
    delta = landmarks[best[index]] - brake * vel  # aim where braking for the velocity leads
    if np.abs(delta).max() < tolerance:
        return 0
    axis = int(np.argmax(np.abs(delta)))
    return _AXIS_ACTIONS[axis][int(delta[axis] > 0)]


def team_returns(policy: Callable[[dict, np.random.Generator], dict], episodes: int, seed: int) -> list[float]:
    """Team returns of ``policy`` (observations, rng -> actions) over seeded episodes."""
    from rllib_qmix.envs.mpe import make_simple_spread

    env = make_simple_spread({"N": N_AGENTS, "max_cycles": 25})
    rng = np.random.default_rng(seed)
    out = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        total = 0.0
        while env.agents:
            obs, rewards, _, _, _ = env.step(policy(obs, rng))
            total += float(sum(rewards.values()))
        out.append(total)
    env.close()
    return out


def random_policy(obs: dict, rng: np.random.Generator) -> dict:
    return {agent: int(rng.integers(5)) for agent in obs}


def scripted_policy(obs: dict, rng: np.random.Generator) -> dict:
    return {agent: assignment_action(o, i) for i, (agent, o) in enumerate(sorted(obs.items()))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--episodes", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    rows = []
    for name, policy in (("random", random_policy), ("assignment", scripted_policy)):
        returns = team_returns(policy, args.episodes, args.seed)
        rows.append(
            {
                "policy": name,
                "episodes": len(returns),
                "mean": statistics.fmean(returns),
                "std": statistics.pstdev(returns),
                "min": min(returns),
                "max": max(returns),
            }
        )
    print(f"{'policy':>12} {'episodes':>9} {'mean':>8} {'std':>7} {'min':>8} {'max':>8}")
    for r in rows:
        print(
            f"{r['policy']:>12} {r['episodes']:>9} {r['mean']:>8.1f} {r['std']:>7.1f} {r['min']:>8.1f} {r['max']:>8.1f}"
        )
    (out_dir(args.out) / "mpe_baselines.json").write_text(json.dumps({"seed": args.seed, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
