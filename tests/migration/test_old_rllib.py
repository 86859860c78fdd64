"""Old RLlib QMIX configs: each old key becomes this package's setting with one warning (or an
error naming the setting), through update_from_dict, the setters and Tune's dict round trip;
the settings that carry the old units (target copies every N env steps, batches of at least N
env steps); and the old two-step example learning."""

import sys
import warnings

import numpy as np
import pytest
import torch
from ray.rllib.core import DEFAULT_MODULE_ID
from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch
from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME

from rllib_qmix import QMIXConfig
from rllib_qmix.algorithm.old_rllib_keys import OldQMIXKeyWarning
from rllib_qmix.envs.team import TeamSpec
from rllib_qmix.learning.replay import EpisodeReplayBuffer
from rllib_qmix.sampling.episode import TeamEpisode
from tests.benchmarks._load import load_benchmark
from tests.learning.test_learner import make_learner, random_batch, target_pairs

#: The old two-step example's keys as the issue lists them.
OLD = {
    "mixer": "qmix",
    "train_batch_size": 32,
    "exploration_config": {"final_epsilon": 0.0},
    "mixing_embed_dim": 16,
    "double_q": False,
    "optim_alpha": 0.9,
    "optim_eps": 1e-6,
    "grad_clip": 5.0,
    "target_network_update_freq": 500,
}


def caught_warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(w.message) for w in caught if issubclass(w.category, OldQMIXKeyWarning)]


def test_old_keys_become_settings_with_one_warning_each():
    config, messages = caught_warnings(lambda: QMIXConfig().update_from_dict(dict(OLD)))
    config.validate()  # RLlib 2.60 alone refuses exploration_config here
    assert config.train_batch_env_steps == 32
    assert config.target_update_env_steps == 500
    assert config.epsilon_finish == 0.0 and config.epsilon_start == 1.0  # only the given key changes
    assert config.optimizer == "rmsprop" and config.optim_alpha == 0.9 and config.optim_eps == 1e-6
    assert (config.mixer, config.mixing_embed_dim, config.double_q, config.grad_clip) == ("qmix", 16, False, 5.0)
    # One warning per translated key, each naming the new setting.
    expected = {
        "train_batch_size": "train_batch_env_steps",
        "target_network_update_freq": "target_update_env_steps",
        "exploration_config": "epsilon_finish",
        "optim_alpha": "optimizer='rmsprop'",
    }
    assert len(messages) == len(expected), messages
    for old, new in expected.items():
        (hit,) = [m for m in messages if f"`{old}" in m]
        assert new in hit


def test_old_setters_translate_too():
    def build():
        return (
            QMIXConfig()
            .training(
                train_batch_size=64,
                target_network_update_freq=200,
                replay_buffer_config={"type": "MultiAgentReplayBuffer", "capacity": 300},
                model={"lstm_cell_size": 32, "max_seq_len": 999999},
                grad_norm_clipping=3.0,
                optim_alpha=0.95,
            )
            .exploration(exploration_config={"initial_epsilon": 0.5, "final_epsilon": 0.02, "epsilon_timesteps": 900})
            .rollouts(num_rollout_workers=0, num_envs_per_worker=3, rollout_fragment_length=4)
        )

    config, messages = caught_warnings(build)
    assert config.train_batch_env_steps == 64 and config.target_update_env_steps == 200
    assert config.replay_capacity == 300 and config.agent_hidden_dim == 32 and config.grad_clip == 3.0
    assert config.optimizer == "rmsprop" and config.optim_alpha == 0.95
    assert (config.epsilon_start, config.epsilon_finish, config.epsilon_anneal_steps) == (0.5, 0.02, 900)
    assert (config.num_env_runners, config.num_envs_per_env_runner, config.rollout_fragment_length) == (0, 3, 4)
    assert len(messages) == 9, messages  # 8 keys of training/exploration + one for rollouts(...)


@pytest.mark.parametrize(
    "old,names",
    [
        ({"exploration_config": {"type": "SoftQ", "temperature": 1.0}}, "epsilon_start"),
        ({"exploration_config": {"warmup_timesteps": 100}}, "epsilon_anneal_steps"),
        ({"model": {"max_seq_len": 20}}, "whole episodes"),
        ({"model": {"custom_model": "my_model"}}, "agent_hidden_dim"),
        ({"num_steps_sampled_before_learning_starts": 1000}, "learning_starts"),
        ({"replay_buffer_config": {"type": "MultiAgentPrioritizedReplayBuffer"}}, "replay_capacity"),
        ({"replay_buffer_config": {"capacity": 10, "storage_unit": "timesteps"}}, "replay_capacity"),
        ({"adam_epsilon": 1e-8}, "optim_eps"),
        ({"tau": 0.5}, "target_update_tau"),
        ({"train_batch_size": 32, "train_batch_env_steps": 64}, "remove `train_batch_size`"),
        ({"train_batch_size": 0}, "train_batch_env_steps"),
    ],
)
def test_old_keys_that_cannot_carry_over_are_refused(old, names):
    with pytest.raises(ValueError, match=names.replace("(", r"\(")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            QMIXConfig().update_from_dict(old)


def test_tune_round_trip_takes_no_old_key():
    """``to_dict`` feeds ``update_from_dict`` in Tune: a config made from old keys goes through
    it unchanged and without a warning (RLlib's own train_batch_size/model/exploration_config
    are not in the dict, so they can't be mistaken for old QMIX keys)."""
    config, _ = caught_warnings(lambda: QMIXConfig().update_from_dict(dict(OLD)))
    again, messages = caught_warnings(lambda: QMIXConfig().update_from_dict(config.to_dict()))
    assert messages == []
    for key in ("train_batch_env_steps", "target_update_env_steps", "optimizer", "epsilon_finish", "mixing_embed_dim"):
        assert getattr(again, key) == getattr(config, key), key
    plain, messages = caught_warnings(lambda: QMIXConfig().update_from_dict(QMIXConfig().to_dict()))
    assert messages == [] and plain.optimizer == "adam" and plain.train_batch_env_steps is None


def test_our_own_adam_eps_is_not_an_old_key():
    config, messages = caught_warnings(lambda: QMIXConfig().update_from_dict({"optim_eps": 1e-8, "lr": 1e-3}))
    assert messages == [] and config.optimizer == "adam"
    config, messages = caught_warnings(lambda: QMIXConfig().update_from_dict({"optim_alpha": 0.9, "optimizer": "adam"}))
    assert messages == [] and config.optimizer == "adam"


def test_target_copies_every_n_env_steps():
    """``target_update_env_steps=10``: a hard copy at the first update once 10 env steps were
    sampled since the last copy (old QMIX's rule), whatever the number of updates between."""
    _, learner = make_learner(target_update_env_steps=10, lr=0.1, optimizer="adam")
    module = learner.module[DEFAULT_MODULE_ID]

    def in_sync() -> bool:
        return all(
            torch.equal(p, tp)
            for net, target in target_pairs(module).values()
            for p, tp in zip(net.parameters(), target.parameters())
        )

    copied = []
    for k, env_steps in enumerate([4, 9, 10, 12, 19, 20, 35]):
        b = {key: v.numpy() for key, v in random_batch(seed=k).items()}
        learner.update(
            batch=MultiAgentBatch({DEFAULT_MODULE_ID: SampleBatch(b)}, env_steps=9),
            timesteps={NUM_ENV_STEPS_SAMPLED_LIFETIME: env_steps},
        )
        copied.append(in_sync())
    # 10 - 0 >= 10: copy; 20 - 10 >= 10: copy; 35 - 20 >= 10: copy; everything else lags.
    assert copied == [False, False, True, False, False, True, True]


def _episode(length: int, spec: TeamSpec) -> TeamEpisode:
    n, d, s, a = spec.n_agents, spec.obs_dim, spec.state_dim, spec.n_actions
    return TeamEpisode(
        obs=np.zeros((length + 1, n, d), np.float32),
        state=np.zeros((length + 1, s), np.float32),
        avail=np.ones((length + 1, n, a), bool),
        actions=np.zeros((length, n), np.int64),
        rewards=np.full(length, float(length), np.float32),
        terminated=True,
        truncated=False,
        info={},
    )


def test_batches_of_at_least_n_env_steps():
    """Episodes of 2, 3 and 5 steps: a batch of >= 6 steps takes episodes in a random order
    until they hold 6; the batch is the shortest such prefix (so it can't be an episode less)."""
    spec = TeamSpec(n_agents=2, obs_dim=3, state_dim=4, n_actions=2, episode_limit=5)
    replay = EpisodeReplayBuffer(spec, capacity=10, seed=0)
    replay.add([_episode(n, spec) for n in (2, 3, 5)])
    assert replay.num_steps() == 10
    seen = set()
    for _ in range(30):
        batch = replay.sample_env_steps(6)
        drawn = [int(x) for x in batch["mask"].sum(axis=1)]  # in the order they were drawn
        assert batch["rewards"][:, 0].tolist() == [float(n) for n in drawn]  # whole episodes, each once
        assert sum(drawn) >= 6 and sum(drawn[:-1]) < 6, drawn
        seen.add(tuple(drawn))
    assert len(seen) > 2  # a random order, not one fixed batch
    assert sorted(int(x) for x in replay.sample_env_steps(100)["mask"].sum(axis=1)) == [2, 3, 5]  # all at most
    assert len(replay.sample_env_steps(1, min_episodes=2)["mask"]) == 2


def test_cli_translates_classic_and_old_qmix_keys(capsys):
    from rllib_qmix.cli.experiment import CLIError, experiment_from_dict

    entry = {
        "run": "QMIX",
        "env": "two_step_game",
        "config": {"num_rollout_workers": 0, "num_envs_per_worker": 2, "train_batch_size": 16, "num_gpus": 0},
    }
    spec = experiment_from_dict("old", entry)
    err = capsys.readouterr().err
    assert spec.param_space["num_env_runners"] == 0 and spec.param_space["num_envs_per_env_runner"] == 2
    assert spec.param_space["train_batch_env_steps"] == 16
    assert not {"num_rollout_workers", "num_envs_per_worker", "train_batch_size"} & set(spec.param_space)
    lines = [line for line in err.splitlines() if "warning" in line]
    assert len(lines) == 3 and "num_env_runners" in lines[0] and "train_batch_env_steps" in err
    with pytest.raises(CLIError, match="TimeLimit"):
        experiment_from_dict("old", {**entry, "config": {"horizon": 100}})
    with pytest.raises(CLIError, match="learning_starts"):
        experiment_from_dict("old", {**entry, "config": {"num_steps_sampled_before_learning_starts": 10}})
    ppo = experiment_from_dict("ppo", {"run": "PPO", "env": "CartPole-v1", "config": {"num_workers": 1, "num_gpus": 1}})
    assert ppo.param_space["num_env_runners"] == 1 and ppo.param_space["num_gpus_per_learner"] == 1


two_step = load_benchmark("old_rllib_two_step")


def test_old_two_step_example_learns_the_optimum_with_the_recommended_setting(ray_local):
    """The old example's env and keys, plus the one setting docs/migrating.md recommends
    (td_lambda=0): the greedy return is the optimum 8 after 6,000 env steps."""
    run = two_step.run_one("recommended", seed=0, max_steps=6000, eval_every=6000)
    assert run["final"] == 8.0


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_old_two_step_example_learns_with_the_old_keys_alone(ray_local, seed):
    """The old example converted only by its import line: greedy return >= 7 within its budget."""
    run = two_step.run_one("old", seed=seed, max_steps=two_step.MAX_STEPS, eval_every=two_step.MAX_STEPS)
    assert run["final"] >= 7.0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))


def test_old_rllib_preset_builds_old_qmixs_networks():
    """preset("old_rllib"): old RLlib QMIX's agent (obs only into a 64-unit GRU) and mixer
    (linear hypernetworks), RMSprop and its units."""
    config = QMIXConfig().preset("old_rllib")
    spec = TeamSpec(n_agents=2, obs_dim=3, state_dim=4, n_actions=3)
    learner = config.build_learner(spaces={DEFAULT_MODULE_ID: (spec.observation_space(), spec.action_space())})
    module = learner.module[DEFAULT_MODULE_ID]
    assert module.agent.fc_in.in_features == 3 and module.agent.hidden_dim == 64  # no id, no last action
    assert isinstance(module.mixer.hyper_w1, torch.nn.Linear)  # one layer
    assert (config.optimizer, config.train_batch_env_steps, config.target_update_env_steps) == ("rmsprop", 32, 500)
    assert (config.epsilon_finish, config.epsilon_anneal_steps, config.replay_capacity) == (0.01, 40_000, 1000)
