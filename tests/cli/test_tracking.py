"""rllib train --wandb-project / --mlflow-tracking-uri: Tune's logger callbacks, run offline
(W&B's offline mode, MLflow's file store), and one clear error naming the missing extra."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rllib_qmix.cli.experiment import CLIError
from rllib_qmix.cli.main import main
from rllib_qmix.cli.tracking import check_tracking

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "module,flag,extra", [("wandb", "--wandb-project", "wandb"), ("mlflow", "--mlflow-tracking-uri", "mlflow")]
)
def test_missing_package_names_the_extra(monkeypatch, capsys, module, flag, extra):
    import rllib_qmix.cli.main as cli_main

    started = []
    monkeypatch.setattr(cli_main, "init_ray", lambda *a, **k: started.append(a))
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    with pytest.raises(CLIError, match=rf"{flag} needs the {module} package: pip install 'rllib_qmix\[{extra}\]'"):
        check_tracking("p" if module == "wandb" else None, "file:///tmp/x" if module == "mlflow" else None)
    code = main(["train", "--algo", "QMIX", "--env", "two_step_game", flag, "x"])
    err = capsys.readouterr().err
    assert code == 2 and f"rllib_qmix[{extra}]" in err and len(err.strip().splitlines()) == 1
    assert started == []  # refused before Ray starts


def test_offline_wandb_and_mlflow_file_store(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    mlflow = pytest.importorskip("mlflow")
    store = f"file://{tmp_path / 'mlruns'}"
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path), "WANDB_SILENT": "true"}
    env["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3 keeps its file store behind this switch
    config = (
        '{"num_envs_per_env_runner": 4, "rollout_fragment_length": 2, "learning_starts": 8, "episode_batch_size": 8}'
    )
    cmd = [
        sys.executable, "-m", "rllib_qmix.cli.main", "train", "--algo", "QMIX", "--env", "two_step_game",
        "--name", "tracked", "--config", config, "--stop", '{"training_iteration": 3}',
        "--storage-path", str(tmp_path / "runs"), "--wandb-project", "qmix-test", "--mlflow-tracking-uri", store,
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=400, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    runs = list((tmp_path / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and list(runs[0].glob("*.wandb")), list(tmp_path.rglob("*"))[:20]
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = mlflow.tracking.MlflowClient(tracking_uri=store)
    experiment = client.get_experiment_by_name("tracked")
    (run,) = client.search_runs([experiment.experiment_id])
    history = client.get_metric_history(run.info.run_id, "training_iteration")
    assert [m.value for m in history] == [1.0, 2.0, 3.0]
    assert list((tmp_path / "runs" / "tracked").rglob("events.out.tfevents*"))  # TensorBoard as before
