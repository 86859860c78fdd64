"""Named sets of QMIX training settings: ``QMIXConfig().preset("pymarl")``, ``preset("old_rllib")``.

A preset sets every option it names and nothing else; a later ``training(...)`` overrides it.
In an experiment YAML, ``preset: pymarl`` in ``config`` applies it before the other keys.
"""

from __future__ import annotations

from typing import Any

#: pymarl's QMIX, for parity with published SMAC curves (oxwhirl/pymarl's src/config/default.yaml
#: and algs/qmix.yaml): RMSprop (lr 5e-4, alpha 0.99, eps 1e-5), gradients clipped to a global
#: norm of 10, batches of 32 episodes from a 5,000-episode buffer, one update per episode,
#: target networks copied every 200 updates, one-step targets, epsilon 1 -> 0.05 over 50k
#: steps, rewards and inputs as they are, a 64-unit GRU agent fed its id and last action, a
#: 32-wide mixer with 2-layer hypernetworks of 64.
PYMARL: dict[str, Any] = {
    "optimizer": "rmsprop",
    "lr": 5e-4,
    "optim_alpha": 0.99,
    "optim_eps": 1e-5,
    "grad_clip": 10.0,
    "grad_clip_by": "global_norm",
    "gamma": 0.99,
    "episode_batch_size": 32,
    "replay_capacity": 5000,
    "learning_starts": 32,
    "updates_per_episode": 1.0,
    "target_update_interval": 200,
    "target_update_tau": None,
    "td_lambda": 0.0,
    "double_q": True,
    "epsilon_start": 1.0,
    "epsilon_finish": 0.05,
    "epsilon_anneal_steps": 50_000,
    "standardize_rewards": False,
    "normalize_obs": False,
    "normalize_state": False,
    "mixer": "qmix",
    "mixing_embed_dim": 32,
    "hypernet_layers": 2,
    "hypernet_embed": 64,
    "agent_hidden_dim": 64,
    "obs_agent_id": True,
    "obs_last_action": True,
}

#: Old RLlib QMIX's defaults (ray.rllib.algorithms.qmix, gone from Ray since late 2024) where this package can
#: express them: RMSprop (lr 5e-4, alpha 0.99, eps 1e-5), clipping at 10, batches of whole
#: episodes holding at least 32 env steps, 1,000 episodes kept, targets copied every 500 env
#: steps, one-step targets, epsilon 1 -> 0.01 over 40k env steps, rewards and inputs as they are,
#: and its networks: a 64-unit GRU agent fed the observation only, a 32-wide mixer with linear
#: hypernetworks. Not expressed: its start after 1,000 env steps and its one update per sampled
#: fragment (``learning_starts`` and ``updates_per_episode`` keep their values).
OLD_RLLIB: dict[str, Any] = {
    "optimizer": "rmsprop",
    "lr": 5e-4,
    "optim_alpha": 0.99,
    "optim_eps": 1e-5,
    "grad_clip": 10.0,
    "grad_clip_by": "global_norm",
    "gamma": 0.99,
    "train_batch_env_steps": 32,
    "replay_capacity": 1000,
    "target_update_env_steps": 500,
    "target_update_tau": None,
    "td_lambda": 0.0,
    "double_q": True,
    "epsilon_start": 1.0,
    "epsilon_finish": 0.01,
    "epsilon_anneal_steps": 40_000,
    "standardize_rewards": False,
    "normalize_obs": False,
    "normalize_state": False,
    "mixer": "qmix",
    "mixing_embed_dim": 32,
    "hypernet_layers": 1,
    "agent_hidden_dim": 64,
    "obs_agent_id": False,
    "obs_last_action": False,
}

PRESETS: dict[str, dict[str, Any]] = {"pymarl": PYMARL, "old_rllib": OLD_RLLIB}
