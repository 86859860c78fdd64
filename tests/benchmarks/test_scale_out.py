"""The scale-out benchmark: its rows, which phase bounds a row, and one real measurement."""

from __future__ import annotations

from tests.benchmarks._load import load_benchmark

scale_out = load_benchmark("scale_out")
throughput = load_benchmark("throughput")


def test_bound_names_the_longer_phase():
    assert scale_out.bound({"sample": 1.0, "learn": 3.0}) == "learner"
    assert scale_out.bound({"sample": 2.0, "learn": 0.5}) == "sampling"


def test_rows_cover_every_map_device_and_runner_count():
    calls = []

    def measure(m, n, envs, steps, gpus):
        calls.append((m, n, envs, steps, gpus))
        learn = 4.0 if not gpus else 0.5  # a slow CPU learner, a fast GPU one
        return {
            "env_steps_per_s": 100.0 * n,
            "updates_per_s": 2.0,
            "wall_s": 5.0,
            "split_s": {"sample": 1.0, "learn": learn},
        }

    rows = scale_out.scale_rows(["3m", "MMM2"], [1, 4], 2, [0, 1], 500, measure)
    assert calls == [(m, n, 2, 500, g) for m in ("3m", "MMM2") for g in (0, 1) for n in (1, 4)]
    assert [(r["map"], r["learner"], r["runners"]) for r in rows] == [
        (m, d, n) for m in ("3m", "MMM2") for d in ("CPU", "GPU") for n in (1, 4)
    ]
    cpu, gpu = rows[0], rows[2]
    assert (cpu["learn_%"], cpu["sample_%"], cpu["bound"]) == (80, 20, "learner")
    assert (gpu["learn_%"], gpu["bound"]) == (10, "sampling")
    assert rows[1]["env_steps/s"] == 400


def test_rllib_throughput_measures_a_short_run(ray_local):
    """The RLlib loop of throughput.py (which scale_out.py runs per row) on 3m, 1 runner."""
    res = throughput.rllib_throughput("3m", runners=1, envs=2, steps=300)
    assert res["env_steps"] >= 300 and res["updates"] >= 1
    assert res["env_steps_per_s"] > 0 and res["wall_s"] > 0
    assert res["split_s"]["learn"] > 0 and res["split_s"]["sample"] > 0
