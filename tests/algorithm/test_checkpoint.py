"""Checkpoints: save, restore in a fresh Python process, and keep training."""

import json
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from ray.rllib.core import DEFAULT_MODULE_ID

from rllib_qmix.algorithm.qmix import REPLAY_BUFFER_DIR, REPLAY_BUFFER_STATE
from tests.algorithm.test_qmix import two_step_config

RESTORE_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import ray
    from ray.rllib.algorithms.algorithm import Algorithm

    ray.init(address="local", num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1")
    path, expected_path = sys.argv[1], sys.argv[2]
    expected = json.load(open(expected_path))
    algo = Algorithm.from_checkpoint(path)
    state = algo.learner_group.get_state()["learner"]
    module = state["rl_module"]["default_policy"]
    out = {
        "iteration": algo.iteration,
        "env_steps": algo.metrics.peek(("env_runners", "num_env_steps_sampled_lifetime")),
        "epsilon": algo.env_runner.epsilon,
        "replay": len(algo.replay_buffer),
        "num_updates": algo._num_updates,
        "max_weight_diff": max(
            float(np.abs(np.asarray(module[k]) - np.asarray(v)).max()) for k, v in expected["weights"].items()
        ),
        "keys": sorted(module),
        "has_optimizer_state": bool(state["optimizer"]),
        "opt_steps": [float(s["step"]) for s in next(iter(state["optimizer"].values()))["state"]["state"].values()][:1],
    }
    result = algo.train()
    out["iteration_after"] = algo.iteration
    out["updates_after"] = algo._num_updates
    out["td_loss_after"] = float(result["learners"]["default_policy"]["td_loss"])
    algo.stop()
    print("RESULT" + json.dumps(out))
    """
)


def test_checkpoint_round_trip_in_fresh_process(ray_local, tmp_path):
    cfg = two_step_config().training(
        epsilon_start=1.0, epsilon_finish=0.05, epsilon_anneal_steps=1000, store_replay_buffer_in_checkpoints=True
    )
    algo = cfg.build_algo()
    try:
        for _ in range(12):
            algo.train()
        path = algo.save(str(tmp_path / "ckpt")).checkpoint.path
        # the replay sits beside the pickled state, in its own streamed files
        assert (Path(path) / REPLAY_BUFFER_DIR / "meta.pkl").is_file()
        with open(Path(path) / "algorithm_state.pkl", "rb") as f:
            assert REPLAY_BUFFER_STATE not in pickle.load(f)
        module = algo.learner_group.get_state()["learner"]["rl_module"][DEFAULT_MODULE_ID]
        expected = {
            "iteration": algo.iteration,
            "epsilon": algo.env_runner.epsilon,
            "replay": len(algo.replay_buffer),
            "num_updates": algo._num_updates,
            "env_steps": algo.metrics.peek(("env_runners", "num_env_steps_sampled_lifetime")),
            "weights": {k: np.asarray(v).tolist() for k, v in module.items()},
        }
    finally:
        algo.stop()
    (tmp_path / "expected.json").write_text(json.dumps(expected))
    (tmp_path / "restore.py").write_text(RESTORE_SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(tmp_path / "restore.py"), path, str(tmp_path / "expected.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT"))
    got = json.loads(line[len("RESULT") :])
    assert got["iteration"] == expected["iteration"] == 12
    assert got["env_steps"] == expected["env_steps"]
    assert abs(got["epsilon"] - expected["epsilon"]) < 1e-9 and expected["epsilon"] < 1.0
    assert got["replay"] == expected["replay"] > 0
    assert got["num_updates"] == expected["num_updates"] > 0
    assert got["max_weight_diff"] == 0.0
    assert {"mixer.hyper_w1.0.weight", "target_agent.fc_in.weight", "target_mixer.hyper_b1.weight"} <= set(got["keys"])
    assert got["has_optimizer_state"] and got["opt_steps"][0] == expected["num_updates"]
    assert got["iteration_after"] == 13 and got["updates_after"] > expected["num_updates"]
    assert np.isfinite(got["td_loss_after"])
