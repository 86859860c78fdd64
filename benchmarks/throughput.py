"""Training throughput of QMIX on the embedded simulator, against a minimal plain-torch loop.

``--maps`` takes SMAC maps and SMACv2 scenarios (``--maps protoss_5_vs_5,protoss_10_vs_10``).

Prints tables and writes throughput.json into results/ (``--out DIR`` to choose):
1. env steps/s of the whole training loop and learner updates/s, per map and env-runner
   setting, with the time split into sampling, replay and learner;
2. the same schedule in benchmarks/minimal_qmix.py (no Ray) as the lower bound of overhead;
3. one learner update of 32 episodes on 8m and MMM2, on CPU (and CUDA when present), with the
   learner's malloc setting (``reuse_freed_memory=True``) and without it (the default),
   side by side, each in fresh processes taking turns;
4. replay memory: bytes per stored step, and peak RSS of a full 5000-episode replay on MMM2.

    python benchmarks/throughput.py                 # all sections (~10 min on 2 cores)
    python benchmarks/throughput.py --quick         # fewer steps, 3m only
    python benchmarks/throughput.py --torch-threads 1 --out results/1thread
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import add_out_argument, make_sim_env, out_dir, sim_env_config

# The common schedule of both loops: 8 envs, 1 update of 32 episodes per finished episode.
# Both explore with a fixed epsilon of 0.5, so that episodes (and so updates) per env step match.
SCHEDULE = {"episode_batch_size": 32, "learning_starts": 32, "updates_per_episode": 1.0}
EPSILON = 0.5
#: (name, env runners, envs per runner, reuse_freed_memory). The row with the malloc setting
#: runs last: the setting lasts for the process, and with num_learners=0 the learner is in it.
SETTINGS = [
    ("0 runners x 8 envs", 0, 8, False),
    ("1 runner x 8 envs", 1, 8, False),
    ("2 runners x 4 envs", 2, 4, False),
    ("0 runners x 8 envs, reuse_freed_memory", 0, 8, True),
]


def rllib_throughput(
    map_name: str, runners: int, envs: int, steps: int, learner_gpus: int = 0, reuse_freed_memory: bool = False
) -> dict:
    """Trains QMIX through RLlib until ``steps`` env steps past learning_starts; returns rates.

    The time split is exact: the difference of QMIX's running phase totals
    (``timers/<phase>_time_total_s``) between the first and last timed iteration.
    """
    from rllib_qmix import QMIXConfig
    from rllib_qmix.algorithm.qmix import PHASE_LEARNER, PHASE_REPLAY, PHASE_SAMPLING, PHASE_SYNC

    env, env_config = sim_env_config(map_name)
    config = (
        QMIXConfig()
        .preset("pymarl")  # the minimal loop's learning rule (RMSprop, one-step targets, raw inputs)
        .environment(env, env_config=env_config)
        .env_runners(num_env_runners=runners, num_envs_per_env_runner=envs, rollout_fragment_length=8)
        .training(**SCHEDULE, epsilon_start=EPSILON, epsilon_finish=EPSILON, reuse_freed_memory=reuse_freed_memory)
        .learners(num_learners=0, num_gpus_per_learner=learner_gpus)
        .debugging(seed=0)
    )
    phases = {"sample": PHASE_SAMPLING, "replay": PHASE_REPLAY, "learn": PHASE_LEARNER, "sync": PHASE_SYNC}

    def totals(result: dict) -> dict:
        return {k: float(result["timers"].get(f"{p}_time_total_s", 0.0)) for k, p in phases.items()}

    algo = config.build_algo()
    try:
        while algo.train().get("num_learner_updates_lifetime", 0) < 1:  # warm up: replay filled
            pass
        r0 = algo.train()
        s0, u0, t0 = (
            r0["env_runners"]["num_env_steps_sampled_lifetime"],
            r0["num_learner_updates_lifetime"],
            time.perf_counter(),
        )
        while True:
            r = algo.train()
            if r["env_runners"]["num_env_steps_sampled_lifetime"] - s0 >= steps:
                break
        wall = time.perf_counter() - t0
        n_steps = r["env_runners"]["num_env_steps_sampled_lifetime"] - s0
        n_upd = r["num_learner_updates_lifetime"] - u0
        before, after = totals(r0), totals(r)
        timers = {k: after[k] - before[k] for k in phases}
    finally:
        algo.stop()
    return {
        "env_steps": n_steps,
        "updates": n_upd,
        "wall_s": wall,
        "env_steps_per_s": n_steps / wall,
        "updates_per_s": n_upd / wall,
        "split_s": timers,
    }


def minimal_throughput(map_name: str, steps: int) -> dict:
    from minimal_qmix import MinimalQMIX, Settings

    loop = MinimalQMIX(Settings(map_name=map_name, num_envs=8, epsilon=EPSILON, **SCHEDULE))
    while loop.num_updates < 1:  # warm up exactly as the RLlib path: until the first update
        loop.run(2000)  # whole episodes each call (run() starts fresh ones)
    loop.timers = {k: 0.0 for k in loop.timers}
    u0 = loop.num_updates
    out = loop.run(steps)
    out["updates"] = loop.num_updates - u0
    out["updates_per_s"] = out["updates"] / out["wall_s"]
    return out


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def learner_update_time(map_name: str, device: str, reuse_freed_memory: bool = False, repeats: int = 10) -> dict:
    """Seconds per learner update of 32 full-length episodes on ``device`` (``repeats`` of
    them, after one to warm up), with or without ``reuse_freed_memory``. Run it in a fresh
    process per setting: the malloc setting lasts for the process (see ``learner_update_rows``)."""
    from ray.rllib.core import DEFAULT_MODULE_ID
    from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch

    from rllib_qmix import QMIXConfig
    from rllib_qmix import keys as K
    from rllib_qmix.envs.team import SMACTeamEnv

    spec = SMACTeamEnv(make_sim_env(map_name)).spec
    cfg = (
        QMIXConfig()
        .preset("pymarl")  # the learning rule the recorded learner timings were taken with
        .learners(num_gpus_per_learner=1 if device == "cuda" else 0)
        .training(reuse_freed_memory=reuse_freed_memory)
    )
    learner = cfg.build_learner(spaces={DEFAULT_MODULE_ID: (spec.observation_space(), spec.action_space())})
    b, t, rng = 32, spec.episode_limit, np.random.default_rng(0)
    batch = {
        K.OBS: rng.random((b, t + 1, spec.n_agents, spec.obs_dim), np.float32),
        K.STATE: rng.random((b, t + 1, spec.state_dim), np.float32),
        K.AVAIL_ACTIONS: np.ones((b, t + 1, spec.n_agents, spec.n_actions), bool),
        K.ACTIONS: rng.integers(0, spec.n_actions, (b, t, spec.n_agents)),
        K.REWARDS: rng.random((b, t), np.float32),
        K.TERMINATED: np.zeros((b, t), np.float32),
        K.MASK: np.ones((b, t), np.float32),
    }
    mab = MultiAgentBatch({DEFAULT_MODULE_ID: SampleBatch(batch)}, env_steps=b * t)
    learner.update(batch=mab, timesteps={})
    times = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        learner.update(batch=mab, timesteps={})
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    dev = torch.cuda.get_device_name(0) if device == "cuda" else f"{cpu_name()}, {torch.get_num_threads()} threads"
    return {
        "map": map_name,
        "device": device,
        "device_name": dev,
        "malloc": "reuse_freed_memory" if reuse_freed_memory else "default",
        "episode_len": t,
        "times_s": times,
        "s_per_update": float(np.median(times)),
    }


#: The learner-update variants (reuse_freed_memory): the default, and the malloc setting.
UPDATE_VARIANTS = [False, True]


def learner_update_rows(maps: list[str], device: str, threads: int, rounds: int = 3, repeats: int = 10) -> list[dict]:
    """Every variant of ``UPDATE_VARIANTS`` on every map, each run in a fresh process, the
    variants taking turns for ``rounds`` rounds (so that a slow spell of a shared machine hits
    them all); the median over all rounds' updates, and the speed-up over the first variant."""
    import subprocess

    runs: dict[tuple, list[dict]] = {}
    for _ in range(rounds):
        for m in maps:
            for reuse in UPDATE_VARIANTS:
                cmd = [sys.executable, __file__, "--one-update", m, "--device", device, "--repeats", str(repeats)]
                cmd += ["--torch-threads", str(threads), "--reuse", str(int(reuse))]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                runs.setdefault((m, reuse), []).append(json.loads(out.strip().splitlines()[-1]))
    rows = []
    for results in runs.values():
        times = [t for r in results for t in r["times_s"]]
        row = {k: v for k, v in results[0].items() if k != "times_s"}
        row.update(
            s_per_update=float(np.median(times)),
            s_per_update_min=float(np.min(times)),
            updates_timed=len(times),
            rounds=len(results),
        )
        rows.append(row)
    for row in rows:
        before = [r for r in rows if r["map"] == row["map"] and r["device"] == row["device"]]
        base = next(r for r in before if r["malloc"] == "default")
        row["speedup"] = round(base["s_per_update"] / row["s_per_update"], 2)
    return rows


def _resident_mb() -> float:
    """Resident memory of this process now (MB), from /proc where there is one, else the peak."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def replay_memory(map_name: str = "MMM2", capacity: int = 5000, episode_len: int | None = None) -> dict:
    """Fills a replay with ``capacity`` episodes of ``episode_len`` steps (default: the limit);
    bytes per stored step, the memory the filled buffer holds, and this process's peak RSS."""
    from rllib_qmix.envs.smac import StarCraft2Env
    from rllib_qmix.envs.team import SMACTeamEnv
    from rllib_qmix.learning.replay import EpisodeReplayBuffer
    from rllib_qmix.sampling.episode import TeamEpisode

    spec = SMACTeamEnv(StarCraft2Env(map_name)).spec
    t = episode_len or spec.episode_limit
    rss0 = _resident_mb()
    buf = EpisodeReplayBuffer(spec, capacity)
    ep = TeamEpisode(
        np.ones((t + 1, spec.n_agents, spec.obs_dim), np.float32),
        np.ones((t + 1, spec.state_dim), np.float32),
        np.ones((t + 1, spec.n_agents, spec.n_actions), bool),
        np.zeros((t, spec.n_agents), np.int64),
        np.zeros(t, np.float32),
        True,
        False,
    )
    for _ in range(capacity):
        buf.add([ep])
    held = _resident_mb() - rss0
    per_step = buf.bytes_per_step()
    out = {
        "map": map_name,
        "capacity_episodes": capacity,
        "episode_limit": spec.episode_limit,
        "episode_len": t,
        "bytes_per_step": per_step,
        "real_steps_mb": round(per_step * capacity * (t + 1) / 2**20),
        "padded_arrays_mb": round(per_step * capacity * (spec.episode_limit + 1) / 2**20),
        "resident_mb_held": round(held),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    del buf
    return out


def table(rows: list[dict], cols: list[str]) -> str:
    widths = [max(len(c), *(len(f"{r.get(c, '')}") for r in rows)) for c in cols]
    line = lambda vals: "  ".join(f"{v!s:>{w}}" for v, w in zip(vals, widths))  # noqa: E731
    return "\n".join([line(cols), line(["-" * w for w in widths])] + [line([r.get(c, "") for c in cols]) for r in rows])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--maps", default="3m,8m,MMM2")
    p.add_argument("--steps", type=int, default=10000, help="env steps timed per setting")
    p.add_argument("--quick", action="store_true")
    add_out_argument(p)
    p.add_argument(
        "--skip-loop",
        action="store_true",
        help="leave out the training-loop section (an existing --out file keeps its table)",
    )
    p.add_argument(
        "--skip-memory",
        action="store_true",
        help="leave out the replay-memory section (an existing --out file keeps its table)",
    )
    p.add_argument(
        "--learner-gpus",
        type=int,
        default=0,
        choices=(0, 1),
        help="1: the RLlib rows' learner on the GPU (the minimal loop stays on the CPU)",
    )
    p.add_argument(
        "--torch-threads",
        type=int,
        default=None,
        help="torch threads of this process (both loops' learner; default: torch's, one per core). "
        "Env runner actors get Ray's default of one per CPU they reserve either way.",
    )
    p.add_argument("--update-rounds", type=int, default=3, help="rounds of the learner-update variants")
    p.add_argument("--skip-updates", action="store_true", help="leave out the learner-update section")
    # One learner-update measurement in this process (what learner_update_rows runs).
    p.add_argument("--one-update", metavar="MAP", help=argparse.SUPPRESS)
    p.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    p.add_argument("--repeats", type=int, default=10, help=argparse.SUPPRESS)
    p.add_argument("--reuse", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    if args.one_update:
        res = learner_update_time(args.one_update, args.device, bool(args.reuse), args.repeats)
        print(json.dumps(res))
        return
    maps = ["3m"] if args.quick else args.maps.split(",")
    steps = 2000 if args.quick else args.steps
    import ray

    out: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "cpu": cpu_name(),
            "platform": platform.platform(),
            "torch_threads": torch.get_num_threads(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "learner_gpus": args.learner_gpus,
        },
        "schedule": SCHEDULE,
    }
    rows = []
    if not args.skip_loop:
        ray.init(num_cpus=max(2, os.cpu_count() or 2), include_dashboard=False, log_to_driver=False)
        for m in maps:
            mini = minimal_throughput(m, steps)
            rows.append(
                {
                    "map": m,
                    "setting": "minimal torch loop",
                    "env_steps/s": round(mini["env_steps_per_s"]),
                    "updates/s": round(mini["updates_per_s"], 1),
                    "wall_s": round(mini["wall_s"], 1),
                    "sample_s": round(mini["sample_s"], 1),
                    "replay_s": round(mini["replay_s"], 2),
                    "learn_s": round(mini["learn_s"], 1),
                    "learn_%": round(100 * mini["learn_s"] / mini["wall_s"]),
                    "sync_s": 0.0,
                    "x_minimal": 1.0,
                }
            )
            for name, runners, envs, reuse in SETTINGS:
                res = rllib_throughput(m, runners, envs, steps, args.learner_gpus, reuse)
                split = res["split_s"]
                rows.append(
                    {
                        "map": m,
                        "setting": f"RLlib {name}" + (", GPU learner" if args.learner_gpus else ""),
                        "env_steps/s": round(res["env_steps_per_s"]),
                        "updates/s": round(res["updates_per_s"], 1),
                        "wall_s": round(res["wall_s"], 1),
                        "sample_s": round(split["sample"], 1),
                        "replay_s": round(split["replay"], 2),
                        "learn_s": round(split["learn"], 1),
                        "learn_%": round(100 * split["learn"] / res["wall_s"]),
                        "sync_s": round(split["sync"], 2),
                        "x_minimal": round(res["env_steps_per_s"] / mini["env_steps_per_s"], 2),
                    }
                )
                print(table(rows[-1:], list(rows[-1])), flush=True)
        ray.shutdown()
        out["training_loop"] = rows
        print(f"\nTraining loop (same schedule: batch 32 episodes, 1 update per finished episode, epsilon {EPSILON})")
        print(
            table(
                rows,
                [
                    "map",
                    "setting",
                    "env_steps/s",
                    "x_minimal",
                    "updates/s",
                    "wall_s",
                    "sample_s",
                    "replay_s",
                    "learn_s",
                    "learn_%",
                    "sync_s",
                ],
            )
        )
    if not args.skip_updates:
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        updates = []
        for dev in devices:
            updates += learner_update_rows(["8m", "MMM2"], dev, torch.get_num_threads(), args.update_rounds)
        out["learner_update"] = updates
        print(f"\nOne learner update, 32 full-length episodes (median over {args.update_rounds} rounds of 10)")
        print(
            table(
                [
                    {
                        **u,
                        "ms_per_update": round(1000 * u["s_per_update"], 1),
                        "ms_min": round(1000 * u["s_per_update_min"], 1),
                    }
                    for u in updates
                ],
                ["map", "device", "device_name", "malloc", "episode_len", "ms_per_update", "ms_min", "speedup"],
            )
        )
    if not args.skip_memory:
        # Short episodes first: peak RSS is a high-water mark, so the full-length row shows the peak.
        mem = [replay_memory(episode_len=60), replay_memory()]
        out["replay_memory"] = mem
        print("\nReplay memory (MMM2, 5000 episodes of 60 steps, then of the full 180)")
        print(table(mem, list(mem[0])))
    path = out_dir(args.out) / "throughput.json"
    if path.exists():  # keep the tables of the sections skipped this time
        earlier = json.loads(path.read_text())
        for section, skipped in (
            ("training_loop", args.skip_loop),
            ("learner_update", args.skip_updates),
            ("replay_memory", args.skip_memory),
        ):
            if skipped and section in earlier:
                out[section] = earlier[section]
    path.write_text(json.dumps(out, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
