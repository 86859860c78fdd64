"""Tests of the `rllib` console script (rllib_qmix.cli.main).

Fast tests call ``main()`` in-process and never start Ray; the end-to-end tests run
the CLI in a subprocess on tiny budgets (PPO on CartPole, QMIX on the embedded 3m).
"""

from __future__ import annotations

import glob
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # also works before the package is (re)installed
    sys.path.insert(0, str(REPO))

from rllib_qmix.cli import main as cli  # noqa: E402
from rllib_qmix.cli.experiment import (  # noqa: E402
    CLIError,
    build_config,
    load_experiments,
    normalize_stop,
)
from rllib_qmix.cli.progress import CLIStopper, format_line  # noqa: E402

PPO_CONFIG = {
    "train_batch_size_per_learner": 256,
    "minibatch_size": 64,
    "num_epochs": 1,
    "num_env_runners": 0,
}


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    return env


def run_cli(*args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    """Runs `rllib ARGS` in a fresh Python process."""
    return subprocess.run(
        [sys.executable, "-m", "rllib_qmix.cli.main", *args],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(REPO),
    )


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture(autouse=True)
def _restore_logging_and_env(monkeypatch):
    """main() quiets Ray's loggers and sets env vars: undo that for other tests."""
    import logging

    for var in ("RAY_AIR_NEW_OUTPUT", "RAY_DEDUP_LOGS", "TUNE_DISABLE_SIGINT_HANDLER"):
        if var in os.environ:
            monkeypatch.setenv(var, os.environ[var])  # restored on teardown
        else:
            monkeypatch.delenv(var, raising=False)
    names = ("ray", "ray.rllib", "ray.tune", "ray.train")
    levels = {n: logging.getLogger(n).level for n in names}
    yield
    for n, level in levels.items():
        logging.getLogger(n).setLevel(level)


# ------------------------------------------------------------------ parser / help
def test_console_script_is_declared() -> None:
    eps = metadata.entry_points(group="console_scripts")
    assert any(ep.name == "rllib" and ep.value == "rllib_qmix.cli.main:main" for ep in eps)


@pytest.mark.parametrize("argv", [[], ["train"], ["train", "file"], ["evaluate"], ["plot"]])
def test_help_on_every_command(argv, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main([*argv, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: rllib")
    assert "example" in out


def test_train_usage_names_each_form_once(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    usage = capsys.readouterr().out.split("\n\n")[0]
    assert usage.count("file") == 1 and usage.count("--algo ALGO") == 1
    assert usage.startswith("usage: rllib train file PATH.yaml")


def test_help_examples_use_folders_that_commands_create() -> None:
    """Every ~/ray_results/NAME in the help texts and the README is an experiment a command there
    creates: a tuned example's name, or the ALGO_ENV name of `train --algo ALGO --env ENV`."""
    yamls = glob.glob(str(REPO / "tuned_examples" / "*.yaml"))
    names = {spec.name for path in yamls for spec in load_experiments(path)}
    texts = {
        "help": cli.TRAIN_EPILOG + cli.FILE_EPILOG + cli.EVALUATE_EPILOG + cli.PLOT_EPILOG,
        "README.md": (REPO / "README.md").read_text(),
    }
    for where, text in texts.items():
        names_here = names | {f"{a}_{e}" for a, e in re.findall(r"--algo (\S+) --env (\S+)", text)}
        used = re.findall(r"~/ray_results/([\w.-]+)(/[^\s)`'\"]*)?", text)
        assert used, where
        for name, below in used:
            assert name in names_here, f"{where}: ~/ray_results/{name} is made by no command"
            assert not below, f"{where}: ~/ray_results/{name}{below}: trial folders are named by Tune"


# --------------------------------------------------------------------- bad input
BAD_YAML = {
    "malformed": ("a:\n  run: PPO\n  config: [1, 2\n", "malformed YAML"),
    "not_a_mapping": ("- just\n- a list\n", "must map experiment names"),
    "unknown_algo": ("a:\n  run: PPOO\n  env: CartPole-v1\n", "unknown algorithm 'PPOO' (did you mean 'PPO'?)"),
    "bad_import": (
        "a:\n  run: no_such_pkg.mod:Algo\n  env: CartPole-v1\n",
        "cannot import algorithm 'no_such_pkg.mod:Algo'",
    ),
    "unknown_env": ("a:\n  run: PPO\n  env: CartPol-v1\n", "unknown environment 'CartPol-v1'"),
    "unknown_key": (
        "a:\n  run: PPO\n  env: CartPole-v1\n  config:\n    lrr: 0.1\n",
        "unknown config key 'lrr' for PPO (did you mean 'lr'?)",
    ),
    "method_as_key": (
        "a:\n  run: PPO\n  env: CartPole-v1\n  config:\n    training: {}\n",
        "unknown config key 'training'",
    ),
    "bad_value": (
        "a:\n  run: PPO\n  env: CartPole-v1\n  config:\n    minibatch_size: 1000\n"
        "    train_batch_size_per_learner: 100\n",
        "invalid config for PPO",
    ),
    "unknown_exp_key": (
        "a:\n  run: PPO\n  env: CartPole-v1\n  stopp: {}\n",
        "unknown key 'stopp' (did you mean 'stop'?)",
    ),
    "no_algo": ("a:\n  env: CartPole-v1\n", "names no algorithm"),
    "bad_stop": ("a:\n  run: PPO\n  env: CartPole-v1\n  stop: {training_iteration: soon}\n", "must be a number"),
}


def _one_error_line(capsys, code: int) -> str:
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


@pytest.mark.parametrize("case", sorted(BAD_YAML))
def test_bad_yaml_is_one_line_exit_2(case, tmp_path, capsys) -> None:
    text, expected = BAD_YAML[case]
    path = write_yaml(tmp_path / "exp.yaml", text)
    line = _one_error_line(capsys, cli.main(["train", "file", str(path)]))
    assert line.startswith("rllib train: error:")
    assert expected in line


def test_missing_file(tmp_path, capsys) -> None:
    line = _one_error_line(capsys, cli.main(["train", "file", str(tmp_path / "nope.yaml")]))
    assert "experiment file not found" in line and "nope.yaml" in line


@pytest.mark.parametrize(
    "argv,expected",
    [
        (["train", "--algo", "PPO", "--env", "CartPole-v1", "--stop", "{x"], "--stop is not valid JSON"),
        (["train", "--algo", "PPO", "--env", "CartPole-v1", "--config", "[1]"], "--config must be a JSON object"),
        (["train", "--algo", "PPO"], "--algo needs --env"),
        (["train"], "nothing to train"),
        (
            ["train", "--algo", "PPO", "--env", "CartPole-v1", "--ray-address", "127.0.0.1:1"],
            "cannot connect to Ray at '127.0.0.1:1'",
        ),
        (
            ["train", "--algo", "DQN", "--env", "ray.rllib.examples.envs.classes.random_env.NoSuchEnv"],
            "cannot import environment",
        ),
        (["train", "--algo", "QMXI", "--env", "smac"], "unknown algorithm 'QMXI' (did you mean 'QMIX'?)"),
        (["train", "--algo", "qmix", "--env", "smac"], "unknown algorithm 'qmix' (did you mean 'QMIX'?)"),
        (["train", "--algo", "QMIX", "--env", "smak"], "(did you mean 'smac'?)"),
    ],
)
def test_bad_flags(argv, expected, capsys) -> None:
    assert expected in _one_error_line(capsys, cli.main(argv))


def test_not_a_checkpoint(tmp_path, capsys) -> None:
    line = _one_error_line(capsys, cli.main(["evaluate", str(tmp_path / "missing")]))
    assert "checkpoint not found" in line
    (tmp_path / "empty").mkdir()
    line = _one_error_line(capsys, cli.main(["evaluate", str(tmp_path / "empty")]))
    assert "not an RLlib checkpoint" in line
    bad = tmp_path / "bad" / "checkpoint_000001"
    bad.mkdir(parents=True)
    (bad / "class_and_ctor_args.pkl").write_bytes(b"not a pickle")
    line = _one_error_line(capsys, cli.main(["evaluate", str(tmp_path / "bad")]))
    assert "cannot read checkpoint" in line


def test_bad_input_in_a_real_process(tmp_path) -> None:
    """The console entry itself: exit code 2 and one line, no traceback wall."""
    path = write_yaml(tmp_path / "exp.yaml", "a:\n  run: PPO\n  env: CartPole-v1\n  config:\n    lrr: 1\n")
    proc = run_cli("train", "file", str(path), timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert [ln for ln in proc.stderr.splitlines() if "error" in ln] == [
        "rllib train: error: unknown config key 'lrr' for PPO (did you mean 'lr'?)"
    ]


# ------------------------------------------------------------------ loader logic
def test_loader_accepts_classic_and_old_style_keys(tmp_path) -> None:
    path = write_yaml(
        tmp_path / "exp.yaml",
        """
cartpole:
  run: ray.rllib.algorithms.ppo:PPO
  env: CartPole-v1
  env_config: {}
  stop: {env_runners: {episode_return_mean: 150}, timesteps_total: 10000}
  checkpoint_freq: 3
  checkpoint_at_end: false
  num_samples: 2
  local_dir: results
  config:
    num_workers: 0
    lambda: 0.9
    framework: torch
    lr: {grid_search: [0.001, 0.0001]}
    model: {fcnet_hiddens: [32]}
dqn:
  algo: DQN
  env: CartPole-v1
  config: {env_config: {}, num_env_runners: 0}
""",
    )
    specs = load_experiments(str(path))
    ppo, dqn = specs
    assert ppo.algo_cls.__name__ == "PPO" and dqn.algo_cls.__name__ == "DQN"
    assert ppo.stop == {"env_runners/episode_return_mean": 150, "num_env_steps_sampled_lifetime": 10000}
    assert (ppo.checkpoint_freq, ppo.checkpoint_at_end, ppo.num_samples) == (3, False, 2)
    assert ppo.storage_path == os.path.abspath("results")
    assert ppo.param_space["env"] == "CartPole-v1"
    assert ppo.param_space["lr"] == {"grid_search": [0.001, 0.0001]}  # Tune expands it
    assert dqn.checkpoint_at_end is True and dqn.storage_path is None
    config = build_config(ppo.algo_cls, ppo.param_space)
    assert (config.num_env_runners, config.lambda_, config.lr) == (0, 0.9, 0.001)


def test_cli_overrides(tmp_path) -> None:
    path = write_yaml(
        tmp_path / "exp.yaml",
        "a:\n  run: PPO\n  env: CartPole-v1\n  stop: {training_iteration: 5}\n  storage_path: /somewhere\n",
    )
    (spec,) = load_experiments(
        str(path), config_override={"lr": 0.01}, stop_override={"time_total_s": 60}, storage_path=str(tmp_path)
    )
    assert spec.param_space["lr"] == 0.01
    assert spec.stop == {"training_iteration": 5, "time_total_s": 60}
    assert spec.storage_path == str(tmp_path)


def test_normalize_stop() -> None:
    assert normalize_stop({"a": {"b": 1}, "episode_reward_mean": 2}) == {"a/b": 1, "env_runners/episode_return_mean": 2}
    with pytest.raises(CLIError):
        normalize_stop([1])


def test_stopper_nested_keys_and_interrupt(capsys) -> None:
    from rllib_qmix.cli import progress as cli_progress

    stopper = CLIStopper({"env_runners/episode_return_mean": 100, "num_env_steps_sampled_lifetime": 1000})
    assert not stopper("t", {"env_runners": {"episode_return_mean": 50.0}, "num_env_steps_sampled_lifetime": 10})
    assert stopper("t", {"env_runners": {"episode_return_mean": 150.0}, "num_env_steps_sampled_lifetime": 10})
    assert stopper("t", {"env_runners": {"episode_return_mean": 1.0}, "num_env_steps_sampled_lifetime": 2000})
    cli_progress._INTERRUPTED.set()
    try:
        assert stopper("t", {"env_runners": {"episode_return_mean": 1.0}})
    finally:
        cli_progress._INTERRUPTED.clear()
    typo = CLIStopper({"env_runners/episode_retrun_mean": 1})
    typo("t", {"env_runners": {"episode_return_mean": 0.0}})
    assert "did you mean 'env_runners/episode_return_mean'" in capsys.readouterr().err
    # Evaluation keys show up only in evaluating iterations: no false warning, and they stop.
    ev = CLIStopper({"evaluation/env_runners/battle_won_mean": 0.95})
    assert not ev("t", {"env_runners": {"battle_won_mean": 1.0}})
    assert "warning" not in capsys.readouterr().err
    assert ev("t", {"evaluation": {"env_runners": {"battle_won_mean": 0.97}}})


def test_progress_line() -> None:
    line = format_line(
        {
            "training_iteration": 7,
            "num_env_steps_sampled_lifetime": 12345,
            "env_runners/episode_return_mean": 19.5,
            "env_runners/battle_won_mean": 0.25,
            "env_runners/episode_len_mean": 30.0,
            "env_runners/epsilon": 0.5,
            "time_total_s": 3725.0,
        },
        812.0,
    )
    for part in (
        "iter    7",
        "steps    12,345",
        "return    19.50",
        "win  25.0%",
        "len   30.0",
        "eps 0.500",
        "812 steps/s",
        "1:02:05",
    ):
        assert part in line, (part, line)
    assert "win" not in format_line({"training_iteration": 1}, None)
    line = format_line(
        {
            "training_iteration": 20,
            "evaluation/env_runners/episode_return_mean": 8.0,
            "evaluation/env_runners/battle_won_mean": 1.0,
        },
        None,
    )
    assert "eval return 8.00 win 100.0%" in line


def test_find_checkpoint_picks_latest(tmp_path) -> None:
    trial = tmp_path / "exp" / "PPO_x_0"
    for i in (1, 2, 10):
        d = trial / f"checkpoint_{i:06d}"
        d.mkdir(parents=True)
        (d / "class_and_ctor_args.pkl").write_bytes(b"x")
        os.utime(d / "class_and_ctor_args.pkl", (1000 + i, 1000 + i))
    (tmp_path / "exp" / "tuner.pkl").write_bytes(b"")  # a Tune experiment directory
    latest = str(trial / "checkpoint_000010")
    assert cli.find_checkpoint(str(trial)) == latest
    assert cli.find_checkpoint(str(tmp_path / "exp")) == latest
    assert cli.find_checkpoint(latest) == latest


# -------------------------------------------------------------------------- plot
def test_plot_from_result_json_and_csv(tmp_path, capsys) -> None:
    from PIL import Image

    from rllib_qmix.cli.plot import _series, find_trial_dirs, read_results

    exp = tmp_path / "exp"
    t1, t2 = exp / "QMIX_smac_0", exp / "QMIX_smac_1"
    t1.mkdir(parents=True)
    t2.mkdir()
    with open(t1 / "result.json", "w") as f:
        for i in range(1, 6):
            f.write(
                json.dumps(
                    {
                        "training_iteration": i,
                        "num_env_steps_sampled_lifetime": 100 * i,
                        "env_runners": {
                            "episode_return_mean": float(i),
                            "battle_won_mean": i / 5,
                            "epsilon": 1 - i / 10,
                        },
                        "learners": {"default_policy": {"td_loss": 1 / i}},
                    }
                )
                + "\n"
            )
    (t2 / "progress.csv").write_text(
        "training_iteration,env_runners/num_env_steps_sampled_lifetime,"
        "env_runners/episode_return_mean,learners/default_policy/total_loss\n"
        "1,50,1.0,2.0\n2,100,,1.0\n"
    )
    assert find_trial_dirs(str(exp)) == [str(t1), str(t2)]
    assert _series(read_results(str(t2)), ("learners/default_policy/td_loss", "*/total_loss")) == (
        "learners/default_policy/total_loss",
        [50.0, 100.0],
        [2.0, 1.0],
    )
    assert _series(read_results(str(t2)), ("env_runners/episode_return_mean",))[2] == [1.0]
    assert cli.main(["plot", str(exp), "-o", str(tmp_path / "c.png")]) == 0
    assert Image.open(tmp_path / "c.png").size[0] > 500
    assert cli.main(["plot", str(t2)]) == 0  # a trial dir; default output inside it
    assert (t2 / "learning_curves.png").is_file()
    (tmp_path / "empty").mkdir()
    assert cli.main(["plot", str(tmp_path / "empty")]) == 2


def test_plot_shows_greedy_evaluations_beside_exploring(tmp_path) -> None:
    """The greedy win rate, which tuned examples stop on, is plotted; RLlib's repeat of an
    evaluation in the next iteration's result is not a second point."""
    from rllib_qmix.cli.plot import curves_of, evaluation_interval, read_results

    trial = tmp_path / "exp" / "QMIX_smac_0"
    trial.mkdir(parents=True)
    (trial / "params.json").write_text(json.dumps({"env": "smac", "evaluation_interval": 2}))
    with open(trial / "result.json", "w") as f:
        for i in range(1, 6):
            row = {
                "training_iteration": i,
                "num_env_steps_sampled_lifetime": 100 * i,
                "env_runners": {"episode_return_mean": float(i), "battle_won_mean": 0.0},
            }
            if i >= 2:  # evaluated at 2 and 4, repeated at 3 and 5
                row["evaluation"] = {"env_runners": {"battle_won_mean": 0.4 * (i // 2), "episode_return_mean": 9.0}}
            f.write(json.dumps(row) + "\n")
    curves = curves_of(read_results(str(trial)), evaluation_interval(str(trial)))
    win = {label: (name, xs, ys) for label, name, xs, ys in curves["win rate"]}
    assert win["exploring"] == ("env_runners/battle_won_mean", [100.0, 200.0, 300.0, 400.0, 500.0], [0.0] * 5)
    assert win["greedy evaluation"] == ("evaluation/env_runners/battle_won_mean", [200.0, 400.0], [0.4, 0.8])
    assert [label for label, *_ in curves["episode return"]] == ["exploring", "greedy evaluation"]
    assert cli.main(["plot", str(tmp_path / "exp")]) == 0


# ----------------------------------------------------------------- tuned examples
def test_every_tuned_example_is_a_valid_config() -> None:
    files = sorted(glob.glob(str(REPO / "tuned_examples" / "*.yaml")))
    if not files:
        pytest.skip("tuned_examples/ has no *.yaml files yet")
    for path in files:
        for spec in load_experiments(path):
            config = build_config(spec.algo_cls, spec.param_space, spec.algo_name)
            assert config.env is not None, path
            assert spec.stop, f"{path}: experiment {spec.name} has no stop criteria"


# ---------------------------------------------------------------- end to end (Ray)
def _trial_dir(storage: Path, name: str) -> Path:
    (trial,) = [p for p in (storage / name).iterdir() if p.is_dir()]
    return trial


def test_ppo_train_evaluate_plot_end_to_end(tmp_path) -> None:
    path = write_yaml(
        tmp_path / "ppo.yaml",
        f"""
cartpole-ppo:
  run: PPO
  env: CartPole-v1
  stop: {{training_iteration: 5}}
  checkpoint_freq: 1
  config: {json.dumps(PPO_CONFIG)}
""",
    )
    storage = tmp_path / "results"
    proc = run_cli(
        "train",
        "file",
        str(path),
        "--storage-path",
        str(storage),
        "--stop",
        '{"num_env_steps_sampled_lifetime": 512}',
        "-v",
    )  # -v: a line per iteration
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if "| steps" in ln]
    assert len(lines) == 2, proc.stdout  # --stop (512 steps = 2 iterations) beats the YAML's 5
    assert "iter    2" in lines[-1] and "return" in lines[-1] and "steps/s" in lines[-1]
    trial = _trial_dir(storage, "cartpole-ppo")
    assert sorted(p.name for p in trial.glob("checkpoint_*")) == ["checkpoint_000000", "checkpoint_000001"]
    assert list(trial.glob("events.out.tfevents.*")), "no TensorBoard event file"
    assert (trial / "progress.csv").is_file()

    proc = run_cli("evaluate", str(trial), "--episodes", "3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "checkpoint_000001" in proc.stdout and "(greedy)" in proc.stdout
    assert "episodes:   3" in proc.stdout
    ret = float(proc.stdout.split("return:")[1].split()[0])
    length = float(proc.stdout.split("length:")[1].split()[0])
    assert ret == pytest.approx(length, abs=0.06) and ret >= 8  # CartPole: +1 per step

    assert cli.main(["plot", str(storage / "cartpole-ppo"), "-o", str(tmp_path / "ppo.png")]) == 0
    assert (tmp_path / "ppo.png").stat().st_size > 10_000


def test_render_is_qmix_only(tmp_path, capsys) -> None:
    """--render on a non-QMIX checkpoint fails before anything is restored."""
    import pickle

    from ray.rllib.algorithms.ppo import PPO, PPOConfig

    ckpt = tmp_path / "checkpoint_000000"
    ckpt.mkdir()
    with open(ckpt / "class_and_ctor_args.pkl", "wb") as f:
        pickle.dump({"class": PPO, "ctor_args_and_kwargs": ((PPOConfig().get_state(),), {})}, f)
    line = _one_error_line(capsys, cli.main(["evaluate", str(ckpt), "--render", str(tmp_path / "x.gif")]))
    assert "--render is supported for QMIX only (this checkpoint is PPO)" in line
    assert not (tmp_path / "x.gif").exists()


def _fake_checkpoint(path: Path, algo_cls: type, config) -> Path:
    """A directory with just the pickled class and config that `rllib evaluate` reads first."""
    import pickle

    path.mkdir(parents=True)
    with open(path / "class_and_ctor_args.pkl", "wb") as f:
        pickle.dump({"class": algo_cls, "ctor_args_and_kwargs": ((config.get_state(),), {})}, f)
    return path


@pytest.mark.parametrize("env", ["two_step_game", "mpe_simple_spread"])
def test_render_on_an_env_that_draws_nothing_is_refused_before_evaluating(env, tmp_path, capsys) -> None:
    from rllib_qmix import QMIX, QMIXConfig

    ckpt = _fake_checkpoint(tmp_path / "checkpoint_000000", QMIX, QMIXConfig().environment(env))
    line = _one_error_line(capsys, cli.main(["evaluate", str(ckpt), "--render", str(tmp_path / "x.gif")]))
    assert line == (
        "rllib evaluate: error: --render draws SMAC and SMACv2 battles ('smac', 'smacv2' envs); "
        f"the env '{env}' of this checkpoint draws no frames: evaluate without --render"
    )
    assert not (tmp_path / "x.gif").exists()


def test_evaluate_refuses_a_folder_of_several_runs_or_of_anything(tmp_path, capsys) -> None:
    from ray.rllib.algorithms.ppo import PPO, PPOConfig

    exp = tmp_path / "exp"
    for trial in ("PPO_CartPole-v1_a_0", "PPO_CartPole-v1_b_1"):
        _fake_checkpoint(exp / trial / "checkpoint_000000", PPO, PPOConfig())
    (exp / "tuner.pkl").write_bytes(b"")
    line = _one_error_line(capsys, cli.main(["evaluate", str(exp)]))
    assert line == (
        f"rllib evaluate: error: {exp} holds checkpoints of 2 runs: PPO_CartPole-v1_a_0, PPO_CartPole-v1_b_1; "
        "give one of them (a trial directory) or a checkpoint directory"
    )
    # A folder that is no checkpoint, run or experiment (like /tmp): refused, even with a checkpoint below.
    _fake_checkpoint(tmp_path / "other" / "somewhere" / "below" / "checkpoint_000000", PPO, PPOConfig())
    line = _one_error_line(capsys, cli.main(["evaluate", str(tmp_path / "other")]))
    assert line.startswith("rllib evaluate: error: not an RLlib checkpoint (no class_and_ctor_args.pkl), a run")


def test_sigint_stops_cleanly_with_a_usable_checkpoint(tmp_path) -> None:
    storage = tmp_path / "results"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rllib_qmix.cli.main",
            "train",
            "--algo",
            "PPO",
            "--env",
            "CartPole-v1",
            "--config",
            json.dumps(PPO_CONFIG),
            "--stop",
            '{"training_iteration": 10000}',
            "--storage-path",
            str(storage),
            "--name",
            "forever",
            "-v",  # a line per iteration
        ],
        env=_env(),
        cwd=str(REPO),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    out = []
    deadline = time.time() + 180
    try:
        for line in proc.stdout:  # like Ctrl-C in a terminal: SIGINT to the process group
            out.append(line)
            if "iter    2 |" in line:
                os.killpg(proc.pid, signal.SIGINT)
            assert time.time() < deadline, "".join(out)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    text = "".join(out)
    assert proc.returncode == 0, text
    assert "Interrupted" in text and "Stopped by Ctrl-C" in text
    assert "iter   10 |" not in text
    (ckpt,) = _trial_dir(storage, "forever").glob("checkpoint_*")
    assert f"final checkpoint: {ckpt}" in text

    ev = run_cli("evaluate", str(ckpt), "--episodes", "2")
    assert ev.returncode == 0, ev.stdout + ev.stderr
    assert "return:" in ev.stdout


def _qmix_available() -> bool:
    try:
        from rllib_qmix import QMIXConfig  # noqa: F401
    except Exception:  # noqa: BLE001
        return False
    return True


@pytest.mark.skipif(not _qmix_available(), reason="rllib_qmix.QMIXConfig not importable yet")
def test_qmix_train_evaluate_render_plot_end_to_end(tmp_path) -> None:
    path = write_yaml(
        tmp_path / "qmix.yaml",
        """
qmix-3m:
  run: QMIX
  env: smac
  env_config: {map_name: 3m}
  stop: {training_iteration: 3}
  checkpoint_at_end: true
  config:
    episode_batch_size: 4
    learning_starts: 4
    replay_capacity: 100
    epsilon_anneal_steps: 1000
    num_env_runners: 0
""",
    )
    storage = tmp_path / "results"
    proc = run_cli("train", "file", str(path), "--storage-path", str(storage), "-v")  # -v: a line per iteration
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if "| steps" in ln]
    assert len(lines) == 3 and "win" in lines[-1] and "eps" in lines[-1], proc.stdout
    trial = _trial_dir(storage, "qmix-3m")

    gif = tmp_path / "battle.gif"
    proc = run_cli("evaluate", str(trial), "--episodes", "2", "--render", str(gif))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "win rate:" in proc.stdout and "episodes:   2" in proc.stdout
    assert f"rendered:   {gif}" in proc.stdout

    from PIL import Image

    assert Image.open(gif).n_frames > 1

    out = tmp_path / "qmix.png"
    assert cli.main(["plot", str(storage / "qmix-3m"), "-o", str(out)]) == 0
    assert out.stat().st_size > 10_000


def test_root_cause_of_a_remote_traceback() -> None:
    err = RuntimeError(
        "The actor died because of an error raised in its creation task\n"
        'Traceback (most recent call last):\n  File "x.py", line 1, in f\n'
        "    raise ValueError('bad')\nValueError: unknown SMAC map 'nope'\n"
    )
    assert cli._root_cause(err) == "ValueError: unknown SMAC map 'nope'"
    assert cli._root_cause(RuntimeError("plain\nmessage")) == "plain message"


def test_nonfinite_updates_stop_training_with_one_error_line(tmp_path) -> None:
    """Learner updates that stay non-finite end the run: exit 1 and QMIX's whole error, which
    says what to try, on one line. The learning rate (1e30) makes the first Adam step move every
    weight by ~1e30, so every later forward pass overflows."""
    path = write_yaml(
        tmp_path / "nan.yaml",
        textwrap.dedent("""\
        exploding:
          run: QMIX
          env: two_step_game
          stop: {training_iteration: 20}
          config:
            num_env_runners: 0
            num_envs_per_env_runner: 8
            rollout_fragment_length: 2
            episode_batch_size: 8
            learning_starts: 8
            optimizer: adam
            lr: 1.0e+30
            updates_per_episode: 1.0
        """),
    )
    proc = run_cli("train", "file", str(path), "--storage-path", str(tmp_path / "results"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if "NonFiniteUpdateError" in ln]
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("error: trial failed: ")
    assert "QMIX training iteration 1, learner update 4: 3 updates in a row were non-finite and skipped" in line
    assert "first non-finite value in the last one:" in line
    for hint in ("Try a lower lr (now 1e+30)", "grad_clip (now 10.0)"):
        assert hint in line
    assert "normalize_" not in line  # both are on by default: nothing to suggest there
    assert "final checkpoint: none" in proc.stdout


def test_resume_after_driver_crash(tmp_path) -> None:
    """SIGKILL the whole `rllib train` mid-run, its state file cut short by the kill; `--resume`
    continues from a checkpoint the crashed run wrote."""
    yaml_path = write_yaml(
        tmp_path / "exp.yaml",
        textwrap.dedent("""\
        crashy:
          run: QMIX
          env: two_step_game
          stop: {training_iteration: 60}
          checkpoint_freq: 2
          config:
            num_env_runners: 0
            num_envs_per_env_runner: 4
            rollout_fragment_length: 2
            episode_batch_size: 8
            learning_starts: 8
        """),
    )
    storage = tmp_path / "results"
    # Tune writes its experiment state (which records the trial's checkpoints) after results, in
    # the background; the crash comes once a state file was written after the 3rd checkpoint.
    cmd = [sys.executable, "-m", "rllib_qmix.cli.main", "train", "file", str(yaml_path), "--storage-path", str(storage)]
    cmd.append("-v")  # a line per iteration
    proc = subprocess.Popen(
        cmd,
        env=_env(),
        cwd=str(REPO),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    out, deadline, third_at = [], time.time() + 180, None
    try:
        for line in proc.stdout:
            out.append(line)
            if third_at is None and "checkpoint saved:" in line and "checkpoint_000002" in line:
                third_at = time.time()  # checkpoints of iterations 2, 4, 6 exist
            states = list((storage / "crashy").glob("experiment_state-*.json"))
            if third_at is not None and states and max(p.stat().st_mtime for p in states) > third_at:
                os.killpg(proc.pid, signal.SIGKILL)  # the driver and its Ray die at once
                break
            assert time.time() < deadline, "".join(out)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    assert third_at is not None, "".join(out)
    crashed_at = max(int(m) for m in re.findall(r"iter +(\d+) \|", "".join(out)))
    # The kill may land while Tune copies its state file into the folder; make it so: the file
    # cut short as a kill mid-copy leaves it. --resume continues from the complete copy kept.
    state = max((storage / "crashy").glob("experiment_state-*.json"))
    state.write_bytes(state.read_bytes()[: state.stat().st_size // 2])
    # Tune copies the trial's own files (params.json, result.json) the same way: empty them too.
    trial = _trial_dir(storage, "crashy")
    for name in ("params.json", "result.json"):
        (trial / name).write_text("")
    resumed = run_cli("train", "file", str(yaml_path), "--storage-path", str(storage), "--resume", "-v", timeout=240)
    text = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, text
    assert f"Tune's experiment state {state.name} was cut short by the crash" in resumed.stdout, text
    assert f"{trial.name}: its params.json was cut short by the crash" in resumed.stdout, text
    assert "Restarting experiment" not in text, text  # Tune's own fallback: every trial from scratch
    assert "iter   60 |" in text, text
    # It continues from a checkpoint the crashed run wrote (iteration 2, 4, ...), never from
    # scratch; the state Tune saved may lag the newest checkpoint by one.
    first = re.search(r"iter +(\d+) \| steps +(\d+) \|", text)
    assert first is not None, text
    resumed_from = int(first.group(1)) - 1
    assert resumed_from >= 2 and resumed_from % 2 == 0 and resumed_from <= crashed_at, text
    assert int(first.group(2)) == 8 * (resumed_from + 1), text  # env steps continue too
    nothing = run_cli("train", "file", str(yaml_path), "--storage-path", str(tmp_path / "empty"), "--resume")
    assert nothing.returncode == 2 and "nothing to resume" in nothing.stderr


def test_nothing_outlives_a_killed_driver(tmp_path) -> None:
    """`kill -9` of the `rllib` process alone (not its process group): every process it started
    (Ray's, whose dashboard and runtime-env agents used to stay forever) is gone soon after."""
    import psutil

    cmd = [sys.executable, "-m", "rllib_qmix.cli.main", "train", "--algo", "QMIX", "--env", "two_step_game"]
    cmd += ["--stop", '{"training_iteration": 100000}', "--storage-path", str(tmp_path), "-v"]
    proc = subprocess.Popen(
        cmd,
        env=_env(),
        cwd=str(REPO),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )

    def group() -> list:
        found = []
        for p in psutil.process_iter():
            try:
                if os.getpgid(p.pid) == proc.pid and p.status() != psutil.STATUS_ZOMBIE:
                    found.append(p)
            except (psutil.Error, ProcessLookupError):
                continue
        return found

    try:
        deadline = time.time() + 180
        for line in proc.stdout:
            if "] iter    3 |" in line:
                break
            assert time.time() < deadline
        assert len(group()) > 3  # the driver, Ray's GCS, raylet, agents, the trial's worker
        proc.kill()  # SIGKILL to the driver only
        proc.wait(timeout=30)
        deadline = time.time() + 45
        while group() and time.time() < deadline:
            time.sleep(1.0)
        left = [" ".join(p.cmdline())[:80] for p in group()]
        assert not left, left
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
