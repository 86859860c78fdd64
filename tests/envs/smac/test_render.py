"""Rendering to an image and to an animated GIF."""

import numpy as np

from rllib_qmix.envs.smac import StarCraft2Env, save_gif


def test_render_returns_rgb_image():
    env = StarCraft2Env("MMM", seed=0)
    env.reset()
    img = env.render()
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert img.shape[0] >= 128 and img.shape[1] >= 128
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 3


def test_save_gif_writes_animation(tmp_path):
    from PIL import Image

    env = StarCraft2Env("3m", seed=0)
    path = save_gif(env, tmp_path / "battle.gif", max_steps=10)
    with Image.open(path) as im:
        assert im.n_frames > 1
    frames = [env.render(), env.render()]
    path2 = save_gif(frames, tmp_path / "frames.gif")
    with Image.open(path2) as im:
        assert im.n_frames >= 1
    policy_path = save_gif(env, tmp_path / "stop.gif", policy=lambda obs, avail: [1] * 3, max_steps=4)
    with Image.open(policy_path) as im:
        assert im.n_frames == 5
