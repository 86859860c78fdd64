"""SMAC's API on the embedded simulator: the feature-size getters, the visibility matrix,
``pathing_grid`` / ``terrain_height``, sparse reward scaling, and options refused with a clear error.

Semantics follow oxwhirl/smac's ``StarCraft2Env`` (smac-reference.md §1).
"""

import numpy as np
import pytest

from rllib_qmix.envs.smac import StarCraft2Env
from rllib_qmix.envs.smac.options import check_lite_options, lite_option_problems

# map: (agent race, enemy race, unit_type_bits) - smac-reference.md §2
RACES = {
    "3m": ("T", "T", 0),
    "MMM2": ("T", "T", 3),
    "2s3z": ("P", "P", 2),
    "1c3s5z": ("P", "P", 3),
    "corridor": ("P", "Z", 0),
    "6h_vs_8z": ("Z", "P", 0),
    "bane_vs_bane": ("Z", "Z", 2),
}
FLAGS = [
    {},
    {"obs_last_action": True},
    {"obs_pathing_grid": True, "obs_terrain_height": True},
    {"obs_all_health": False, "obs_own_health": False},
    {"obs_all_health": False, "obs_own_health": True, "obs_timestep_number": True},
    {"obs_pathing_grid": True, "obs_last_action": True, "obs_timestep_number": True},
]


def random_actions(rng, avail):
    return (rng.random(avail.shape) * avail).argmax(-1)


@pytest.mark.parametrize("flags", FLAGS, ids=lambda f: ",".join(f) or "defaults")
@pytest.mark.parametrize("name", sorted(RACES))
def test_obs_feature_sizes_follow_smac_and_add_up(name, flags):
    env = StarCraft2Env(name, seed=0, **flags)
    a_race, e_race, bits = RACES[name]
    sh_a, sh_e = int(a_race == "P"), int(e_race == "P")
    all_h = flags.get("obs_all_health", True)
    own_h = all_h or flags.get("obs_own_health", True)
    move = 4 + 8 * flags.get("obs_pathing_grid", False) + 9 * flags.get("obs_terrain_height", False)
    enemy = 4 + bits + (1 + sh_e if all_h else 0)
    ally = 4 + bits + (1 + sh_a if all_h else 0) + (env.n_actions if flags.get("obs_last_action") else 0)
    own = bits + (1 + sh_a if own_h else 0) + int(flags.get("obs_timestep_number", False))
    assert env.get_obs_move_feats_size() == move
    assert env.get_obs_enemy_feats_size() == (env.n_enemies, enemy)
    assert env.get_obs_ally_feats_size() == (env.n_agents - 1, ally)
    assert env.get_obs_own_feats_size() == own
    n_en, f_en = env.get_obs_enemy_feats_size()
    n_al, f_al = env.get_obs_ally_feats_size()
    total = env.get_obs_move_feats_size() + n_en * f_en + n_al * f_al + env.get_obs_own_feats_size()
    assert total == env.get_obs_size() == len(env.reset()[0][0])


@pytest.mark.parametrize("name", ["3m", "2s3z", "MMM2", "corridor", "bane_vs_bane"])
def test_visibility_matrix_agrees_with_the_observations(name):
    """A live agent sees live units closer than 9: the ally 'visible' flags and the enemies'
    distance features of its observation; dead agents see nothing; no agent 'sees' itself."""
    env = StarCraft2Env(name, seed=1)
    env.reset()
    rng = np.random.default_rng(0)
    A, N = env.n_agents, env.n_enemies
    move = env.get_obs_move_feats_size()
    _, f_en = env.get_obs_enemy_feats_size()
    _, f_al = env.get_obs_ally_feats_size()
    checked_dead = seen = unseen = 0
    for _ in range(env.episode_limit):
        vis = env.get_visibility_matrix()
        assert vis.shape == (A, A + N) and vis.dtype == bool
        assert not vis[np.arange(A), np.arange(A)].any()
        assert (vis[:, :A] == vis[:, :A].T).all()
        obs = env.get_obs_array()
        alive = env.engine.units()["health"][:A] > 0
        for i in range(A):
            if not alive[i]:
                assert not vis[i].any()
                checked_dead += 1
                continue
            enemies = obs[i, move : move + N * f_en].reshape(N, f_en)
            allies = obs[i, move + N * f_en : move + N * f_en + (A - 1) * f_al].reshape(A - 1, f_al)
            others = [j for j in range(A) if j != i]
            assert (vis[i, A:] == (enemies[:, 1] > 0)).all()  # distance / 9 > 0 only when visible
            assert (vis[i, others] == (allies[:, 0] == 1)).all()  # the 'visible' flag
            seen += int(vis[i, A:].sum())
            unseen += int((~vis[i, A:]).sum())
        _, done, _ = env.step(random_actions(rng, env.get_avail_actions_array()))
        if done:
            break
    assert seen and unseen  # both cases occurred


def _smac_can_move(grid, x, y, move_amount=2):
    """SMAC's rule: the cell half a move away (int-truncated) is in bounds and pathable."""
    m = move_amount / 2
    out = []
    for cx, cy in ((x, y + m), (x, y - m), (x + m, y), (x - m, y)):  # N, S, E, W
        ix, iy = int(cx), int(cy)
        out.append(int(0 <= ix < grid.shape[0] and 0 <= iy < grid.shape[1] and bool(grid[ix, iy])))
    return out


@pytest.mark.parametrize("name", ["3m", "corridor", "2c_vs_64zg", "6h_vs_8z"])
def test_pathing_grid_and_terrain_height(name):
    """Indexed [x, y] as SMAC builds them: the move mask and the observed pathing and heights
    are read from them at the agent's position."""
    env = StarCraft2Env(name, seed=0, obs_pathing_grid=True, obs_terrain_height=True)
    env.reset()
    grid, height = env.pathing_grid, env.terrain_height
    assert grid.shape == height.shape == (32, 32)
    assert grid.dtype == bool and np.issubdtype(height.dtype, np.floating)
    assert 0.0 <= height.min() and height.max() <= 1.0
    assert not grid.flags.writeable and not height.flags.writeable
    assert (grid == np.asarray(env.engine.walk)).all()
    rng = np.random.default_rng(0)
    cells = np.argwhere(grid)
    picks = cells[rng.choice(len(cells), 12, replace=False)]
    # near the arena's edges too: the cells of lowest / highest x and y
    for axis in (0, 1):
        picks = np.vstack([picks, cells[cells[:, axis].argmin()], cells[cells[:, axis].argmax()]])
    units = env.engine.units()
    # SMAC's surrounding points, as (dx, dy) from the agent's cell, in its order
    pts = [(0, 4), (0, -4), (4, 0), (-4, 0), (2, 2), (-2, -2), (2, -2), (-2, 2)]
    for cx, cy in picks:
        x, y = cx + rng.uniform(0.05, 0.95), cy + rng.uniform(0.05, 0.95)
        xs, ys = units["x"].copy(), units["y"].copy()
        xs[0], ys[0] = x, y
        env.engine.set_units(0, x=xs, y=ys)
        assert env.get_avail_agent_actions(0)[2:6] == _smac_can_move(grid, x, y), (x, y)
        o = env.get_obs_agent(0)
        ix, iy = int(x), int(y)

        def at(g, dx, dy, ix=ix, iy=iy):
            px, py = ix + dx, iy + dy
            return float(g[px, py]) if 0 <= px < 32 and 0 <= py < 32 else 1.0

        assert list(o[4:12]) == pytest.approx([at(grid, dx, dy) for dx, dy in pts])
        heights = [at(height, dx, dy) for dx, dy in pts + [(0, 0)]]
        assert list(o[12:21]) == pytest.approx(heights, abs=1e-6)


def _play_to_the_end(env, win: bool) -> list[float]:
    """Rewards of one 3m battle that the agents win (invulnerable, focus fire) or lose."""
    env.reset()
    health = env.engine.units()["health"]
    health[: env.n_agents] = 1e6 if win else 1.0
    env.engine.set_units(0, health=health)
    rewards = []
    for _ in range(env.episode_limit):
        av = env.get_avail_actions_array()
        actions = []
        for a in range(env.n_agents):
            targets = np.flatnonzero(av[a, 6:])
            if av[a, 0]:
                actions.append(0)
            elif win:
                actions.append(6 + targets[0] if len(targets) else 4)  # walk east to the enemy
            else:
                actions.append(1)
        r, done, info = env.step(actions)
        rewards.append(r)
        if done:
            break
    assert done and info["battle_won"] == win
    return rewards


@pytest.mark.parametrize(
    "kwargs, scale",
    [({}, 20 / 365), ({"reward_scale": False}, 1.0), ({"reward_scale_rate": 10}, 10 / 365)],
    ids=["default_scale", "unscaled", "rate_10"],
)
def test_sparse_reward_is_scaled_like_smac(kwargs, scale):
    """SMAC divides the sparse +1 / -1 by max_reward / reward_scale_rate too (3m: max_reward 365)."""
    env = StarCraft2Env("3m", seed=0, reward_sparse=True, **kwargs)
    assert env.max_reward == 365  # 3 x 10 + 200 + 3 x 45
    won = _play_to_the_end(env, win=True)
    assert won[:-1] == [0.0] * (len(won) - 1)
    assert won[-1] == pytest.approx(1.0 * scale)
    lost = _play_to_the_end(env, win=False)
    assert lost[:-1] == [0.0] * (len(lost) - 1)
    assert lost[-1] == pytest.approx(-1.0 * scale)


REFUSED = {
    "difficulty": "3",
    "game_version": "4.10",
    "heuristic_rest": True,  # without heuristic_ai, which it only restricts
    "replay_dir": "/tmp/replays",
    "replay_prefix": "run",
    "window_size_x": 640,
    "window_size_y": 480,
    "debug": True,
}


def test_check_lite_options_accepts_smac_defaults():
    from rllib_qmix.envs.smac.engine import SMAC_DEFAULTS

    check_lite_options(dict(SMAC_DEFAULTS))
    check_lite_options({})
    check_lite_options({"replay_dir": None, "replay_prefix": None, "difficulty": "7", "step_mul": 4})


@pytest.mark.parametrize("key", sorted(REFUSED))
def test_check_lite_options_refuses_each_option_it_cannot_honour(key):
    with pytest.raises(ValueError, match=rf"can't honour: {key}=") as err:
        check_lite_options({key: REFUSED[key]})
    says = str(err.value)
    assert "backend='sc2'" in says or "save_gif" in says or "window" in says or "heuristic_ai=True" in says


def test_check_lite_options_names_every_problem_once():
    problems = lite_option_problems(REFUSED)
    assert len(problems) == len(REFUSED)
    with pytest.raises(ValueError) as err:
        check_lite_options(REFUSED)
    for key, value in REFUSED.items():
        assert str(err.value).count(f"{key}={value!r}") == 1


@pytest.mark.parametrize("key", sorted(REFUSED))
def test_starcraft2env_refuses_options_it_cannot_honour(key):
    """Waits for ``Engine.__init__`` to call ``check_lite_options(self.opts)``."""
    with pytest.raises(ValueError, match=rf"{key}="):
        StarCraft2Env("3m", **{key: REFUSED[key]})
