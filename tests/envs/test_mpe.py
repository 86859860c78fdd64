"""mpe2's envs for QMIX: simple_spread and the padded simple_speaker_listener."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mpe2")

from rllib_qmix import QMIXConfig  # noqa: E402
from rllib_qmix.envs.mpe import make_simple_speaker_listener, make_simple_spread  # noqa: E402
from rllib_qmix.envs.team import TeamEnvError, as_team_env  # noqa: E402


def test_speaker_listener_is_padded_to_one_size_with_masks():
    raw = make_simple_speaker_listener({"max_cycles": 25})
    team = as_team_env(raw)
    spec = team.spec
    assert (spec.n_agents, spec.obs_dim, spec.n_actions, spec.state_dim) == (2, 11, 5, 14)
    first = team.reset(seed=0)
    speaker, listener = raw.possible_agents.index("speaker_0"), raw.possible_agents.index("listener_0")
    assert first.avail[speaker].tolist() == [True, True, True, False, False]  # the speaker has 3 actions
    assert first.avail[listener].all()
    assert np.all(first.obs[speaker, 3:] == 0.0) and np.any(first.obs[speaker, :3] != 0.0)  # padded with zeros
    steps, out = 0, None
    while True:
        out = team.step(np.array([2, 4]))
        steps += 1
        if out.terminated or out.truncated:
            break
    assert steps == 25 and out.truncated and not out.terminated


def test_speaker_listener_refuses_an_action_the_agent_does_not_have():
    raw = make_simple_speaker_listener()
    raw.reset(seed=0)
    with pytest.raises(TeamEnvError, match="action 4 for agent 'speaker_0', which has 3 actions"):
        raw.step({"speaker_0": 4, "listener_0": 0})


@pytest.mark.parametrize("make", [make_simple_spread, make_simple_speaker_listener])
def test_unknown_env_config_key_is_refused_by_name(make):
    with pytest.raises(TeamEnvError, match=r"Unknown env_config keys for 'mpe_simple_\w+': \['max_cycle'\]; valid:"):
        make({"max_cycle": 10})


def test_qmix_trains_on_speaker_listener():
    config = (
        QMIXConfig()
        .environment("mpe_simple_speaker_listener", env_config={"max_cycles": 25})
        .env_runners(num_env_runners=0, num_envs_per_env_runner=2, rollout_fragment_length=25)
        .training(episode_batch_size=4, learning_starts=4)
        .debugging(seed=0)
    )
    algo = config.build_algo()
    try:
        for _ in range(3):
            result = algo.train()
        assert result["num_learner_updates_lifetime"] >= 1
        assert np.isfinite(result["env_runners"]["episode_return_mean"])
    finally:
        algo.stop()
