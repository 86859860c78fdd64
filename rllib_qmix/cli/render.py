"""Watching a trained QMIX team: play one battle with the restored policy and write a GIF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rllib_qmix.sampling.env_runner import QMIXEnvRunner

#: The envs whose team view draws RGB frames (the embedded simulator's SMAC and SMACv2).
RENDERABLE = ("smac", "smacv2")


def check_renderable(config: Any) -> None:
    """Raises ValueError (one line: what to do instead) unless ``config``'s env draws frames.

    Builds one env of the config and asks it for a frame after a reset, so that an env that
    can't draw is refused before any evaluation runs.
    """
    from rllib_qmix.envs.creator import make_team_env

    env = make_team_env(config)
    try:
        env.reset(seed=0)
        frame = env.render()
    finally:
        env.close()
    if frame is None:
        raise ValueError(
            f"--render draws SMAC and SMACv2 battles ({', '.join(repr(e) for e in RENDERABLE)} envs); "
            f"the env {config.env!r} of this checkpoint draws no frames: evaluate without --render"
        )


def render_episode(algo: Any, path: str, explore: bool = False, max_steps: int | None = None) -> dict:
    """Plays one episode with ``algo``'s current agent network and writes an animated GIF.

    Args:
        algo: A built or restored ``QMIX`` algorithm.
        path: Where to write the GIF.
        explore: Epsilon-greedy (at the current epsilon) instead of greedy.
        max_steps: Stop after this many steps (default: the env's episode limit).

    Returns:
        The episode's ``return``, ``length``, ``battle_won`` (if reported) and the GIF ``path``.

    Raises:
        ValueError: If the env cannot render RGB frames.
    """
    from rllib_qmix.envs.smac.render import save_gif

    config = algo.config.copy(copy_frozen=False)
    config.num_envs_per_env_runner = 1
    runner = QMIXEnvRunner(config=config, worker_index=0, num_workers=0)
    runner.set_state(algo.runner_state())  # weights, env-step count (epsilon), obs statistics
    try:
        frames, episode = runner.render_frames(explore=explore, max_steps=max_steps)
    finally:
        runner.stop()
    if not frames or frames[0] is None:
        raise ValueError(f"The env {config.env!r} can't render RGB frames; rendering needs e.g. the 'smac' env.")
    out = save_gif(frames, Path(path))
    stats = {"return": episode.get_return(), "length": len(episode), "path": str(out)}
    if "battle_won" in episode.info:
        stats["battle_won"] = bool(episode.info["battle_won"])
    return stats
