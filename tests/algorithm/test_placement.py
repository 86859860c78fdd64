"""Env runners, learners or a Tune trial the cluster can't place: one error that says what was
asked, what is free and the likely cause, instead of a silent wait (algorithm/placement.py,
cli/pending.py)."""

from __future__ import annotations

import time

import pytest

from rllib_qmix import PlacementError, QMIXConfig
from rllib_qmix.algorithm import placement
from rllib_qmix.algorithm.placement import Ask, ClusterView, infeasible, unavailable, worker_asks
from tests.cli.test_cli import run_cli


def _view(total: dict, free: dict | None = None, nodes: list | None = None) -> ClusterView:
    return ClusterView(total=total, free=total if free is None else free, nodes=nodes or [total])


def test_what_a_config_asks_for() -> None:
    config = (
        QMIXConfig()
        .environment("two_step_game")
        .env_runners(num_env_runners=12)
        .learners(num_learners=0, num_gpus_per_learner=1)
    )
    asks = worker_asks(config)
    assert asks == [Ask("env runner", 12, {"CPU": 1.0}, "env_runners(num_env_runners=12)")]
    trial = worker_asks(config, main_process=True)  # a Tune trial reserves the learner's process too
    assert trial[0].what == "main process" and trial[0].each == {"CPU": 1.0, "GPU": 1.0}
    assert placement.total(trial) == {"CPU": 13.0, "GPU": 1.0}
    remote = worker_asks(QMIXConfig().environment("two_step_game").learners(num_learners=2, num_gpus_per_learner=1))
    assert remote == [Ask("learner", 2, {"GPU": 1.0}, "learners(num_learners=2, num_gpus_per_learner=1)")]


def test_no_gpu_and_too_few_cpus_are_said_at_once() -> None:
    config = QMIXConfig().environment("two_step_game").env_runners(num_env_runners=12)
    asks = worker_asks(config.learners(num_learners=0, num_gpus_per_learner=1), main_process=True)
    problem = infeasible(asks, _view({"CPU": 2.0}))
    assert "13 CPUs, 1 GPU in all; the cluster has 2 CPUs, 0 GPUs in all" in problem
    assert "no GPU Ray can use here: set num_gpus_per_learner=0" in problem
    assert "more CPUs than the cluster's 2: lower num_env_runners" in problem
    assert unavailable(asks[1:], _view({"CPU": 16.0})) is None
    big = [Ask("env runner", 2, {"CPU": 4.0}, "env_runners(num_env_runners=2, num_cpus_per_env_runner=4)")]
    two_small_nodes = _view({"CPU": 8.0}, nodes=[{"CPU": 2.0}, {"CPU": 6.0}, {"CPU": 2.0}])
    assert infeasible(big, two_small_nodes) is None
    assert "more than any node has" in infeasible(big, _view({"CPU": 8.0}, nodes=[{"CPU": 2.0}] * 4))


def test_resources_held_by_another_algorithm_are_named() -> None:
    asks = [Ask("env runner", 2, {"CPU": 1.0}, "env_runners(num_env_runners=2)")]
    problem = unavailable(asks, _view({"CPU": 2.0}, free={"CPU": 0.0}))
    assert "the cluster has 0 of its 2 CPUs free" in problem
    assert "another algorithm (or other Ray actors) in this cluster still holds them: call algo.stop()" in problem


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has a GPU")
def test_a_learner_on_a_missing_gpu_is_refused_before_anything_starts() -> None:
    config = QMIXConfig().environment("two_step_game").learners(num_learners=0, num_gpus_per_learner=1)
    started = time.monotonic()
    with pytest.raises(PlacementError, match=r"torch finds 0 CUDA devices here.*set num_gpus_per_learner=0"):
        config.build_algo()
    assert time.monotonic() - started < 10


@pytest.mark.integration
def test_a_second_algorithm_while_the_first_holds_the_cpus(ray_local, monkeypatch) -> None:
    """The README's mistake: building a second algorithm (``Algorithm.from_checkpoint``) while
    the first one's env runners hold every CPU waited forever; now it stops with the cause,
    and builds once the first one is stopped."""
    config = QMIXConfig().environment("two_step_game").env_runners(num_env_runners=2, num_envs_per_env_runner=1)
    first = config.build_algo()
    try:
        monkeypatch.setattr(placement, "PLACEMENT_TIMEOUT_S", 2.0)
        started = time.monotonic()
        with pytest.raises(PlacementError) as error:
            config.build_algo()
        assert time.monotonic() - started < 10
        message = str(error.value)
        assert message.startswith("QMIX can't be placed (waited 2 s): it asks for 2 env runners × 1 CPU")
        assert "the cluster has 0 of its 2 CPUs free" in message and "call algo.stop()" in message
    finally:
        first.stop()
    monkeypatch.setattr(placement, "PLACEMENT_TIMEOUT_S", 30.0)
    second = config.build_algo()  # the CPUs come free after stop()
    second.stop()


@pytest.mark.integration
def test_a_trial_that_stays_pending_ends_the_run(ray_local, monkeypatch, tmp_path) -> None:
    """A Tune trial whose CPUs another actor holds: the CLI ends the run with the reason."""
    from rllib_qmix.cli.experiment import CLIError, experiment_from_dict, run_experiment

    monkeypatch.setenv("TUNE_GLOBAL_CHECKPOINT_S", "0")
    monkeypatch.setattr(placement, "PLACEMENT_TIMEOUT_S", 3.0)

    @ray_local.remote(num_cpus=2)
    class Holder:
        def ready(self) -> bool:
            return True

    holder = Holder.remote()
    ray_local.get(holder.ready.remote(), timeout=60)
    spec = experiment_from_dict(
        "held",
        {"run": "QMIX", "env": "two_step_game", "stop": {"training_iteration": 2}, "config": {"num_env_runners": 0}},
        storage_path=str(tmp_path),
    )
    started = time.monotonic()
    try:
        with pytest.raises(CLIError, match=r"no trial of held could start within 3 s: it asks for 1 main process") as e:
            run_experiment(spec)
    finally:
        ray_local.kill(holder)
    assert time.monotonic() - started < 30
    assert "the cluster has 0 of its 2 CPUs free" in str(e.value) and "algo.stop()" in str(e.value)


@pytest.mark.integration
def test_the_cli_refuses_a_gpu_example_on_a_machine_without_one() -> None:
    """`rllib train file tuned_examples/smac_mmm2_gpu.yaml` without a GPU printed its header and
    then nothing for minutes; now one line and exit 2."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    started = time.monotonic()
    proc = run_cli(
        "train", "file", "tuned_examples/smac_mmm2_gpu.yaml", "--storage-path", "/nonexistent/never", timeout=120
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert time.monotonic() - started < 60
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("rllib train: error: a trial of qmix-smac-mmm2-gpu can't be placed: it asks for")
    assert "1 GPU in all" in line and "0 GPUs in all" in line and "set num_gpus_per_learner=0" in line


@pytest.mark.integration
def test_a_tune_trial_with_remote_env_runners_is_not_refused(tmp_path) -> None:
    """Inside a Tune trial the placement group already holds the env runners' CPUs (the cluster
    shows none free): QMIX's own check must not wait for them. 2 CPUs: 1 for the trial, 1 runner."""
    proc = run_cli(
        "train",
        "--algo",
        "QMIX",
        "--env",
        "two_step_game",
        "--config",
        '{"num_env_runners": 1}',
        "--stop",
        '{"training_iteration": 2}',
        "--storage-path",
        str(tmp_path),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "finished at iteration 2" in proc.stdout and "can't be placed" not in proc.stderr


def test_only_a_cluster_that_autoscales_counts_as_one(monkeypatch, tmp_path) -> None:
    """Ray's read-only autoscaler (a local or `ray start` cluster) names each node's own type;
    a cluster config names its node types, and the cluster launcher leaves its bootstrap file."""
    import json

    import ray.experimental.internal_kv as kv

    monkeypatch.setenv("HOME", str(tmp_path))

    def report(mapping: dict) -> None:
        status = {"autoscaler_report": {"node_type_mapping": mapping, "pending_launches": {}}}
        monkeypatch.setattr(kv, "_internal_kv_get", lambda key: json.dumps(status).encode())

    report({"abc": "node_abc", "def": "node_def"})
    assert placement.cluster_can_autoscale() is False
    report({"abc": "ray.head.default"})
    assert placement.cluster_can_autoscale() is True
    report({"abc": "node_abc"})
    (tmp_path / "ray_bootstrap_config.yaml").write_text("cluster_name: x\n")
    assert placement.cluster_can_autoscale() is True


def test_an_autoscaling_cluster_is_waited_for_with_a_message(ray_local, monkeypatch) -> None:
    config = QMIXConfig().environment("two_step_game").env_runners(num_env_runners=64)
    monkeypatch.setattr(placement, "cluster_can_autoscale", lambda: True)
    said = []
    placement.check_placement(config, "QMIX", log=said.append)  # returns: Ray queues the actors
    assert len(said) == 1 and said[0].startswith("QMIX: waiting for the autoscaler to add nodes: it asks for 64")
    monkeypatch.setattr(placement, "cluster_can_autoscale", lambda: False)
    with pytest.raises(PlacementError, match="more CPUs than the cluster's 2"):
        placement.check_placement(config, "QMIX", log=said.append)
