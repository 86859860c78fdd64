"""The learner's guard against non-finite updates: a skipped update changes nothing (weights,
targets, optimizer state), skips are counted, a finite update resets the run of skips, and
``max_nonfinite_updates`` in a row raise one error that names the first non-finite quantity."""

from __future__ import annotations

import copy
import re

import pytest
import torch
from ray.rllib.core import DEFAULT_MODULE_ID
from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch

from rllib_qmix import QMIXConfig
from rllib_qmix import keys as K
from rllib_qmix.learning.learner import (
    NONFINITE_UPDATES_IN_A_ROW,
    NUM_NONFINITE_UPDATES,
    NonFiniteUpdateError,
)
from tests.learning.test_learner import make_learner, random_batch


def update(learner, batch: dict) -> dict:
    """One learner update; returns this module's reduced metrics as plain numbers."""
    b = {k: v.numpy() for k, v in batch.items()}
    results = learner.update(batch=MultiAgentBatch({DEFAULT_MODULE_ID: SampleBatch(b)}, env_steps=9), timesteps={})
    return {k: v.peek() if hasattr(v, "peek") else v for k, v in results[DEFAULT_MODULE_ID].items()}


def overflowing_batch(seed: int = 5) -> dict:
    """Finite inputs whose squared TD error overflows float32: the loss is inf."""
    batch = random_batch(seed=seed)
    batch[K.REWARDS] = torch.full_like(batch[K.REWARDS], 1e38)
    return batch


def snapshot(learner) -> tuple[dict, dict]:
    """Copies of every module tensor (agent, mixer, targets) and of the optimizer state."""
    weights = {k: v.detach().clone() for k, v in learner.module[DEFAULT_MODULE_ID].state_dict().items()}
    (optimizer,) = learner._named_optimizers.values()
    return weights, copy.deepcopy(optimizer.state_dict())


def assert_same(a: tuple[dict, dict], b: tuple[dict, dict]) -> None:
    """Weights and optimizer states are exactly equal (every tensor, bit for bit)."""
    (wa, oa), (wb, ob) = a, b
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
    assert oa["state"].keys() == ob["state"].keys() and len(oa["state"]) > 0
    for i in oa["state"]:
        for name, value in oa["state"][i].items():
            other = ob["state"][i][name]
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(other)), (i, name)
    assert oa["param_groups"] == ob["param_groups"]


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_overflowing_update_is_skipped_and_changes_nothing(optimizer):
    _, learner = make_learner(optimizer=optimizer, lr=0.01, target_update_tau=0.5)
    update(learner, random_batch(seed=1))  # a finite update first: the optimizer has moments
    before = snapshot(learner)
    metrics = update(learner, overflowing_batch())
    assert metrics["td_loss"] == float("inf")
    assert metrics[NUM_NONFINITE_UPDATES] == 1 and metrics[NONFINITE_UPDATES_IN_A_ROW] == 1
    # No optimizer step and no (soft) target update: every tensor is exactly as before.
    assert_same(before, snapshot(learner))
    assert learner._num_updates == 1


def test_finite_update_after_a_skip_trains_as_if_the_skip_never_happened():
    """A finite batch after a skipped one trains normally and resets the run of skips; the
    result equals a learner that never saw the bad batch (same weights and optimizer state)."""
    _, learner = make_learner(optimizer="adam", lr=0.01, max_nonfinite_updates=3)
    _, reference = make_learner(optimizer="adam", lr=0.01, max_nonfinite_updates=3)
    start, reference_start = snapshot(learner)[0], snapshot(reference)[0]
    for k in start:  # the same seed builds the same start weights
        assert torch.equal(start[k], reference_start[k]), k

    for lrn in (learner, reference):
        update(lrn, random_batch(seed=1))
    assert update(learner, overflowing_batch())[NONFINITE_UPDATES_IN_A_ROW] == 1
    before = snapshot(learner)
    metrics = update(learner, random_batch(seed=2))
    update(reference, random_batch(seed=2))
    assert metrics[NONFINITE_UPDATES_IN_A_ROW] == 0 and metrics[NUM_NONFINITE_UPDATES] == 1
    assert any(not torch.equal(before[0][k], v) for k, v in snapshot(learner)[0].items())  # it trained
    assert_same(snapshot(learner), snapshot(reference))
    # The run of skips restarted: two more bad updates are still below the limit of 3.
    for expected in (1, 2):
        metrics = update(learner, overflowing_batch())
        assert metrics[NONFINITE_UPDATES_IN_A_ROW] == expected and metrics[NUM_NONFINITE_UPDATES] == 1 + expected


def test_max_nonfinite_updates_in_a_row_raise_one_clear_error():
    _, learner = make_learner(
        optimizer="adam", lr=0.01, max_nonfinite_updates=3, grad_clip=5.0, normalize_obs=False, normalize_state=False
    )
    update(learner, random_batch(seed=1))
    before = snapshot(learner)
    for _ in range(2):
        update(learner, overflowing_batch())
    with pytest.raises(NonFiniteUpdateError) as info:
        update(learner, overflowing_batch())
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("learner update 4:")  # 1 applied + 3 skipped
    assert "3 updates in a row" in message and "first non-finite value in the last one: loss" in message
    for hint in ("normalize_state=True", "normalize_obs=True", "lr (now 0.01)", "grad_clip (now 5.0)"):
        assert hint in message
    assert_same(before, snapshot(learner))  # the third one was skipped too


def test_error_suggests_only_the_normalisation_that_is_off():
    _, learner = make_learner(optimizer="adam", lr=0.01, max_nonfinite_updates=1, normalize_obs=False)
    with pytest.raises(NonFiniteUpdateError) as info:
        update(learner, overflowing_batch())
    message = str(info.value)
    assert "Try training(normalize_obs=True) for inputs far outside [-1, 1], a lower lr (now 0.01)" in message
    assert "normalize_state" not in message


def _inf_obs(learner, batch):
    """An infinite observation feature: the agent's Q-values become NaN (and all after them)."""
    batch[K.OBS][0, 0, 0, 0] = float("inf")


def _big_targets(learner, batch):
    """The target agent's values are finite but their sum over the 2 agents (VDN) overflows."""
    with torch.no_grad():
        learner.module[DEFAULT_MODULE_ID].target_agent.fc_out.bias.fill_(3e38)


def _big_mixer(learner, batch):
    """Finite weights, but only the online mixer's output overflows (its hidden layer is ~3e38,
    times 32 non-negative final weights); the target mixer is untouched."""
    with torch.no_grad():
        learner.module[DEFAULT_MODULE_ID].mixer.hyper_b1.bias.fill_(3e38)


def _huge_rewards(learner, batch):
    batch[K.REWARDS] = torch.full_like(batch[K.REWARDS], 1e38)


def _inf_gradient(learner, batch):
    """Finite forward pass and loss; one gradient is made infinite on the way back."""
    learner.module[DEFAULT_MODULE_ID].agent.fc_in.weight.register_hook(lambda g: g * float("inf"))


@pytest.mark.parametrize(
    "mixer,breaks,quantity",
    [
        ("qmix", _inf_obs, "agent Q-values"),
        ("vdn", _big_targets, "TD targets"),
        ("qmix", _big_mixer, "mixer output Q_tot"),
        ("qmix", _huge_rewards, "loss"),
        ("qmix", _inf_gradient, "gradient norm"),
    ],
)
def test_error_names_the_first_nonfinite_quantity(mixer, breaks, quantity):
    """Checked in the order of the computation: agent Q-values, TD targets, Q_tot, loss, gradients."""
    _, learner = make_learner(mixer=mixer, max_nonfinite_updates=1)
    batch = random_batch(seed=3)
    breaks(learner, batch)
    before = {k: v.clone() for k, v in learner.module[DEFAULT_MODULE_ID].state_dict().items()}
    with pytest.raises(NonFiniteUpdateError, match=re.escape(f"first non-finite value in the last one: {quantity})")):
        update(learner, batch)
    for k, v in learner.module[DEFAULT_MODULE_ID].state_dict().items():
        assert torch.equal(v, before[k]), k


def test_nonfinite_counters_are_in_the_learner_state():
    _, learner = make_learner(max_nonfinite_updates=3)
    update(learner, overflowing_batch())
    state = learner.get_state()
    _, fresh = make_learner(max_nonfinite_updates=3)
    fresh.set_state(state)
    metrics = update(fresh, overflowing_batch())
    assert metrics[NUM_NONFINITE_UPDATES] == 2 and metrics[NONFINITE_UPDATES_IN_A_ROW] == 2


@pytest.mark.parametrize("value", [0, -1, 1.5, True, None])
def test_max_nonfinite_updates_is_validated(value):
    with pytest.raises(ValueError, match="`max_nonfinite_updates` must be an integer >= 1"):
        QMIXConfig().environment("two_step_game").training(max_nonfinite_updates=value).validate()
