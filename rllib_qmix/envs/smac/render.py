"""Pictures of battles (Pillow, imported lazily) and an animated-GIF helper."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .units import P_AIR, P_HP, P_SH

CELL = 12  # pixels per map cell
_ALLY, _ENEMY = (40, 110, 230), (220, 50, 40)
_TYPE_LETTER = {
    "marine": "m",
    "marauder": "M",
    "medivac": "+",
    "stalker": "S",
    "zealot": "Z",
    "colossus": "C",
    "hydralisk": "H",
    "zergling": "z",
    "baneling": "b",
    "spine_crawler": "W",
}


def _background(engine) -> np.ndarray:
    walk, cliff = engine.walk, engine.cliff
    img = np.zeros((32, 32, 3), np.uint8)
    img[:] = (45, 45, 50)
    img[walk] = (205, 195, 160)
    img[cliff] = (140, 115, 85)
    img = np.transpose(img, (1, 0, 2))[::-1]  # rows = y (north up), cols = x
    img = np.repeat(np.repeat(img, CELL, 0), CELL, 1)
    img[::CELL, :] = (img[::CELL, :] * 0.92).astype(np.uint8)
    img[:, ::CELL] = (img[:, ::CELL] * 0.92).astype(np.uint8)
    return img


def render_frame(engine, e: int = 0) -> np.ndarray:
    """HxWx3 uint8 image of battle e: arena, units (blue allies, red enemies), health bars."""
    from PIL import Image, ImageDraw

    size = 32 * CELL
    im = Image.fromarray(_background(engine))
    draw = ImageDraw.Draw(im)
    u = engine.units(e)
    A = engine.n_agents
    px = lambda x: x * CELL  # noqa: E731
    py = lambda y: size - y * CELL  # noqa: E731
    for i in range(len(u["x"])):
        if u["health"][i] <= 0:
            continue
        t = u["target"][i]
        if t >= 0 and u["health"][t] > 0 and (i >= A or u["order"][i] in (2, 3)):
            col = (90, 160, 255) if i < A else (255, 120, 100)
            draw.line([px(u["x"][i]), py(u["y"][i]), px(u["x"][t]), py(u["y"][t])], fill=col)
    for i in range(len(u["x"])):
        x, y, r = px(u["x"][i]), py(u["y"][i]), max(u["radius"][i] * CELL, 3)
        if u["health"][i] <= 0:
            draw.line([x - 3, y - 3, x + 3, y + 3], fill=(90, 90, 90))
            draw.line([x - 3, y + 3, x + 3, y - 3], fill=(90, 90, 90))
            continue
        col = _ALLY if i < A else _ENEMY
        p = engine.PE[e, i]
        air = p[P_AIR] > 0
        draw.ellipse([x - r, y - r, x + r, y + r], fill=None if air else col, outline=col, width=2 if air else 1)
        draw.text((x - 3, y - 6), _TYPE_LETTER.get(u["type"][i], "?"), fill=(255, 255, 255))
        frac = u["health"][i] / p[P_HP]
        draw.rectangle([x - r, y - r - 4, x - r + 2 * r * frac, y - r - 2], fill=(60, 200, 60))
        if p[P_SH] > 0:
            sf = u["shield"][i] / p[P_SH]
            draw.rectangle([x - r, y - r - 7, x - r + 2 * r * sf, y - r - 5], fill=(80, 200, 255))
    draw.text((4, 4), f"{engine.map_name}  t={int(engine.steps[e])}", fill=(255, 255, 255))
    return np.asarray(im, np.uint8).copy()


Policy = Callable[[np.ndarray, np.ndarray], Sequence[int]]


def save_gif(
    env_or_frames: Any,
    path: str | Path,
    policy: Policy | None = None,
    max_steps: int | None = None,
    fps: int = 6,
    seed: int = 0,
) -> Path:
    """Write an animated GIF of a list of frames, or of one episode of ``env``.

    With an env, the episode starts with ``env.reset()`` and ``policy(obs [n_agents, obs],
    avail [n_agents, n_actions]) -> actions`` picks the actions (default: uniformly random
    available actions, seeded by ``seed``).
    """
    from PIL import Image

    if hasattr(env_or_frames, "step"):
        env = env_or_frames
        rng = np.random.default_rng(seed)
        env.reset()
        frames = [env.render()]
        limit = max_steps or env.episode_limit
        for _ in range(limit):
            avail = env.get_avail_actions_array()
            if policy is None:
                actions = (rng.random(avail.shape) * avail).argmax(1)
            else:
                actions = policy(env.get_obs_array(), avail)
            _, done, _ = env.step(actions)
            frames.append(env.render())
            if done:
                break
    else:
        frames = list(env_or_frames)
    if len(frames) == 0:
        raise ValueError("no frames to write")
    images = [Image.fromarray(np.asarray(f, np.uint8)) for f in frames]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    return path
