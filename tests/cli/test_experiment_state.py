"""Tune's experiment state cut short by a kill: the complete copy ``rllib train`` keeps, the
repair ``--resume`` makes with it, and the refusal when there is none."""

import json
import os
import pickle
import textwrap

import pytest

from rllib_qmix.cli.experiment_state import COPY_PREFIX, CutStateError, StateKeeper, repair_cut_state
from tests.cli.test_cli import run_cli, write_yaml

STATE = "experiment_state-2026-01-01_00-00-00.json"
VARIANTS = "basic-variant-state-2026-01-01_00-00-00.json"


def _write(path, name, obj) -> str:
    text = json.dumps(obj)
    (path / name).write_text(text)
    return text


def _write_pickle(path, name, obj) -> bytes:
    """Tune's trial generator state: a pickle under a .json name."""
    data = pickle.dumps(obj, protocol=5)
    (path / name).write_bytes(data)
    return data


def _experiment_yaml(tmp_path):
    """A one-trial experiment named "cut" (two-step game, 4 iterations)."""
    return write_yaml(
        tmp_path / "exp.yaml",
        textwrap.dedent("""\
        cut:
          run: QMIX
          env: two_step_game
          stop: {training_iteration: 4}
        """),
    )


def test_the_keeper_copies_whole_files_and_skips_one_being_written(tmp_path):
    keeper = StateKeeper(str(tmp_path))
    whole = _write(tmp_path, STATE, {"trial_data": ["checkpoint_000001"]})
    variants = _write_pickle(tmp_path, VARIANTS, {"counter": 1, "names": list(range(100))})
    keeper.keep()
    assert (tmp_path / (COPY_PREFIX + STATE)).read_text() == whole
    assert (tmp_path / (COPY_PREFIX + VARIANTS)).read_bytes() == variants

    (tmp_path / VARIANTS).write_bytes(variants[:40])  # a cut pickle is not copied either
    keeper.keep()
    assert (tmp_path / (COPY_PREFIX + VARIANTS)).read_bytes() == variants

    newer = json.dumps({"trial_data": ["checkpoint_000001", "checkpoint_000002"]})
    (tmp_path / STATE).write_text(newer[: len(newer) // 2])  # caught mid-write
    keeper.keep()
    assert (tmp_path / (COPY_PREFIX + STATE)).read_text() == whole  # the last whole one stays
    (tmp_path / STATE).write_text(newer)
    keeper.keep()
    assert (tmp_path / (COPY_PREFIX + STATE)).read_text() == newer


def test_repair_puts_the_complete_copy_back_and_says_so(tmp_path):
    whole = _write(tmp_path, STATE, {"trial_data": ["checkpoint_000001"]})
    variants = _write_pickle(tmp_path, VARIANTS, {"counter": 1})
    StateKeeper(str(tmp_path)).keep()
    assert repair_cut_state(str(tmp_path)) == []  # every file whole: nothing to do

    (tmp_path / STATE).write_text(whole[:10])
    (tmp_path / VARIANTS).write_bytes(variants[:10])
    said = repair_cut_state(str(tmp_path))
    assert (tmp_path / STATE).read_text() == whole and (tmp_path / VARIANTS).read_bytes() == variants
    assert said == [
        f"Tune's experiment state {name} was cut short by the crash; resuming from its last complete copy"
        for name in (STATE, VARIANTS)
    ]
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]  # written atomically, nothing left over


def test_a_cut_state_without_a_copy_is_refused(tmp_path):
    whole = _write(tmp_path, STATE, {"trial_data": []})
    (tmp_path / STATE).write_text(whole[:5])
    with pytest.raises(CutStateError, match=r"is cut short .* no complete copy of it was kept"):
        repair_cut_state(str(tmp_path))
    assert (tmp_path / STATE).read_text() == whole[:5]  # left as it was


def test_a_cut_state_without_a_copy_falls_back_to_the_earlier_session(tmp_path):
    """A resumed session killed before its first complete write: its file goes aside and Tune
    restores from the earlier session's, which is whole."""
    earlier = _write(tmp_path, "experiment_state-2025-12-31_00-00-00.json", {"trial_data": ["checkpoint_000003"]})
    (tmp_path / STATE).write_text(earlier[:7])
    said = repair_cut_state(str(tmp_path))
    assert not (tmp_path / STATE).exists() and (tmp_path / f".cut-{STATE}").read_text() == earlier[:7]
    assert (tmp_path / "experiment_state-2025-12-31_00-00-00.json").read_text() == earlier
    assert len(said) == 1 and "resuming from the earlier experiment_state-2025-12-31_00-00-00.json" in said[0]


def test_rllib_train_resume_refuses_a_cut_state_in_one_line(tmp_path):
    """Before Ray starts: exit 2, the file named, and what to do instead."""
    yaml_path = _experiment_yaml(tmp_path)
    experiment = tmp_path / "results" / "cut"
    experiment.mkdir(parents=True)
    (experiment / "tuner.pkl").write_bytes(b"")  # an experiment was started here
    (experiment / STATE).write_text('{"trial_data": [')
    ran = run_cli("train", "file", str(yaml_path), "--storage-path", str(tmp_path / "results"), "--resume")
    assert ran.returncode == 2, ran.stdout + ran.stderr
    lines = [ln for ln in ran.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and STATE in lines[0] and "is cut short" in lines[0], ran.stderr
    assert "another --name or --storage-path" in lines[0]


def test_a_trial_whose_params_were_cut_is_resumed_and_said_so(tmp_path, capsys):
    """A kill while Tune copies a trial's files can leave its params.json (and result.json)
    empty: --resume can't compare that trial's config, says so, and continues it."""
    from rllib_qmix.cli.experiment import load_experiments, resumable_trials

    path = _experiment_yaml(tmp_path)
    (spec,) = load_experiments(str(path))
    trial = tmp_path / "cut" / "QMIX_two_step_game_00000"
    trial.mkdir(parents=True)
    for name in ("params.json", "result.json", "progress.csv"):
        (trial / name).write_text("")
    assert resumable_trials(str(tmp_path / "cut"), spec) == [str(trial)]
    assert "QMIX_two_step_game_00000: its params.json was cut short by the crash" in capsys.readouterr().out
