"""The CLI's progress output: a live bar on a terminal, sparse lines in a log, -v lines."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from rllib_qmix.cli import progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Trial(SimpleNamespace):
    def __str__(self) -> str:
        return self.trial_id


def _trial(name: str = "QMIX_smac_00000") -> _Trial:
    return _Trial(trial_id=name, path=f"/tmp/{name}")


def _result(it: int, steps: int, win: float = 0.5, evaluated: float | None = None) -> dict:
    result = {
        "training_iteration": it,
        "num_env_steps_sampled_lifetime": steps,
        "time_total_s": float(it),
        "env_runners": {"episode_return_mean": 10.0 + it, "battle_won_mean": win},
    }
    if evaluated is not None:
        result["evaluation"] = {
            "env_runners": {"episode_return_mean": 19.0, "battle_won_mean": evaluated, "num_episodes_lifetime": 32}
        }
    return result


def _feed(cb: progress.ProgressCallback, results: list[dict], clock: list[float], times: list[float]) -> None:
    trial = _trial()
    cb.on_trial_start(0, [trial], trial)
    for t, result in zip(times, results):
        clock[0] = t
        cb.on_trial_result(0, [trial], trial, result)
    cb.on_trial_complete(0, [trial], trial)


@pytest.fixture
def clock(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    return now


def test_a_log_gets_a_line_every_interval_and_at_every_evaluation(clock):
    out = io.StringIO()
    cb = progress.ProgressCallback(stream=out, log_interval_s=10.0)
    # RLlib repeats an evaluation's metrics in the next result: only the first counts.
    results = [_result(i, 100 * i, evaluated=1.0 if i in (7, 8) else None) for i in range(1, 31)]
    _feed(cb, results, clock, times=[float(i) for i in range(1, 31)])  # one result per second
    lines = [line for line in out.getvalue().splitlines() if "] iter" in line]
    # t = 1 (first), 7 (evaluation), 17, 27 (10 s after the previous line), nothing in between.
    assert [int(line.split("iter")[1].split("|")[0]) for line in lines] == [1, 7, 17, 27]
    assert "eval return 19.00 win 100.0%" in lines[1]
    assert "\r" not in out.getvalue()


def test_verbose_prints_a_line_per_iteration(clock):
    out = io.StringIO()
    cb = progress.ProgressCallback(verbose=1, stream=out)
    _feed(cb, [_result(i, 100 * i) for i in range(1, 6)], clock, times=[0.1 * i for i in range(1, 6)])
    assert sum("] iter" in line for line in out.getvalue().splitlines()) == 5


def test_a_terminal_gets_one_bar_updated_in_place(clock):
    out = _Terminal()
    cb = progress.ProgressCallback(stream=out, stop={"num_env_steps_sampled_lifetime": 1000})
    results = [_result(i, 100 * i, evaluated=0.75 if i == 3 else None) for i in range(1, 6)]
    _feed(cb, results, clock, times=[float(i) for i in range(1, 6)])
    text = out.getvalue()
    frames = text.split("\r")
    assert len(frames) > 5  # redrawn in place, not a line per result
    last = [f for f in frames if "500/1.00k" in f][-1]
    assert "50%" in last and "iter 5" in last and "return 15.00" in last and "win 50%" in last
    assert "eval 75%" in last  # the last greedy win rate stays on the bar
    assert last.startswith("QMIX_smac_00000:")
    assert text.count("\n") == 3  # "started", the closed bar, "finished": no line per result


def test_a_terminal_bar_counts_iterations_when_the_stop_is_iterations(clock):
    out = _Terminal()
    cb = progress.ProgressCallback(stream=out, stop={"training_iteration": 4})
    _feed(cb, [_result(i, 100 * i) for i in range(1, 3)], clock, times=[1.0, 2.0])
    assert "2/4" in out.getvalue() and "50%" in out.getvalue()


def _rllib_eval(it: int, lifetime: float) -> dict:
    """A result as RLlib 2.60 reports it around an evaluation (every 20 iterations here): the
    evaluating iteration, and the next one, which repeats its metrics with other counts."""
    result = _result(it, 16 * it)
    result["evaluation"] = {
        "env_runners": {"episode_return_mean": 8.0, "num_episodes": 4, "num_episodes_lifetime": lifetime}
    }
    return result


def test_each_evaluation_prints_one_line(clock):
    out = io.StringIO()
    cb = progress.ProgressCallback(stream=out, log_interval_s=1e9)
    trial = _Trial(trial_id="QMIX_two_step_game_00000", path="/tmp/t", config={"evaluation_interval": 20})
    cb.on_trial_start(0, [trial], trial)
    results = [_result(i, 16 * i) for i in range(1, 20)]
    results += [_rllib_eval(20, 4.0), _rllib_eval(21, 8.0), _rllib_eval(40, 4.0), _rllib_eval(41, 12.0)]
    for result in results:
        cb.on_trial_result(0, [trial], trial, result)
    lines = [line for line in out.getvalue().splitlines() if "] iter" in line]
    assert [int(line.split("iter")[1].split("|")[0]) for line in lines] == [1, 20, 40]


def test_the_time_column_is_labelled():
    line = progress.format_line({"training_iteration": 3, "time_total_s": 65.0}, None)
    assert line.endswith("| elapsed 0:01:05")


def test_steps_per_second_right_after_a_resume(clock):
    """A resumed trial's first result has the checkpoint's lifetime counters: the rate is that of
    the iteration itself, not lifetime steps over this run's time."""
    out = io.StringIO()
    cb = progress.ProgressCallback(verbose=1, stream=out)
    trial = _trial()
    cb.on_trial_start(0, [trial], trial)
    resumed = {
        "training_iteration": 52,
        "num_env_steps_sampled_lifetime": 500_000,
        "time_total_s": 100.0,
        "time_this_iter_s": 2.0,
        "env_runners": {"num_env_steps_sampled": 1000, "episode_return_mean": 1.0},
    }
    cb.on_trial_result(0, [trial], trial, resumed)
    nxt = {**resumed, "training_iteration": 53, "num_env_steps_sampled_lifetime": 501_000, "time_total_s": 104.0}
    cb.on_trial_result(0, [trial], trial, nxt)
    lines = [line for line in out.getvalue().splitlines() if "steps/s" in line]
    rates = [float(line.split("steps/s")[0].split("|")[-1]) for line in lines]
    assert rates == [500.0, 250.0]


def test_the_end_of_a_trial_says_why_it_stopped_and_its_last_greedy_evaluation(clock):
    out = io.StringIO()
    cb = progress.ProgressCallback(stream=out, log_interval_s=1e9)
    stopper = progress.CLIStopper({"evaluation/env_runners/battle_won_mean": 0.95, "training_iteration": 100})
    trial = _Trial(trial_id="QMIX_smac_00001", path="/tmp/t", config={"evaluation_interval": 2})
    cb.on_trial_start(0, [trial], trial)
    for it, evaluated in ((1, None), (2, 0.5), (3, None), (4, 0.97)):
        result = _result(it, 100 * it, evaluated=evaluated)
        cb.on_trial_result(0, [trial], trial, result)
        if stopper(trial.trial_id, result):
            break
    cb.on_trial_complete(0, [trial], trial)
    end = out.getvalue().splitlines()[-1]
    assert end.startswith("[QMIX_smac_00001] finished at iteration 4, 400 env steps: ")
    assert "reached the stop evaluation/env_runners/battle_won_mean >= 0.95 (0.97)" in end
    assert "last greedy evaluation: win rate 97.0%, return 19.00 (iteration 4)" in end


def test_the_iteration_cap_counts_the_iterations_of_this_command() -> None:
    """RLLIB_QMIX_MAX_ITERATIONS=N: at most N iterations per command, also after a resume."""
    stopper = progress.CLIStopper({"training_iteration": 1000}, max_iterations=2)
    assert [stopper("t", {"training_iteration": i}) for i in (52, 53)] == [False, True]  # resumed at 51
    assert progress.STOP_REASONS["t"] == "RLLIB_QMIX_MAX_ITERATIONS=2 iterations in this command"
    assert progress.CLIStopper({}, max_iterations=1)("u", {"training_iteration": 1})


def test_a_bad_iteration_cap_is_one_line(monkeypatch, capsys) -> None:
    from rllib_qmix.cli import main as cli

    monkeypatch.setenv("RLLIB_QMIX_MAX_ITERATIONS", "a few")
    assert cli.main(["train", "--algo", "PPO", "--env", "CartPole-v1"]) == 2
    assert capsys.readouterr().err.strip() == (
        "rllib train: error: RLLIB_QMIX_MAX_ITERATIONS must be a positive integer (training iterations), got 'a few'"
    )


def test_ctrl_c_before_any_trial_started_ends_the_run_at_once(monkeypatch, capsys):
    """No trial has its resources yet: there is no iteration to wait for, one Ctrl-C ends it."""
    import signal

    from rllib_qmix.cli import pending

    monkeypatch.setattr(signal, "signal", lambda *a: None)  # leave pytest's own SIGINT handler alone
    pending.reset()
    progress._INTERRUPTED.clear()
    try:
        stopper = progress.CLIStopper({"training_iteration": 10})
        assert stopper.stop_all() is False
        progress._on_sigint(signal.SIGINT, None)
        assert "Interrupted before any trial started: stopping now." in capsys.readouterr().err
        assert stopper.stop_all() is True
        pending._STARTED.set()  # a trial runs: stop after its current iteration, not the whole run
        assert stopper.stop_all() is False
        progress._on_sigint(signal.SIGINT, None)
        assert "stopping after the current iteration" in capsys.readouterr().err
    finally:
        progress._INTERRUPTED.clear()
        pending.reset()


def test_watchdog_waits_while_its_own_trial_holds_the_resources(monkeypatch):
    """All trials pending and no CPU free: if the resources are held by a placement group of this
    run (Ray is starting its trial, slow on a loaded machine or after a restart), the watchdog
    waits on; held by something else for the whole timeout, it ends the run."""
    from rllib_qmix.cli import pending

    clock = {"t": 0.0}
    monkeypatch.setattr(pending.time, "monotonic", lambda: clock["t"])
    monkeypatch.setattr(pending, "unavailable", lambda asks, view: "1 CPU asked, 0 free")
    monkeypatch.setattr(pending.ClusterView, "now", staticmethod(lambda: None))
    monkeypatch.setattr(pending, "cluster_can_autoscale", lambda: False)
    trials = [type("T", (), {"status": "PENDING"})()]
    for own, fails in ((True, False), (False, True)):
        pending.reset()
        monkeypatch.setattr(pending, "own_placement_ready", lambda own=own: own)
        dog = pending.PendingWatchdog([], "exp", timeout_s=30.0)
        try:
            for t in range(0, 70, 5):
                clock["t"] = float(t)
                dog.on_step_end(0, trials)
            assert (pending.placement_failure() is not None) == fails
        finally:
            pending.reset()
