"""A trained team outside RLlib: TeamPolicy from a checkpoint without Ray, its Q-values equal to
the RLModule's with the run's observation normalisation, exports equal to it, bad checkpoints."""

import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from rllib_qmix import QMIXConfig, TeamPolicy
from rllib_qmix import keys as K
from rllib_qmix.algorithm.checkpoints import CheckpointError
from rllib_qmix.algorithm.qmix import _normalizer
from rllib_qmix.deploy.team_policy import MODULE_DIR
from rllib_qmix.envs.smac import StarCraft2Env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A QMIX run on SMAC 3m (embedded simulator) with a few updates and normalised
    observations: its checkpoint, its local env runner's module and the run's normaliser."""
    import ray

    if not ray.is_initialized():  # as the shared fixture does (ray_local is function-scoped)
        ray.init(
            address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1"
        )
    config = (
        QMIXConfig()
        .environment("smac", env_config={"map_name": "3m", "seed": 0})
        .env_runners(num_env_runners=0, rollout_fragment_length=100)
        .training(episode_batch_size=2, learning_starts=2, updates_per_episode=1.0, lr=0.01, normalize_obs=True)
        .debugging(seed=0)
    )
    algo = config.build_algo()
    try:
        algo.train()
        algo.train()
        path = Path(algo.save(str(tmp_path_factory.mktemp("ckpt") / "qmix")).checkpoint.path)
        module = algo.env_runner.module
        module.set_state(
            algo.learner_group.get_state(components="learner/rl_module")["learner"]["rl_module"]["default_policy"]
        )
        normalizer = _normalizer(algo.obs_stats)
        assert normalizer is not None and algo.learner_group.get_state()["learner"]["qmix_counters"]["num_updates"] > 0
    finally:
        algo.stop()
    return {"path": path, "module": module, "normalizer": normalizer}


def play_episode(policy, seed=0, record=None):
    env = StarCraft2Env(map_name="3m", seed=seed)
    env.reset()
    policy.reset()
    terminated, steps = False, 0
    while not terminated:
        obs, avail = np.asarray(env.get_obs()), np.asarray(env.get_avail_actions())
        if record is not None:
            record.append((obs, avail, policy.q_values(obs, avail)))
        actions = policy.act(obs, avail)
        assert avail[np.arange(3), actions].all()
        _, terminated, _ = env.step(actions)
        steps += 1
    return steps


def test_q_values_equal_the_rl_modules_over_an_episode(trained):
    """Step by step through a whole 3m battle, TeamPolicy's Q-values equal the trained RLModule's
    ``_forward`` on the run's normalised observations, GRU state and previous actions carried."""
    policy = TeamPolicy.from_checkpoint(trained["path"])
    steps = []
    play_episode(policy, record=steps)
    module, normalize = trained["module"], trained["normalizer"]
    hidden, prev = module.initial_hidden(1), torch.full((1, 3), -1, dtype=torch.long)
    for obs, avail, q_policy in steps:
        with torch.no_grad():
            out = module._forward(
                {K.OBS: torch.as_tensor(normalize(obs[None])), K.PREV_ACTIONS: prev, K.STATE_IN: hidden}
            )
        q = out[K.Q_VALUES][0].numpy()
        np.testing.assert_allclose(q_policy[avail.astype(bool)], q[avail.astype(bool)], atol=1e-5)
        assert np.isneginf(q_policy[~avail.astype(bool)]).all()
        hidden = out[K.STATE_OUT]
        prev = torch.as_tensor(np.where(avail.astype(bool), q, -np.inf).argmax(-1)[None])
    assert len(steps) > 5


def test_acts_without_starting_ray(trained):
    """A fresh process: the README's plain loop on the embedded simulator; Ray never starts."""
    code = textwrap.dedent(
        f"""
        import ray
        from rllib_qmix import TeamPolicy
        from rllib_qmix.envs.smac import StarCraft2Env

        policy = TeamPolicy.from_checkpoint({str(trained["path"])!r})
        env = StarCraft2Env(map_name="3m")
        env.reset()
        policy.reset()
        terminated, steps = False, 0
        while not terminated:
            actions = policy.act(env.get_obs(), env.get_avail_actions())
            reward, terminated, info = env.step(actions)
            steps += 1
        assert not ray.is_initialized()
        print("steps", steps, "won", info.get("battle_won"))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("steps ")


def test_batched_teams_shapes_and_masks(trained):
    policy = TeamPolicy.from_checkpoint(trained["path"], seed=0)
    policy.reset(n_envs=2)
    env = StarCraft2Env(map_name="3m", seed=1)
    env.reset()
    obs = np.stack([env.get_obs()] * 2)
    avail = np.stack([env.get_avail_actions()] * 2)
    q = policy.q_values(obs, avail)
    assert q.shape == (2, 3, policy.n_actions)
    actions = policy.act(obs, avail)
    assert actions.shape == (2, 3) and (actions[0] == actions[1]).all()
    assert (actions == q.argmax(-1)).all()  # greedy over the available actions
    explored = [policy.act(obs, avail, explore=True, epsilon=1.0) for _ in range(20)]
    assert all(avail[0][np.arange(3), a[0]].all() for a in explored) and len({a.tobytes() for a in explored}) > 1
    with pytest.raises(ValueError, match=r"expects \[2, 3, "):
        policy.act(obs[0], avail[0])


def _three_steps(policy, run_step, teams=2):
    """Q-values and GRU states of ``run_step(obs, prev, hidden)`` and of the policy's own module
    over three steps of ``teams`` teams (raw observations, previous actions including -1), to 1e-5."""
    rng = np.random.default_rng(0)
    obs = torch.as_tensor(rng.normal(size=(3, teams, 3, policy.obs_dim)).astype(np.float32) * 2)
    prev = torch.as_tensor(rng.integers(-1, policy.n_actions, size=(3, teams, 3)))
    h_ref = h_out = torch.zeros(teams, 3, policy.step_module.hidden_dim)
    for t in range(3):
        with torch.no_grad():
            q_ref, h_ref = policy.step_module(obs[t], prev[t], h_ref)
        q_out, h_out = run_step(obs[t], prev[t], h_out)
        np.testing.assert_allclose(np.asarray(q_out), q_ref.numpy(), atol=1e-5)
        np.testing.assert_allclose(np.asarray(h_out), h_ref.numpy(), atol=1e-5)


def test_torchscript_export_equals_the_module(trained, tmp_path):
    policy = TeamPolicy.from_checkpoint(trained["path"])
    scripted = torch.jit.load(str(policy.export_torchscript(tmp_path / "agent.pt")))

    def run(obs, prev, hidden):
        with torch.no_grad():
            return scripted(obs, prev, torch.as_tensor(hidden))

    for teams in (1, 5):
        _three_steps(policy, run, teams)


def test_onnx_export_equals_the_module(trained, tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime", reason="pip install 'rllib_qmix[onnx]'")
    pytest.importorskip("onnx", reason="pip install 'rllib_qmix[onnx]'")
    policy = TeamPolicy.from_checkpoint(trained["path"])
    session = onnxruntime.InferenceSession(str(policy.export_onnx(tmp_path / "agent.onnx")))

    def run(obs, prev, hidden):
        return session.run(None, {"obs": obs.numpy(), "prev_actions": prev.numpy(), "hidden": np.asarray(hidden)})

    for teams in (1, 2, 5):  # the number of teams is a dynamic axis
        _three_steps(policy, run, teams)


def test_onnx_export_without_onnx_names_the_extra(trained, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pip install 'rllib_qmix\[onnx\]'"):
        TeamPolicy.from_checkpoint(trained["path"]).export_onnx(tmp_path / "agent.onnx")


def test_other_algorithms_and_damaged_checkpoints_are_refused(trained, tmp_path):
    from ray.rllib.algorithms.ppo import PPO

    foreign = tmp_path / "foreign"
    shutil.copytree(trained["path"], foreign)
    with open(foreign / "class_and_ctor_args.pkl", "rb") as f:
        ctor = pickle.load(f)
    with open(foreign / "class_and_ctor_args.pkl", "wb") as f:
        pickle.dump({**ctor, "class": PPO}, f)
    with pytest.raises(CheckpointError, match="is a PPO checkpoint, not a QMIX one"):
        TeamPolicy.from_checkpoint(foreign)
    damaged = tmp_path / "damaged"
    shutil.copytree(trained["path"], damaged)
    (damaged / MODULE_DIR / "module_state.pkl").write_bytes(b"")
    with pytest.raises(CheckpointError, match="damaged"):
        TeamPolicy.from_checkpoint(damaged)
    with pytest.raises(CheckpointError, match="No checkpoint directory"):
        TeamPolicy.from_checkpoint(tmp_path / "nothing")
