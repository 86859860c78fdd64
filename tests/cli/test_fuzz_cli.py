"""Property-based tests of what `rllib train` accepts: generated experiment YAML and `--config`
JSON, malformed in many ways. Every input is either accepted (training would start: here
``init_ray`` is replaced by a stop) or refused with exit code 2 and one line on stderr; no
other exception and no traceback. Wrongly typed QMIX options are always refused by name.
"""

from __future__ import annotations

import json
import os
import string

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rllib_qmix.cli import main as cli

# FUZZ_EXAMPLES=5000 for a longer hunt than the default suite's
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 120)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

GOOD = {"fuzzed": {"run": "QMIX", "env": "two_step_game", "stop": {"training_iteration": 1}, "config": {}}}
EXPERIMENT_KEYS = ["run", "algo", "env", "env_config", "stop", "config", "checkpoint_freq", "num_samples", "bogus"]
CONFIG_KEYS = ["lr", "gamma", "mixer", "optimizer", "episode_batch_size", "td_lambda", "num_env_runners", "nope"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(string.printable, max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(CONFIG_KEYS), inner, max_size=3)
    ),
    max_leaves=6,
)


class Accepted(Exception):
    """Raised instead of starting Ray: the input passed every check."""


@pytest.fixture(autouse=True)
def no_training(monkeypatch):
    def stop(*args, **kwargs):
        raise Accepted

    monkeypatch.setattr(cli, "init_ray", stop)


def run(argv: list[str], capsys) -> int | None:
    """The exit code (None: accepted); asserts a refusal is one line with no traceback."""
    capsys.readouterr()
    try:
        code = cli.main(argv)
    except Accepted:
        return None
    except SystemExit as e:  # argparse's refusal
        code = e.code
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("rllib train: error: "), err
    assert "Traceback" not in err
    return code


@st.composite
def experiment_yaml(draw) -> str:
    kind = draw(st.sampled_from(["structure", "mutated", "text"]))
    if kind == "structure":  # well-formed YAML of odd shapes and values
        entry = dict(GOOD["fuzzed"])
        for key in draw(st.lists(st.sampled_from(EXPERIMENT_KEYS), max_size=3)):
            entry[key] = draw(values)
        top = draw(st.sampled_from(["mapping", "list", "scalar", "empty"]))
        data = {"fuzzed": entry} if top == "mapping" else [entry] if top == "list" else {} if top == "empty" else 3
        return yaml.safe_dump(data)
    if kind == "mutated":  # a good file with characters inserted, deleted or replaced
        text = list(yaml.safe_dump(GOOD))
        for _ in range(draw(st.integers(1, 4))):
            pos = draw(st.integers(0, len(text)))
            op = draw(st.sampled_from(["insert", "delete", "replace"]))
            char = draw(st.sampled_from(list(":-{}[]&*!|>'\"%@` \t\n#,?")))
            if op == "insert":
                text.insert(pos, char)
            elif pos < len(text):
                text[pos : pos + 1] = [] if op == "delete" else [char]
        return "".join(text)
    return draw(st.text(max_size=80))


@FUZZ
@given(text=experiment_yaml())
def test_any_experiment_yaml_is_accepted_or_refused_in_one_line(tmp_path_factory, capsys, text):
    path = tmp_path_factory.mktemp("yaml") / "exp.yaml"
    path.write_text(text)
    run(["train", "file", str(path)], capsys)


@st.composite
def config_json(draw) -> str:
    if draw(st.booleans()):
        return json.dumps(draw(values), allow_nan=True)
    return draw(st.text(max_size=40))


@FUZZ
@given(text=config_json())
@example(text="-1e+16")  # argparse took it for an option: a two-line usage error (CI, 2026-12-03)
def test_any_config_json_is_accepted_or_refused_in_one_line(tmp_path_factory, capsys, text):
    path = tmp_path_factory.mktemp("yaml") / "exp.yaml"
    path.write_text(yaml.safe_dump(GOOD))
    run(["train", "file", str(path), "--config", text], capsys)
    run(["train", "--algo", "QMIX", "--env", "two_step_game", "--config", text], capsys)


TYPED = ["lr", "gamma", "td_lambda", "episode_batch_size", "replay_capacity", "target_update_interval", "grad_clip"]


@FUZZ
@given(
    key=st.sampled_from(TYPED),
    value=st.one_of(st.text(max_size=8), st.booleans(), st.lists(st.integers(), min_size=1, max_size=2), st.just({})),
)
def test_wrongly_typed_qmix_option_is_refused_by_name(capsys, key, value):
    if key == "lr" and isinstance(value, list):
        value = {"not": "a schedule"}
    capsys.readouterr()
    try:
        code = cli.main(["train", "--algo", "QMIX", "--env", "two_step_game", "--config", json.dumps({key: value})])
    except Accepted:
        pytest.fail(f"{key}={value!r} was accepted")
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert f"`{key}`" in err, err  # QMIX's check ("`gamma` must be a number") or RLlib's (lr)
