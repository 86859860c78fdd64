"""Episode replay: padded storage, masks, FIFO capacity, growth, state round trip."""

import os

import numpy as np
import pytest

from rllib_qmix import keys as K
from rllib_qmix.envs.team import TeamSpec
from rllib_qmix.learning.replay import EpisodeReplayBuffer
from rllib_qmix.sampling.episode import TeamEpisode

SPEC = TeamSpec(n_agents=2, obs_dim=3, state_dim=4, n_actions=5, episode_limit=6)


def episode(length: int, fill: float = 1.0, terminated: bool = True) -> TeamEpisode:
    return TeamEpisode(
        obs=np.full((length + 1, 2, 3), fill, np.float32),
        state=np.full((length + 1, 4), fill, np.float32),
        avail=np.ones((length + 1, 2, 5), bool),
        actions=np.full((length, 2), 1),
        rewards=np.full(length, fill, np.float32),
        terminated=terminated,
        truncated=not terminated,
    )


def test_sample_shapes_mask_and_terminated():
    buf = EpisodeReplayBuffer(SPEC, capacity=10, seed=0)
    buf.add([episode(2, terminated=True), episode(4, terminated=False)])
    b = buf.sample(2)
    assert b[K.OBS].shape == (2, 5, 2, 3) and b[K.ACTIONS].shape == (2, 4, 2)
    lens = b[K.MASK].sum(1)
    assert sorted(lens.tolist()) == [2.0, 4.0]
    short = int(np.argmin(lens))
    assert b[K.TERMINATED][short].tolist() == [0, 1, 0, 0]
    assert b[K.TERMINATED][1 - short].sum() == 0  # truncated: bootstraps


def test_capacity_is_fifo_and_never_exceeded():
    buf = EpisodeReplayBuffer(SPEC, capacity=3, seed=0)
    for i in range(7):
        buf.add([episode(2, fill=float(i))])
    assert len(buf) == 3 and buf.num_added == 7
    stored = sorted(buf.gather(np.arange(3))[K.REWARDS][:, 0].tolist())
    assert stored == [4.0, 5.0, 6.0]


def test_grows_for_longer_episodes():
    buf = EpisodeReplayBuffer(SPEC, capacity=4, seed=0)
    buf.add([episode(3, fill=2.0), episode(40, fill=3.0)])
    b = buf.gather(np.arange(2))
    assert b[K.OBS].shape[1] == 41 and b[K.MASK].sum() == 43
    assert b[K.REWARDS][0, :3].tolist() == [2.0, 2.0, 2.0]  # kept across the regrowth


def test_sample_too_many_is_clear():
    buf = EpisodeReplayBuffer(SPEC, capacity=4)
    buf.add([episode(2)])
    with pytest.raises(ValueError, match="Can't sample 2 episodes"):
        buf.sample(2)


def test_state_round_trip():
    buf = EpisodeReplayBuffer(SPEC, capacity=5, seed=1)
    buf.add([episode(i + 1, fill=float(i)) for i in range(4)])
    other = EpisodeReplayBuffer(SPEC, capacity=5, seed=99)
    other.set_state(buf.get_state())
    a, b = buf.sample(3), other.sample(3)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def _random_episode(rng: np.random.Generator, length: int) -> TeamEpisode:
    return TeamEpisode(
        obs=rng.random((length + 1, 2, 3), np.float32),
        state=rng.random((length + 1, 4), np.float32),
        avail=rng.random((length + 1, 2, 5)) < 0.7,
        actions=rng.integers(0, 5, (length, 2)),
        rewards=rng.random(length, np.float32),
        terminated=bool(length % 2),
        truncated=not length % 2,
    )


def _assert_same_replay(buf: EpisodeReplayBuffer, other: EpisodeReplayBuffer) -> None:
    """Same episodes, ring pointers and sampling RNG."""
    a, b = buf.gather(np.arange(len(buf))), other.gather(np.arange(len(buf)))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert (other.size, other.next_idx, other.num_added) == (buf.size, buf.next_idx, buf.num_added)
    np.testing.assert_array_equal(buf.sample(4)[K.OBS], other.sample(4)[K.OBS])


def test_state_holds_real_steps_only_and_restores_every_episode_exactly():
    rng = np.random.default_rng(0)
    buf = EpisodeReplayBuffer(SPEC, capacity=6, seed=1)
    lengths = [1, 6, 2, 40, 3, 5, 2, 9]  # 40 grows the time axis; 8 > 6 wraps the ring
    buf.add([_random_episode(rng, n) for n in lengths])
    state = buf.get_state()
    stored = buf.lengths[: len(buf)]
    assert state["packed"][K.REWARDS].shape == (stored.sum(),)  # no padding in the checkpoint
    assert state["packed"][K.OBS].shape == (stored.sum() + len(buf), 2, 3)
    other = EpisodeReplayBuffer(SPEC, capacity=6, seed=99)
    other.set_state(state)
    _assert_same_replay(buf, other)


def test_replay_directory_round_trip_restores_every_episode(tmp_path):
    rng = np.random.default_rng(4)
    buf = EpisodeReplayBuffer(SPEC, capacity=6, seed=1)
    buf.add([_random_episode(rng, n) for n in [1, 6, 2, 40, 3, 5, 2, 9]])  # grows, wraps
    buf.save_to_dir(tmp_path / "replay")
    stored = buf.lengths[: len(buf)]
    assert (tmp_path / "replay" / f"{K.REWARDS}.bin").stat().st_size == 4 * stored.sum()  # real steps only
    other = EpisodeReplayBuffer(SPEC, capacity=6, seed=99)
    other.load_from_dir(tmp_path / "replay")
    _assert_same_replay(buf, other)


def test_truncated_replay_directory_is_an_error(tmp_path):
    buf = EpisodeReplayBuffer(SPEC, capacity=4, seed=1)
    buf.add([_random_episode(np.random.default_rng(5), n) for n in (3, 5)])
    buf.save_to_dir(tmp_path)
    data = (tmp_path / f"{K.OBS}.bin").read_bytes()
    (tmp_path / f"{K.OBS}.bin").write_bytes(data[:-8])
    with pytest.raises(EOFError, match="truncated"):
        EpisodeReplayBuffer(SPEC, capacity=4).load_from_dir(tmp_path)
    with pytest.raises(ValueError, match="replay_capacity of at least 2"):
        EpisodeReplayBuffer(SPEC, capacity=1).load_from_dir(tmp_path)


def test_bytes_per_step():
    buf = EpisodeReplayBuffer(SPEC, capacity=2)
    # obs 2*3*4 + state 4*4 + avail 2*5 + actions 2*8 + reward 4 + terminated 4
    assert buf.bytes_per_step() == 24 + 16 + 10 + 16 + 4 + 4


def test_shards_weight_their_losses_to_the_whole_batch_masked_mean():
    import torch

    from rllib_qmix.learning.replay import shard_episode_batch
    from rllib_qmix.learning.targets import masked_mse

    buf = EpisodeReplayBuffer(SPEC, capacity=10, seed=0)
    buf.add([episode(n) for n in (1, 1, 2, 6, 5, 3)])
    batch = buf.gather(np.arange(6))
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=batch[K.MASK].shape), rng.normal(size=batch[K.MASK].shape)
    t = torch.as_tensor

    def loss(idx: np.ndarray, mask: np.ndarray) -> float:
        return float(masked_mse(t(pred[idx]), t(target[idx]), t(mask)))

    full = loss(np.arange(6), batch[K.MASK])
    shards = shard_episode_batch(batch, 2)
    assert [len(s[K.MASK]) for s in shards] == [3, 3] and K.LOSS_SCALE not in batch
    parts = [loss(idx, s[K.MASK]) * s[K.LOSS_SCALE][0] for idx, s in zip((np.arange(3), np.arange(3, 6)), shards)]
    unweighted = [loss(idx, s[K.MASK]) for idx, s in zip((np.arange(3), np.arange(3, 6)), shards)]
    assert np.mean(parts) == pytest.approx(full, rel=1e-12)
    assert np.mean(unweighted) != pytest.approx(full, rel=1e-3)  # unequal lengths: plain mean is off
    with pytest.raises(ValueError, match="num_learners"):
        shard_episode_batch(batch, 7)


def _resident_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux's /proc to read resident memory")
def test_memory_follows_real_steps_not_padding():
    """Short episodes in a buffer padded for long ones take memory for their real steps only,
    and a slot overwritten by a shorter episode gives the old episode's tail back."""
    spec = TeamSpec(n_agents=4, obs_dim=256, state_dim=64, n_actions=8, episode_limit=400)
    buf = EpisodeReplayBuffer(spec, capacity=100)
    padded_mib = buf.bytes_per_step() * 100 * 401 / 2**20  # ~168 MiB

    def episodes(length: int) -> list[TeamEpisode]:
        return [
            TeamEpisode(
                np.ones((length + 1, 4, 256), np.float32),
                np.ones((length + 1, 64), np.float32),
                np.ones((length + 1, 4, 8), bool),
                np.zeros((length, 4), np.int64),
                np.ones(length, np.float32),
                True,
                False,
            )
            for _ in range(100)
        ]

    short, long_ = episodes(10), episodes(400)
    before = _resident_mib()
    buf.add(short)
    assert _resident_mib() - before < 0.1 * padded_mib
    buf.add(long_)
    assert _resident_mib() - before > 0.8 * padded_mib
    buf.add(short)  # the ring wraps: each slot now holds a 10-step episode again
    assert _resident_mib() - before < 0.1 * padded_mib
    batch = buf.sample(100)
    assert batch[K.OBS].shape[1] == 11 and (batch[K.OBS] == 1).all() and batch[K.MASK].all()


def test_growing_keeps_every_stored_episode():
    buf = EpisodeReplayBuffer(SPEC, capacity=4)
    buf.add([episode(3, fill=1.0), episode(6, fill=2.0)])
    buf.add([episode(20, fill=3.0)])  # longer than the limit: the time axis grows
    batch = buf.gather(np.array([0, 1, 2]))
    for row, (length, fill) in enumerate([(3, 1.0), (6, 2.0), (20, 3.0)]):
        assert (batch[K.OBS][row, : length + 1] == fill).all() and (batch[K.REWARDS][row, :length] == fill).all()
        assert batch[K.MASK][row].sum() == length
