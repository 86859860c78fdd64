"""SMAC options the embedded simulator can't honour: refused with one clear error, never ignored.

``check_lite_options`` is called with the merged options (``SMAC_DEFAULTS`` updated by the
caller's keywords); it accepts a partial dict too (a missing key counts as SMAC's default).
"""

from __future__ import annotations

from typing import Any

#: SMAC's ``StarCraft2Env`` keyword options and their defaults (smac/env/starcraft2/starcraft2.py).
SMAC_DEFAULTS: dict[str, Any] = dict(
    step_mul=8,
    move_amount=2,
    difficulty="7",
    game_version=None,
    seed=None,
    continuing_episode=False,
    obs_all_health=True,
    obs_own_health=True,
    obs_last_action=False,
    obs_pathing_grid=False,
    obs_terrain_height=False,
    obs_instead_of_state=False,
    obs_timestep_number=False,
    state_last_action=True,
    state_timestep_number=False,
    reward_sparse=False,
    reward_only_positive=True,
    reward_death_value=10,
    reward_negative_scale=0.5,
    reward_scale=True,
    reward_scale_rate=20,
    reward_win=200,
    reward_defeat=0,
    replay_dir="",
    replay_prefix="",
    window_size_x=1920,
    window_size_y=1200,
    heuristic_ai=False,
    heuristic_rest=False,
    debug=False,
)


def lite_option_problems(opts: dict[str, Any]) -> list[str]:
    """One sentence per option in ``opts`` that the embedded simulator can't honour."""
    problems = []
    difficulty = opts.get("difficulty", SMAC_DEFAULTS["difficulty"])
    if difficulty != SMAC_DEFAULTS["difficulty"]:
        problems.append(
            f"difficulty={difficulty!r} is not available: the embedded enemy AI is SMAC's attack-move "
            "script at its default VeryHard setting (difficulty='7'); use backend='sc2' for other "
            "difficulties."
        )
    version = opts.get("game_version")
    if version is not None:
        problems.append(
            f"game_version={version!r} is not available: the embedded simulator plays StarCraft II "
            "4.10's unit figures; use backend='sc2' to choose a game build."
        )
    if opts.get("heuristic_rest", False) and not opts.get("heuristic_ai", False):
        problems.append("heuristic_rest=True only restricts SMAC's scripted agent: set heuristic_ai=True with it.")
    for key in ("replay_dir", "replay_prefix"):
        if opts.get(key):
            problems.append(
                f"{key}={opts[key]!r}: the embedded simulator writes no StarCraft II replays; "
                "draw an episode with `rllib_qmix.envs.smac.save_gif` instead."
            )
    for key in ("window_size_x", "window_size_y"):
        default = SMAC_DEFAULTS[key]
        value = opts.get(key, default)
        if value != default:
            problems.append(f"{key}={value!r}: the embedded simulator opens no game window (leave it at {default}).")
    if opts.get("debug", False):
        problems.append(
            "debug=True: the embedded simulator has no SMAC debug log; inspect `env.engine.units()` "
            "or draw an episode with `save_gif` instead."
        )
    return problems


def check_lite_options(opts: dict[str, Any]) -> None:
    """Raises ``ValueError`` naming every SMAC option in ``opts`` the embedded simulator can't honour.

    Refused: ``difficulty`` other than "7", ``game_version`` other than None,
    ``heuristic_rest`` without ``heuristic_ai``, a ``replay_dir``/``replay_prefix``, a
    ``window_size_x``/``window_size_y`` other than SMAC's default, and ``debug=True``.
    """
    problems = lite_option_problems(opts)
    if problems:
        raise ValueError("SMAC options the embedded simulator (backend='lite') can't honour: " + " ".join(problems))


__all__ = ["SMAC_DEFAULTS", "check_lite_options", "lite_option_problems"]
