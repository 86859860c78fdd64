"""A minimal single-process QMIX loop in plain torch: the lower bound of overhead.

The same networks (``rllib_qmix.models.networks``), replay, targets, batch and update schedule as
the RLlib path, with no Ray: E envs stepped in lock-step, one forward pass per step, whole
episodes into the replay, ``updates_per_episode`` updates per finished episode. Used by
``benchmarks/throughput.py`` to measure what RLlib's machinery costs.

    python benchmarks/minimal_qmix.py --map 3m --steps 20000
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from dataclasses import dataclass

import numpy as np
import torch
from _common import make_sim_env

from rllib_qmix import keys as K
from rllib_qmix.envs.team import SMACTeamEnv
from rllib_qmix.learning.replay import EpisodeReplayBuffer
from rllib_qmix.learning.targets import masked_mse, td_lambda_targets
from rllib_qmix.models.networks import AgentRNN, QMixer, agent_input_dim, build_agent_inputs


@dataclass
class Settings:
    """The knobs shared with the RLlib path (QMIXConfig names)."""

    map_name: str = "3m"
    num_envs: int = 8
    episode_batch_size: int = 32
    updates_per_episode: float = 1.0
    learning_starts: int = 32
    lr: float = 5e-4
    gamma: float = 0.99
    td_lambda: float = 0.0
    target_update_interval: int = 200
    epsilon: float = 0.5
    seed: int = 0


class MinimalQMIX:
    """QMIX in ~100 lines of plain torch over SMAC team envs."""

    def __init__(self, s: Settings) -> None:
        self.s = s
        torch.manual_seed(s.seed)
        self.rng = np.random.default_rng(s.seed)
        self.envs = [SMACTeamEnv(make_sim_env(s.map_name, s.seed + i)) for i in range(s.num_envs)]
        spec = self.spec = self.envs[0].spec
        in_dim = agent_input_dim(spec.obs_dim, spec.n_agents, spec.n_actions, True, True)
        self.agent = AgentRNN(in_dim, spec.n_actions)
        self.mixer = QMixer(spec.n_agents, spec.state_dim)
        self.target_agent, self.target_mixer = copy.deepcopy(self.agent), copy.deepcopy(self.mixer)
        self.params = list(self.agent.parameters()) + list(self.mixer.parameters())
        self.opt = torch.optim.RMSprop(self.params, lr=s.lr, alpha=0.99, eps=1e-5)
        self.replay = EpisodeReplayBuffer(spec, 5000, seed=s.seed)
        self.num_updates = 0
        self.timers = {"sample": 0.0, "replay": 0.0, "learn": 0.0}

    def _inputs(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        onehot = torch.nn.functional.one_hot(actions, self.spec.n_actions).float()
        prev = torch.cat([torch.zeros_like(onehot[:, :1]), onehot], 1)
        return build_agent_inputs(obs, prev, True)

    def _unroll(self, net: AgentRNN, x: torch.Tensor) -> torch.Tensor:
        b, t, n, d = x.shape
        q, _ = net(x.permute(0, 2, 1, 3).reshape(b * n, t, d))
        return q.view(b, n, t, -1).permute(0, 2, 1, 3)

    def update(self) -> float:
        t0 = time.perf_counter()
        batch = {k: torch.from_numpy(v) for k, v in self.replay.sample(self.s.episode_batch_size).items()}
        t1 = time.perf_counter()
        x = self._inputs(batch[K.OBS], batch[K.ACTIONS])
        q = self._unroll(self.agent, x)
        q_taken = q[:, :-1].gather(-1, batch[K.ACTIONS].unsqueeze(-1)).squeeze(-1)
        with torch.no_grad():
            avail = batch[K.AVAIL_ACTIONS] | ~batch[K.AVAIL_ACTIONS].any(-1, keepdim=True)
            tq = self._unroll(self.target_agent, x)[:, 1:]
            best = q.detach()[:, 1:].masked_fill(~avail[:, 1:], -np.inf).argmax(-1, keepdim=True)
            nxt = self.target_mixer(tq.gather(-1, best).squeeze(-1), batch[K.STATE][:, 1:])
            y = td_lambda_targets(
                batch[K.REWARDS], batch[K.TERMINATED], batch[K.MASK], nxt, self.s.gamma, self.s.td_lambda
            )
        loss = masked_mse(self.mixer(q_taken, batch[K.STATE][:, :-1]), y, batch[K.MASK])
        self.opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 10.0)
        self.opt.step()
        self.num_updates += 1
        if self.num_updates % self.s.target_update_interval == 0:
            self.target_agent.load_state_dict(self.agent.state_dict())
            self.target_mixer.load_state_dict(self.mixer.state_dict())
        self.timers["replay"] += t1 - t0
        self.timers["learn"] += time.perf_counter() - t1
        return float(loss.detach())

    def run(self, total_steps: int) -> dict:
        s, spec, e = self.s, self.spec, self.s.num_envs
        obs = [env.reset() for env in self.envs]
        eps = [{"o": [o.obs], "s": [o.state], "v": [o.avail], "a": [], "r": []} for o in obs]
        h = self.agent.initial_state(e * spec.n_agents)
        prev = torch.full((e, spec.n_agents), -1)
        steps, credit, start = 0, 0.0, time.perf_counter()
        while steps < total_steps:
            t0 = time.perf_counter()
            with torch.no_grad():
                o = torch.from_numpy(np.stack([x.obs for x in obs]))
                onehot = torch.nn.functional.one_hot(prev.clamp(min=0), spec.n_actions).float() * (prev >= 0).unsqueeze(
                    -1
                )
                x = build_agent_inputs(o.unsqueeze(1), onehot.unsqueeze(1), True).reshape(e * spec.n_agents, 1, -1)
                q, h = self.agent(x, h)
            avail = np.stack([x.avail for x in obs])
            greedy = np.where(avail, q.view(e, spec.n_agents, -1).numpy(), -np.inf).argmax(-1)
            rand = np.where(avail, self.rng.random(avail.shape), -1).argmax(-1)
            acts = np.where(self.rng.random(greedy.shape) < s.epsilon, rand, greedy)
            prev = torch.from_numpy(acts)
            finished = []
            for i, env in enumerate(self.envs):
                st = env.step(acts[i])
                ep = eps[i]
                ep["a"].append(acts[i])
                ep["r"].append(st.reward)
                ep["o"].append(st.obs.obs)
                ep["s"].append(st.obs.state)
                ep["v"].append(st.obs.avail)
                obs[i] = st.obs
                if st.terminated or st.truncated:
                    from rllib_qmix.sampling.episode import TeamEpisode

                    finished.append(
                        TeamEpisode(
                            np.stack(ep["o"]),
                            np.stack(ep["s"]),
                            np.stack(ep["v"]),
                            np.stack(ep["a"]),
                            np.asarray(ep["r"], np.float32),
                            st.terminated,
                            st.truncated,
                        )
                    )
                    obs[i] = env.reset()
                    eps[i] = {"o": [obs[i].obs], "s": [obs[i].state], "v": [obs[i].avail], "a": [], "r": []}
                    h[i * spec.n_agents : (i + 1) * spec.n_agents] = 0
                    prev[i] = -1
            steps += e
            self.timers["sample"] += time.perf_counter() - t0
            t1 = time.perf_counter()
            self.replay.add(finished)
            self.timers["replay"] += time.perf_counter() - t1
            if len(self.replay) >= s.learning_starts:
                credit += len(finished) * s.updates_per_episode
                while credit >= 1:
                    credit -= 1
                    self.update()
        wall = time.perf_counter() - start
        return {
            "env_steps": steps,
            "wall_s": wall,
            "env_steps_per_s": steps / wall,
            "updates": self.num_updates,
            "updates_per_s": self.num_updates / max(self.timers["learn"], 1e-9),
            **{f"{k}_s": v for k, v in self.timers.items()},
        }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--map", default="3m")
    p.add_argument("--steps", type=int, default=20_000)
    p.add_argument("--envs", type=int, default=8)
    args = p.parse_args()
    print(json.dumps(MinimalQMIX(Settings(map_name=args.map, num_envs=args.envs)).run(args.steps), indent=2))


if __name__ == "__main__":
    main()
