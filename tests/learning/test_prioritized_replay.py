"""Prioritised episode replay: probabilities, importance weights, priority updates, the
weighted loss and the episode statistic by hand, and checkpoint round trips."""

import numpy as np
import pytest
import torch

from rllib_qmix import keys as K
from rllib_qmix.learning.replay import EpisodeReplayBuffer
from rllib_qmix.learning.targets import episode_td_statistic, masked_mse
from tests.learning.test_replay import SPEC, episode


def _buffer(alpha: float = 0.5, eps: float = 1.0, seed: int = 0) -> EpisodeReplayBuffer:
    buf = EpisodeReplayBuffer(SPEC, capacity=4, seed=seed, prioritized=True, alpha=alpha, eps=eps)
    buf.add([episode(1), episode(2), episode(3)])
    return buf


def test_new_episodes_start_at_the_largest_priority():
    buf = _buffer()
    assert buf.priorities[:3].tolist() == [1.0, 1.0, 1.0]  # nothing updated yet: 1
    buf.update_priorities(np.array([0, 1, 2]), np.array([0.0, 3.0, 8.0]))  # (s + 1) ** 0.5 = 1, 2, 3
    assert buf.priorities[:3].tolist() == [1.0, 2.0, 3.0] and buf.max_priority == 3.0
    buf.add([episode(2)])
    assert buf.priorities[3] == 3.0
    buf.add([episode(1)])  # FIFO: overwrites slot 0, which gets the largest priority too
    assert buf.priorities[0] == 3.0


def test_probabilities_and_weights_by_hand():
    buf = _buffer()
    buf.update_priorities(np.array([0, 1, 2]), np.array([0.0, 3.0, 8.0]))  # priorities 1, 2, 3
    assert np.allclose(buf.probabilities(), [1 / 6, 2 / 6, 3 / 6])
    # beta = 1: w_i = (N P_i)^-1 / (N P_min)^-1 = P_min / P_i = 1, 1/2, 1/3.
    batch, idx = buf.sample_prioritized(64, beta=1.0)
    assert np.allclose(batch[K.PER_WEIGHTS], np.array([1.0, 1 / 2, 1 / 3])[idx])
    # beta = 0.5: the square roots; beta = 0: all 1.
    batch, idx = buf.sample_prioritized(64, beta=0.5)
    assert np.allclose(batch[K.PER_WEIGHTS], np.sqrt([1.0, 1 / 2, 1 / 3])[idx])
    batch, _ = buf.sample_prioritized(8, beta=0.0)
    assert np.all(batch[K.PER_WEIGHTS] == 1.0)


def test_draws_follow_the_probabilities():
    buf = _buffer()
    buf.update_priorities(np.array([0, 1, 2]), np.array([0.0, 3.0, 8.0]))
    counts = np.zeros(3)
    for _ in range(200):
        _, idx = buf.sample_prioritized(100, beta=1.0)
        counts += np.bincount(idx, minlength=3)
    assert np.allclose(counts / counts.sum(), [1 / 6, 2 / 6, 3 / 6], atol=0.01)  # 20,000 draws


def test_sampled_rows_are_the_drawn_slots():
    buf = EpisodeReplayBuffer(SPEC, capacity=4, seed=1, prioritized=True)
    buf.add([episode(1, fill=0.0), episode(2, fill=1.0), episode(3, fill=2.0)])
    batch, idx = buf.sample_prioritized(16, beta=1.0)
    assert np.array_equal(batch[K.MASK].sum(1), buf.lengths[idx])
    assert np.array_equal(batch[K.REWARDS][:, 0], idx.astype(np.float32))


def test_alpha_zero_is_uniform_and_updates_keep_the_last_value():
    buf = _buffer(alpha=0.0)
    buf.update_priorities(np.array([0, 1, 2]), np.array([0.0, 3.0, 8.0]))
    assert np.allclose(buf.probabilities(), [1 / 3] * 3)
    buf = _buffer(alpha=1.0)
    buf.update_priorities(np.array([1, 1]), np.array([3.0, 5.0]))  # slot 1 drawn twice: the last
    assert buf.priorities[1] == 6.0
    buf.update_priorities(np.array([1, 2]), np.array([np.nan, 1.0]))  # a non-finite one: unchanged
    assert buf.priorities[1] == 6.0 and buf.priorities[2] == 2.0


@pytest.mark.parametrize("kwargs,match", [({"alpha": -0.1}, "alpha must be >= 0"), ({"eps": 0.0}, "eps must be > 0")])
def test_bad_replay_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EpisodeReplayBuffer(SPEC, capacity=4, prioritized=True, **kwargs)


def test_uniform_buffer_refuses_prioritized_sampling():
    buf = EpisodeReplayBuffer(SPEC, capacity=4)
    buf.add([episode(1)])
    with pytest.raises(ValueError, match="prioritized=True"):
        buf.sample_prioritized(1, beta=0.5)


def _same_future(a: EpisodeReplayBuffer, b: EpisodeReplayBuffer) -> None:
    assert np.array_equal(a.priorities[: a.size], b.priorities[: b.size]) and a.max_priority == b.max_priority
    for _ in range(3):
        (ba, ia), (bb, ib) = a.sample_prioritized(4, 0.7), b.sample_prioritized(4, 0.7)
        assert np.array_equal(ia, ib) and np.array_equal(ba[K.PER_WEIGHTS], bb[K.PER_WEIGHTS])
        a.update_priorities(ia, np.arange(4.0))
        b.update_priorities(ib, np.arange(4.0))
    a.add([episode(2)])
    b.add([episode(2)])
    assert np.array_equal(a.priorities, b.priorities)


def test_state_round_trip_restores_priorities_exactly(tmp_path):
    buf = _buffer(alpha=0.6, eps=1e-6)
    buf.update_priorities(np.array([0, 2]), np.array([0.25, 4.0]))
    restored = EpisodeReplayBuffer(SPEC, capacity=4, prioritized=True, alpha=0.6, eps=1e-6)
    restored.set_state(buf.get_state())
    _same_future(buf, restored)

    buf = _buffer(alpha=0.6, eps=1e-6)
    buf.update_priorities(np.array([1]), np.array([9.0]))
    buf.save_to_dir(tmp_path / "replay")
    loaded = EpisodeReplayBuffer(SPEC, capacity=4, prioritized=True, alpha=0.6, eps=1e-6)
    loaded.load_from_dir(tmp_path / "replay")
    _same_future(buf, loaded)


def test_weighted_masked_mse_by_hand():
    pred = torch.tensor([[1.0, 2.0], [4.0, 9.0]])
    target = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    # Squared errors of real steps: 1, 4 (episode 0, weight 0.5) and 9 (episode 1, weight 2):
    # (0.5 * 5 + 2 * 9) / 3 real transitions.
    loss = masked_mse(pred, target, mask, torch.tensor([0.5, 2.0]))
    assert loss.item() == pytest.approx((0.5 * 5 + 2 * 9) / 3)
    assert masked_mse(pred, target, mask, torch.ones(2)).item() == pytest.approx(14 / 3)


def test_episode_td_statistic_by_hand():
    pred = torch.tensor([[1.0, 2.0, 0.0, 0.0], [4.0, 0.0, 0.0, 7.0]])
    target = torch.tensor([[0.0, 4.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 1.0], [1.0, 0.0, 0.0, 0.0]])
    # Episode 0: |errors| 1, 2, 1, 0 over 4 steps: 4 / sqrt(4) = 2. Episode 1: 3 over 1 step
    # (the 7 is padding): 3 / sqrt(1) = 3.
    assert episode_td_statistic(pred, target, mask).tolist() == [2.0, 3.0]
    # Without a mixer, the mean over agents: agents' errors (1, 3) -> 2 per step.
    per_agent = torch.stack([pred, pred + 2 * (pred - target)], dim=-1)  # errors e and 3e
    assert episode_td_statistic(per_agent, target.unsqueeze(-1), mask).tolist() == [4.0, 6.0]
