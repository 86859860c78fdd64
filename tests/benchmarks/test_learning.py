"""The learning benchmark's bookkeeping: merging seeds run in separate processes, summaries."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.benchmarks._load import load_benchmark

learning = load_benchmark("learning")


def _run(seed: int, wins: list[float], stopped: bool = False, overrides: dict | None = None) -> dict:
    curve = [
        {"env_steps": 100_000 * (i + 1), "minutes": 5.0 * (i + 1), "eval_win_rate": w, "eval_return": 0.0}
        for i, w in enumerate(wins)
    ]
    return {
        "seed": seed,
        "budget": 1_000_000,
        "overrides": overrides or {},
        "curve": curve,
        "stopped_at_target": stopped,
    }


def test_merge_keeps_other_seeds_and_replaces_reruns():
    old = [_run(0, [0.5, 0.97]), _run(1, [0.1])]
    new = [_run(1, [0.2, 0.96], stopped=True), _run(2, [0.3])]
    merged = learning.merge_runs(old, new, {})
    assert [r["seed"] for r in merged] == [0, 1, 2]
    assert merged[1]["curve"][-1]["eval_win_rate"] == 0.96  # the rerun replaced seed 1


def test_merge_refuses_runs_with_other_settings():
    with pytest.raises(SystemExit, match="other --set overrides"):
        learning.merge_runs([_run(0, [0.5], overrides={"lr": 1e-4})], [_run(1, [0.5])], {})


_MERGE_ONE_SEED = """
import json, sys
from pathlib import Path
from tests.benchmarks._load import load_benchmark
learning = load_benchmark("learning")
run = {"seed": 1, "budget": 100, "overrides": {}, "stopped_at_target": False,
       "curve": [{"env_steps": 100, "minutes": 1.0, "eval_win_rate": 0.5, "eval_return": 0.0}]}
learning.write_results(Path(sys.argv[1]), "smac", [run], {}, merge=True)
"""


def test_seeds_merged_by_two_processes_at_once_are_both_kept(tmp_path):
    """A process that merges into a results file waits while another holds it (between
    reading and writing), so the other's seed is not overwritten."""
    import subprocess
    import sys
    import time

    final = tmp_path / "learning_smac.json"
    learning.write_results(final, "smac", [_run(0, [0.9])], {}, merge=True)
    root = Path(__file__).resolve().parents[2]
    with learning.locked(final):  # this process is "between reading and writing" seed 2
        other = subprocess.Popen([sys.executable, "-c", _MERGE_ONE_SEED, str(final)], cwd=root)
        time.sleep(3.0)
        assert other.poll() is None, "the other process wrote while the file was locked"
        old = json.loads(final.read_text())["runs"]
        final.write_text(json.dumps({"summary": {}, "runs": learning.merge_runs(old, [_run(2, [0.7])], {})}))
    assert other.wait(timeout=60) == 0
    written = json.loads(final.read_text())
    assert [r["seed"] for r in written["runs"]] == [0, 1, 2]
    assert written["summary"]["seeds"] == 3


def test_a_write_cut_short_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    """A results or partial-curve file is replaced in one step: a write that fails half-way
    (a full disk, a killed run) leaves the last complete file, and no temporary file behind."""
    path = tmp_path / "learning_smac.seed0.partial.json"
    learning.write_json(path, {"runs": [_run(0, [0.5])]})
    real_write = Path.write_text

    def write_half_then_fail(self, text, *args, **kwargs):
        real_write(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError("No space left on device")

    monkeypatch.setattr(Path, "write_text", write_half_then_fail)
    with pytest.raises(OSError, match="No space"):
        learning.write_json(path, {"runs": [_run(0, [0.5, 0.9])]})
    monkeypatch.undo()
    assert json.loads(path.read_text())["runs"][0]["curve"][-1]["eval_win_rate"] == 0.5
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_summary_counts_seeds_reaching_the_target_within_budget():
    runs = [_run(0, [0.5, 0.97]), _run(1, [0.2, 0.96], stopped=True), _run(2, [0.3, 0.4])]
    row = learning.summarize("smac_8m", runs)
    assert row["seeds"] == 3
    assert row["seeds_reaching_target"] == 2
    assert row["steps_to_target"] == [200_000, 200_000, None]
    assert row["minutes_to_target"] == [10.0, 10.0, None]
    assert row["stopped_at_target"] == [False, True, False]
    assert row["final_median"] == 0.96 and row["final_range"] == [0.4, 0.97]


def test_reached_gives_a_json_safe_bool_for_numpy_win_rates():
    import json

    import numpy as np

    hit = learning.reached({"eval_win_rate": np.float32(0.96875)}, 0.95)
    miss = learning.reached({"eval_win_rate": np.float64(0.5)}, 0.95)
    assert hit is True and miss is False  # not numpy bools: json.dumps refuses those
    assert learning.reached({"eval_win_rate": None}, 0.95) is False
    assert json.dumps({"stopped_at_target": hit}) == '{"stopped_at_target": true}'


_SMALL = {
    "num_envs_per_env_runner": 2,
    "rollout_fragment_length": 32,
    "episode_batch_size": 4,
    "learning_starts": 4,
    "agent_hidden_dim": 16,
    "mixing_embed_dim": 8,
    "hypernet_embed": 16,
    "epsilon_anneal_steps": 20000,
}


def test_checkpointed_run_resumes_where_it_stopped(ray_local, tmp_path):
    """A run cut after its last save continues in a new algorithm from the saved evaluation and
    ends on the same curve as the uninterrupted run (0 env runners: the resume is exact)."""
    args = dict(example="smac", seed=3, eval_every=192, eval_episodes=2, overrides=_SMALL)
    whole = learning.run_one(max_steps=832, **args)
    ckpt = tmp_path / "ckpt"
    learning.run_one(max_steps=448, checkpoint=ckpt, **args)  # evaluations at 64, 256, 448
    saved = json.loads((ckpt / learning.RUN_FILE).read_text())
    assert [p["env_steps"] for p in saved["curve"]] == [64, 256, 448] and saved["finished"] is False
    resumed = learning.run_one(max_steps=832, checkpoint=ckpt, resume_from={**saved, "budget": 832}, **args)

    steps = [p["env_steps"] for p in resumed["curve"]]
    assert steps == [p["env_steps"] for p in whole["curve"]] == [64, 256, 448, 640, 832]
    assert resumed["resumed_at"] == [448]
    minutes = [p["minutes"] for p in resumed["curve"]]
    assert minutes == sorted(minutes) and minutes[2] == saved["curve"][2]["minutes"]
    for key in ("eval_return", "train_return", "epsilon"):
        got = np.array([p[key] for p in resumed["curve"]], dtype=float)
        want = np.array([p[key] for p in whole["curve"]], dtype=float)
        np.testing.assert_allclose(got, want, atol=1e-6, equal_nan=True, err_msg=key)
    assert np.isfinite([p["train_return"] for p in resumed["curve"][3:]]).all()  # episodes ended after the resume
    assert [p["nonfinite_updates"] for p in resumed["curve"]] == [0] * 5  # recorded, and none skipped


def test_nonfinite_updates_sums_the_modules_and_ignores_nan():
    result = {"learners": {"default_policy": {"num_nonfinite_updates": 2}, "other": {"num_nonfinite_updates": 1}}}
    assert learning.nonfinite_updates(result) == 3
    assert learning.nonfinite_updates({"learners": {"default_policy": {"num_nonfinite_updates": float("nan")}}}) == 0
    assert learning.nonfinite_updates({}) == 0


def test_an_iteration_without_a_finished_episode_records_none_not_nan():
    """RLlib reports NaN for an episode mean when no episode ended in the window (RWARE's
    500-step episodes); the curve records None, so the results file stays JSON."""
    assert learning.mean_or_none(float("nan")) is None and learning.mean_or_none(None) is None
    value = learning.mean_or_none(np.float32(2.5))
    assert value == 2.5 and type(value) is float
    assert json.loads(json.dumps({"train_return": learning.mean_or_none(float("nan"))}, allow_nan=False)) == {
        "train_return": None
    }


def test_resume_refuses_a_missing_checkpoint(ray_local, tmp_path):
    saved = {"curve": [{"env_steps": 160, "minutes": 0.1}], "overrides": _SMALL, "budget": 640}
    with pytest.raises(SystemExit, match="no checkpoint"):
        learning.run_one("smac", 0, 640, 160, 2, _SMALL, checkpoint=tmp_path / "missing", resume_from=saved)


def test_command_line_resume_finishes_the_run_and_cleans_up(ray_local, tmp_path, monkeypatch):
    """``--resume`` on the command line: continues the saved seed, writes the merged result,
    and removes the checkpoint once the run is finished."""
    import sys

    monkeypatch.setattr(learning, "RESULTS", tmp_path)
    monkeypatch.setattr(learning, "CHECKPOINTS", tmp_path / "checkpoints")
    sets = [a for k, v in _SMALL.items() for a in ("--set", f"{k}={v}")]
    common = ["learning.py", "smac", "--seeds", "3", "--eval-every", "192", "--eval-episodes", "2", *sets, "--tag", "t"]
    ckpt = learning.CHECKPOINTS / "learning_smac_t.seed3"
    learning.run_one("smac", 3, 448, 192, 2, _SMALL, checkpoint=ckpt)  # what a killed process leaves behind
    # A run killed between the two renames of a save leaves only the previous save, as ".old".
    ckpt.rename(ckpt.with_name(ckpt.name + ".old"))

    monkeypatch.setattr(sys, "argv", [*common, "--max-steps", "832", "--resume"])
    monkeypatch.setattr(learning, "_init_ray", lambda: None)  # the fixture's Ray
    learning.main()
    result = json.loads((tmp_path / "learning_smac_t.json").read_text())
    (run,) = result["runs"]
    assert [p["env_steps"] for p in run["curve"]] == [64, 256, 448, 640, 832]
    assert run["resumed_at"] == [448] and run["finished"] is True
    assert not ckpt.exists() and not ckpt.with_name(ckpt.name + ".old").exists()


def test_command_line_resume_without_a_save_says_what_to_do(tmp_path, monkeypatch):
    import sys

    monkeypatch.setattr(learning, "RESULTS", tmp_path)
    monkeypatch.setattr(learning, "CHECKPOINTS", tmp_path / "checkpoints")
    monkeypatch.setattr(learning, "_init_ray", lambda: None)
    monkeypatch.setattr(sys, "argv", ["learning.py", "smac", "--seeds", "0", "--resume"])
    with pytest.raises(SystemExit, match="start seed 0 with --checkpoint, not --resume"):
        learning.main()


def test_kept_checkpoint_extends_a_finished_run(ray_local, tmp_path, monkeypatch):
    """``--keep-checkpoint``: a finished run keeps its last save, and ``--resume`` with a larger
    ``--max-steps`` continues it past the old budget."""
    import sys

    monkeypatch.setattr(learning, "RESULTS", tmp_path)
    monkeypatch.setattr(learning, "CHECKPOINTS", tmp_path / "checkpoints")
    monkeypatch.setattr(learning, "_init_ray", lambda: None)  # the fixture's Ray
    sets = [a for k, v in _SMALL.items() for a in ("--set", f"{k}={v}")]
    common = ["learning.py", "smac", "--seeds", "4", "--eval-every", "192", "--eval-episodes", "2", *sets, "--tag", "k"]
    ckpt = learning.CHECKPOINTS / "learning_smac_k.seed4"

    monkeypatch.setattr(sys, "argv", [*common, "--max-steps", "448", "--keep-checkpoint"])
    learning.main()
    assert (ckpt / learning.RUN_FILE).is_file()  # finished, and still there
    first = json.loads((tmp_path / "learning_smac_k.json").read_text())["runs"][0]
    assert first["finished"] is True and first["curve"][-1]["env_steps"] == 448

    monkeypatch.setattr(sys, "argv", [*common, "--max-steps", "640", "--resume"])
    learning.main()
    (run,) = json.loads((tmp_path / "learning_smac_k.json").read_text())["runs"]
    assert [p["env_steps"] for p in run["curve"]] == [64, 256, 448, 640]
    assert run["resumed_at"] == [448]
    assert not ckpt.exists()  # this time the run finished without --keep-checkpoint


def _kept_source_run(tmp_path, monkeypatch, seed: int, max_steps: int) -> tuple[list[str], Path]:
    """Runs the small 3m config for ``seed`` on the command line with --keep-checkpoint (results
    and saves under ``tmp_path``); returns the common argv of later calls and the kept save."""
    import sys

    monkeypatch.setattr(learning, "RESULTS", tmp_path)
    monkeypatch.setattr(learning, "CHECKPOINTS", tmp_path / "checkpoints")
    monkeypatch.setattr(learning, "_init_ray", lambda: None)  # the fixture's Ray
    sets = [a for k, v in _SMALL.items() for a in ("--set", f"{k}={v}")]
    common = ["learning.py", "smac", "--eval-every", "192", "--eval-episodes", "2"]
    monkeypatch.setattr(
        sys,
        "argv",
        [*common, "--seeds", str(seed), *sets, "--tag", "src", "--max-steps", str(max_steps), "--keep-checkpoint"],
    )
    learning.main()
    return common, learning.CHECKPOINTS / f"learning_smac_src.seed{seed}"


def test_branch_starts_from_a_kept_save_with_changed_settings(ray_local, tmp_path, monkeypatch):
    """``--branch-from``: keeps the saved curve, restores the saved state exactly (an unchanged
    branch repeats the uninterrupted run) and applies its --set changes from the branch point."""
    import sys

    root = tmp_path / "root"  # a copy of the tuned example, to change it after the save
    (root / "tuned_examples").mkdir(parents=True)
    yaml_path = root / "tuned_examples" / "smac.yaml"
    yaml_path.write_text((learning.ROOT / "tuned_examples" / "smac.yaml").read_text())
    monkeypatch.setattr(learning, "ROOT", root)
    common, source = _kept_source_run(tmp_path, monkeypatch, seed=5, max_steps=448)
    whole = learning.run_one("smac", 5, 640, 192, 2, _SMALL)  # the source run, uninterrupted
    # The example changes after the save; branches still run what the save ran (plus --set).
    yaml_path.write_text(
        yaml_path.read_text().replace("    td_lambda: 0.6\n", "    td_lambda: 0.6\n    epsilon_start: 0.5\n")
    )

    # Unchanged branch: the seed comes from the save, the settings are the save's. The path is
    # relative, as a user types it (RLlib itself restores only from absolute paths).
    monkeypatch.chdir(tmp_path)
    relative = source.relative_to(tmp_path)
    monkeypatch.setattr(sys, "argv", [*common, "--branch-from", str(relative), "--tag", "same", "--max-steps", "640"])
    learning.main()
    (same,) = json.loads((tmp_path / "learning_smac_same.json").read_text())["runs"]
    assert same["seed"] == 5 and same["overrides"] == _SMALL
    assert same["branched_from"] == {"checkpoint": str(source.resolve()), "env_steps": 448, "overrides": _SMALL}
    assert [p["env_steps"] for p in same["curve"]] == [64, 256, 448, 640]
    for key in ("eval_return", "train_return", "epsilon"):
        got = np.array([p[key] for p in same["curve"]], dtype=float)  # None (no episode ended) as NaN
        want = np.array([p[key] for p in whole["curve"]], dtype=float)
        np.testing.assert_allclose(got, want, atol=1e-6, err_msg=key)

    # Changed branch: epsilon annealed over 100 steps is at its floor from the branch point on.
    monkeypatch.setattr(
        sys,
        "argv",
        [
            *common,
            "--branch-from",
            str(source),
            "--set",
            "epsilon_anneal_steps=100",
            "--set",
            "epsilon_finish=0.3",
            "--tag",
            "eps",
            "--max-steps",
            "640",
        ],
    )
    learning.main()
    (eps,) = json.loads((tmp_path / "learning_smac_eps.json").read_text())["runs"]
    assert eps["overrides"] == {**_SMALL, "epsilon_anneal_steps": 100, "epsilon_finish": 0.3}
    assert [p["epsilon"] for p in eps["curve"][:3]] == [p["epsilon"] for p in whole["curve"][:3]]
    assert whole["curve"][3]["epsilon"] > 0.9 and eps["curve"][3]["epsilon"] == pytest.approx(0.3)
    assert source.is_dir()  # a branch never touches the save it started from


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--tag", "b", "--set", "agent_hidden_dim=32"], "agent_hidden_dim cannot change in a branch"),
        (["--set", "td_lambda=0.3"], "give --tag NAME"),
        (["--tag", "b", "--seeds", "2"], "seed 7's run; drop --seeds or pass --seeds 7"),
        (["--tag", "b", "--max-steps", "300"], "the save is at 448 env steps; give a larger --max-steps"),
        (["--tag", "b", "--resume"], "to continue a branch, use --resume"),
        (["--tag", "a"], "--tag a is the tag of the run it starts from"),
    ],
)
def test_branch_refuses_what_it_cannot_do(tmp_path, monkeypatch, argv, message):
    import sys

    monkeypatch.setattr(learning, "CHECKPOINTS", tmp_path)
    source = tmp_path / "learning_smac_a.seed7"
    source.mkdir()
    run = {
        "example": "smac",
        "seed": 7,
        "overrides": {"agent_hidden_dim": 16},
        "example_settings": {"td_lambda": 0.6},
        "curve": [{"env_steps": 448, "minutes": 1.0}],
    }
    (source / learning.RUN_FILE).write_text(json.dumps(run))
    monkeypatch.setattr(learning, "_init_ray", lambda: pytest.fail("must refuse before starting Ray"))
    monkeypatch.setattr(sys, "argv", ["learning.py", "smac", "--branch-from", str(source), *argv])
    with pytest.raises(SystemExit, match=message):
        learning.main()


def test_a_checkpointed_branch_resumes_with_its_own_changes(ray_local, tmp_path, monkeypatch):
    """A branch saved with --checkpoint continues with ``--resume`` and the same --set changes
    (not its source's settings repeated), and keeps its branch record."""
    import sys

    common, source = _kept_source_run(tmp_path, monkeypatch, seed=6, max_steps=256)
    branch = ["--set", "td_lambda=0.3", "--tag", "lam"]
    monkeypatch.setattr(
        sys, "argv", [*common, "--branch-from", str(source), *branch, "--max-steps", "448", "--keep-checkpoint"]
    )
    learning.main()
    monkeypatch.setattr(sys, "argv", [*common, "--seeds", "6", *branch, "--max-steps", "640", "--resume"])
    learning.main()
    (run,) = json.loads((tmp_path / "learning_smac_lam.json").read_text())["runs"]
    assert [p["env_steps"] for p in run["curve"]] == [64, 256, 448, 640]
    assert run["overrides"] == {**_SMALL, "td_lambda": 0.3} and run["resumed_at"] == [256, 448]
    assert run["branched_from"]["env_steps"] == 256 and run["branched_from"]["checkpoint"] == str(source)


def test_a_run_records_the_defaults_it_ran_and_an_old_save_gets_the_former_ones():
    """A default that changes later must not change what a resume or a branch of a save runs."""
    from rllib_qmix import QMIXConfig

    config, spec = learning.example_config("smac", seed=0, eval_episodes=4, overrides={"gamma": 0.9})
    settings = learning.settings_that_ran(spec.param_space, {"gamma": 0.9}, config)
    assert "gamma" not in settings  # an override stays an override, not part of the example
    assert settings["optimizer"] == "adam" and settings["td_lambda"] == 0.6  # the YAML's own
    assert settings["normalize_obs"] is False  # pinned by the YAML
    assert settings["replay_capacity"] == 5000 and settings["grad_clip"] == 10.0  # left to the defaults
    old = {"seed": 0, "example_settings": {"td_lambda": 0.6}, "curve": []}  # saved before 2026-12-03
    ran = learning.with_former_defaults(old)["example_settings"]
    assert ran == {**QMIXConfig.PRESETS["pymarl"], "td_lambda": 0.6}
    assert ran["optimizer"] == "rmsprop" and ran["normalize_state"] is False
    new = {"seed": 0, "example_settings": settings, "overrides": {"gamma": 0.9}, "curve": []}
    assert learning.with_former_defaults(new)["example_settings"] == settings


def test_the_iteration_cap_cuts_each_run_as_if_its_session_ended(ray_local, tmp_path, monkeypatch):
    """RLLIB_QMIX_MAX_ITERATIONS=2 (how CI runs the docs' commands): a run stops after 2
    iterations with an evaluation, keeps its partial curve and save, writes no final results,
    and a --resume (capped again, then not) continues it to the end."""
    import sys

    monkeypatch.setattr(learning, "RESULTS", tmp_path)
    monkeypatch.setattr(learning, "CHECKPOINTS", tmp_path / "checkpoints")
    monkeypatch.setattr(learning, "_init_ray", lambda: None)  # the fixture's Ray
    sets = [a for k, v in _SMALL.items() for a in ("--set", f"{k}={v}")]
    common = ["learning.py", "smac", "--seeds", "5", "--eval-every", "192", "--eval-episodes", "2", *sets, "--tag", "c"]
    common += ["--max-steps", "448", "--checkpoint"]
    partial = tmp_path / "learning_smac_c.seed5.partial.json"
    monkeypatch.setenv("RLLIB_QMIX_MAX_ITERATIONS", "2")
    monkeypatch.setattr(sys, "argv", common)
    learning.main()
    (run,) = json.loads(partial.read_text())["runs"]
    assert [p["env_steps"] for p in run["curve"]] == [64, 128] and run["finished"] is False
    assert not (tmp_path / "learning_smac_c.json").exists()
    monkeypatch.setattr(sys, "argv", [*common, "--resume"])
    learning.main()
    (run,) = json.loads(partial.read_text())["runs"]
    assert [p["env_steps"] for p in run["curve"]] == [64, 128, 256]
    monkeypatch.delenv("RLLIB_QMIX_MAX_ITERATIONS")
    learning.main()
    (run,) = json.loads((tmp_path / "learning_smac_c.json").read_text())["runs"]
    assert [p["env_steps"] for p in run["curve"]] == [64, 128, 256, 448] and run["finished"] is True
    assert not partial.exists() and not (learning.CHECKPOINTS / "learning_smac_c.seed5").exists()
