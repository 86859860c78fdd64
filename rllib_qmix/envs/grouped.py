"""Team view of grouped RLlib envs, as old RLlib QMIX read them.

Old RLlib QMIX trained on envs whose agents were grouped with
``MultiAgentEnv.with_agent_groups(groups, obs_space=Tuple(...), act_space=Tuple(...))``: each
group is one RLlib agent whose observation is a Tuple with one entry per member and whose action
is a Tuple of ``Discrete(n)``. A member's observation is a plain space, or a Dict with

- ``"obs"``: what the agent network sees (Box, Discrete, MultiDiscrete, MultiBinary, or a
  Tuple/Dict of them), flattened, with Discrete and MultiDiscrete entries one-hot encoded, as
  old RLlib's observation preprocessor did;
- ``"action_mask"`` (optional): ``Box(0, 1, (n_actions,))``, 1 for the available actions;
- ``"state"`` (``ray.rllib.env.multi_agent_env.ENV_STATE``, optional): the global state,
  flattened the same way and read from the group's first member.

A group's team reward is what old QMIX read: the sum of the members' rewards that the grouping
wrapper puts in the group's info under ``"_group_rewards"`` (else the group's reward, which
the wrapper sets to that sum). Several groups are several teams in one env, as old QMIX trained
them: each group has its own episode (it ends when the group is done or the env is), reward
and state, and all share the one agent network and mixer, so groups must be of one size.
"""

from __future__ import annotations

from typing import Any, Optional

import gymnasium as gym
import numpy as np

from rllib_qmix.envs.team import TeamEnv, TeamEnvError, TeamObs, TeamSpec, TeamStep, check_avail, check_finite

#: Keys of a member's Dict observation (``ENV_STATE`` is "state").
OBS_KEY, MASK_KEY, STATE_KEY = "obs", "action_mask", "state"
#: Info key under which the grouping wrapper keeps the members' own rewards.
GROUP_REWARDS = "_group_rewards"


def flat_size(space: gym.Space) -> int:
    """Length of ``flatten(space, x)``: one-hot sizes for Discrete and MultiDiscrete."""
    if isinstance(space, gym.spaces.Box):
        return int(np.prod(space.shape))
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return int(np.sum(space.nvec))
    if isinstance(space, gym.spaces.MultiBinary):
        return int(np.prod(space.shape))
    if isinstance(space, gym.spaces.Tuple):
        return sum(flat_size(s) for s in space.spaces)
    if isinstance(space, gym.spaces.Dict):
        return sum(flat_size(s) for s in space.spaces.values())
    raise TeamEnvError(f"QMIX can't read observations of space {space}: use Box, Discrete, MultiDiscrete or nests.")


def flatten(space: gym.Space, x: Any) -> np.ndarray:
    """``x`` of ``space`` as one float32 vector (Discrete and MultiDiscrete one-hot encoded,
    Dict entries in the space's key order)."""
    if isinstance(space, gym.spaces.Discrete):
        out = np.zeros(int(space.n), np.float32)
        out[int(np.asarray(x).reshape(-1)[0]) - int(space.start)] = 1.0
        return out
    if isinstance(space, gym.spaces.MultiDiscrete):
        values = np.asarray(x, np.int64).reshape(-1)
        nvec = np.asarray(space.nvec, np.int64).reshape(-1)
        out = np.zeros(int(nvec.sum()), np.float32)
        out[np.concatenate([[0], np.cumsum(nvec)[:-1]]) + values] = 1.0
        return out
    if isinstance(space, gym.spaces.Tuple):
        return np.concatenate([flatten(s, v) for s, v in zip(space.spaces, x)]).astype(np.float32, copy=False)
    if isinstance(space, gym.spaces.Dict):
        return np.concatenate([flatten(s, x[k]) for k, s in space.spaces.items()]).astype(np.float32, copy=False)
    return np.asarray(x, np.float32).reshape(-1)


def _agent_ids(env: Any) -> list:
    groups = getattr(env, "groups", None)
    if isinstance(groups, dict) and groups:
        return list(groups)
    for attr in ("possible_agents", "agents"):
        ids = getattr(env, attr, None)
        if ids:
            return list(ids)
    return sorted(getattr(env, "_agent_ids", None) or [], key=str)


def _group_spaces(env: Any, group: Any) -> tuple[gym.Space, gym.Space]:
    """A group's Tuple observation and action spaces (from its members' spaces in the wrapped
    env when the grouping was made without ``obs_space``/``act_space``)."""
    obs_space = act_space = None
    try:
        obs_space, act_space = env.get_observation_space(group), env.get_action_space(group)
    except (AttributeError, KeyError, TypeError):
        pass
    members = (getattr(env, "groups", None) or {}).get(group)
    inner = getattr(env, "env", None)
    if members and inner is not None:
        if not isinstance(obs_space, gym.spaces.Tuple):
            obs_space = gym.spaces.Tuple([inner.get_observation_space(m) for m in members])
        if not isinstance(act_space, gym.spaces.Tuple):
            act_space = gym.spaces.Tuple([inner.get_action_space(m) for m in members])
    return obs_space, act_space


def grouped_agents(env: Any) -> Optional[list[tuple[Any, gym.spaces.Tuple, gym.spaces.Tuple]]]:
    """``[(group id, observation Tuple, action Tuple)]`` of a grouped env (every agent of it has
    Tuple action and observation spaces), or None for any other env."""
    ids = _agent_ids(env)
    if not ids:
        return None
    out = []
    for group in ids:
        obs_space, act_space = _group_spaces(env, group)
        if not (isinstance(obs_space, gym.spaces.Tuple) and isinstance(act_space, gym.spaces.Tuple)):
            return None
        out.append((group, obs_space, act_space))
    return out


class GroupedTeamEnv(TeamEnv):
    """Team view of an env grouped with ``with_agent_groups`` (see the module docstring): one
    team per group, as old RLlib QMIX trained them (``n_teams`` > 1 with several groups).

    Args:
        env: The grouped ``MultiAgentEnv``.
        state_from_obs: Use a group's concatenated observations as its global state when the
            observations have no ``"state"`` entry.
    """

    def __init__(self, env: Any, state_from_obs: bool = False) -> None:
        groups = grouped_agents(env)
        if groups is None:
            raise TeamEnvError(f"{type(env).__name__} is not a grouped env (agents with Tuple spaces).")
        self.env, self.name = env, type(env).__name__
        self.groups = [g for g, _, _ in groups]
        self.n_teams = len(self.groups)
        sizes = {len(obs.spaces) for _, obs, _ in groups}
        if len(sizes) != 1:
            raise TeamEnvError(
                f"{self.name}'s groups have {sorted(sizes)} agents: every group is a team of QMIX's one shared "
                "network and mixer, so every group needs the same number of agents."
            )
        member_obs = [s for _, obs, _ in groups for s in obs.spaces]
        member_act = [s for _, _, act in groups for s in act.spaces]
        if any(not isinstance(s, gym.spaces.Discrete) for s in member_act) or len({s.n for s in member_act}) != 1:
            raise TeamEnvError(
                f"{self.name}'s grouped agents have action spaces {member_act}; QMIX needs the same Discrete(n) "
                "action space for every member of the team."
            )
        if len({str(s) for s in member_obs}) != 1:
            raise TeamEnvError(
                f"{self.name}'s grouped agents have different observation spaces ({member_obs}); QMIX shares one "
                "agent network, so every member needs the same observation space."
            )
        self.member_space = member = member_obs[0]
        n_actions = int(member_act[0].n)
        if isinstance(member, gym.spaces.Dict):
            if OBS_KEY not in member.spaces:
                raise TeamEnvError(
                    f"{self.name}'s grouped observations are Dicts with keys {list(member.spaces)}; QMIX reads "
                    f"{{'{OBS_KEY}': ..., '{MASK_KEY}': ... (optional), '{STATE_KEY}': ... (optional)}}."
                )
            extra = sorted(set(member.spaces) - {OBS_KEY, MASK_KEY, STATE_KEY})
            if extra:
                raise TeamEnvError(
                    f"{self.name}'s grouped observations have keys {extra} that QMIX would not read; it reads "
                    f"'{OBS_KEY}', '{MASK_KEY}' and '{STATE_KEY}' only."
                )
            self.obs_space = member.spaces[OBS_KEY]
            self.mask_space = member.spaces.get(MASK_KEY)
            self.state_space = member.spaces.get(STATE_KEY)
        else:
            self.obs_space, self.mask_space, self.state_space = member, None, None
        if self.mask_space is not None and int(np.prod(self.mask_space.shape)) != n_actions:
            raise TeamEnvError(
                f"{self.name}'s '{MASK_KEY}' space {self.mask_space} must have one entry per action ({n_actions})."
            )
        n, obs_dim = sizes.pop(), flat_size(self.obs_space)
        if self.state_space is None and not state_from_obs:
            raise TeamEnvError(
                f"{self.name} has no global state: QMIX's mixer needs one. Add a '{STATE_KEY}' entry "
                "(ray.rllib.env.multi_agent_env.ENV_STATE) to the grouped Dict observations, or opt in to the "
                "concatenated agents' observations as the state with `config.training(state_from_obs=True)` "
                "(what old RLlib QMIX did without a state)."
            )
        state_dim = n * obs_dim if self.state_space is None else flat_size(self.state_space)
        self.spec = TeamSpec(n, obs_dim, state_dim, n_actions)
        self._t = 0
        self._done = np.zeros(self.n_teams, dtype=bool)  # groups whose episode ended
        self._present = np.ones(self.n_teams, dtype=bool)  # groups that act this step

    # --------------------------------------------------------------- reading
    def _fail(self, what: str) -> TeamEnvError:
        return TeamEnvError(f"{self.name} {what} at episode step {self._t}.")

    def _group_obs(self, g: int, obs: dict) -> TeamObs:
        """Group ``g``'s observations, masks and state (a group that doesn't act this step:
        zeros, action 0 only)."""
        spec, group = self.spec, self.groups[g]
        o = np.zeros((spec.n_agents, spec.obs_dim), np.float32)
        avail = np.zeros((spec.n_agents, spec.n_actions), bool)
        self._present[g] = group in obs and not self._done[g]
        if not self._present[g]:
            avail[:, 0] = True
            return TeamObs(o, np.zeros(spec.state_dim, np.float32), avail)
        members, state = obs[group], None
        if not isinstance(members, (list, tuple)) or len(members) != spec.n_agents:
            raise self._fail(f"returned an observation for group {group!r} that is not a list of {spec.n_agents}")
        for i, member in enumerate(members):
            try:
                if isinstance(member, dict):
                    o[i] = flatten(self.obs_space, member[OBS_KEY])
                    mask = member.get(MASK_KEY)
                    avail[i] = True if mask is None else np.asarray(mask).reshape(-1) > 0
                    if state is None and self.state_space is not None:
                        state = flatten(self.state_space, member[STATE_KEY])
                else:
                    o[i] = flatten(self.obs_space, member)
                    avail[i] = True
            except (KeyError, IndexError, TypeError, ValueError) as e:
                raise self._fail(
                    f"returned an observation for group {group!r} that doesn't fit its space "
                    f"{self.member_space} ({type(e).__name__}: {e})"
                ) from None
        check_avail(self._t, avail, None, f"{self.name} group {group!r}")
        if state is None:
            state = o.reshape(-1).copy()
        team = TeamObs(o, state, avail)
        check_finite(self._t, 0.0, team, f"{self.name} group {group!r}")
        return team

    def _group_reward(self, g: int, rewards: dict, infos: dict) -> float:
        group = self.groups[g]
        info = infos.get(group) if isinstance(infos, dict) else None
        parts = info.get(GROUP_REWARDS) if isinstance(info, dict) else None
        value = parts if parts is not None else rewards.get(group, 0.0)
        try:
            reward = float(np.sum(np.asarray(value, dtype=np.float64)))
        except (TypeError, ValueError):
            raise self._fail(f"returned a reward for group {group!r} that is not a number ({value!r})") from None
        if not np.isfinite(reward):
            raise self._fail(f"returned a non-finite reward ({reward}) for group {group!r}")
        return reward

    # ------------------------------------------------------------------- API
    def reset_teams(self, seed: Optional[int] = None) -> list[TeamObs]:
        """Starts an episode; every group's first observation."""
        self._t = 0
        self._done[:] = False
        out = self.env.reset(seed=seed)
        if not isinstance(out, tuple) or len(out) != 2:
            raise self._fail("reset() must return (observations, infos) (gymnasium's API)")
        return [self._group_obs(g, out[0]) for g in range(self.n_teams)]

    def step_teams(self, actions: list[Optional[np.ndarray]]) -> list[Optional[TeamStep]]:
        """Steps with each playing group's actions (None for a group whose episode ended);
        one ``TeamStep`` per group still playing before this step, None for the others."""
        action_dict = {}
        for g, group in enumerate(self.groups):
            if self._present[g] and actions[g] is not None:
                action_dict[group] = tuple(int(a) for a in actions[g])
        playing = ~self._done
        self._t += 1
        out = self.env.step(action_dict)
        if not isinstance(out, tuple) or len(out) != 5:
            raise self._fail("step() must return (observations, rewards, terminateds, truncateds, infos)")
        obs, rewards, terms, truncs, infos = out
        infos = infos or {}
        all_term, all_trunc = bool(terms.get("__all__")), bool(truncs.get("__all__"))
        steps: list[Optional[TeamStep]] = []
        for g, group in enumerate(self.groups):
            if not playing[g]:
                steps.append(None)
                continue
            reward = self._group_reward(g, rewards, infos)
            terminated = all_term or bool(terms.get(group))
            truncated = not terminated and (all_trunc or bool(truncs.get(group)))
            team = self._group_obs(g, obs)  # the last observation too (a truncation bootstraps from it)
            self._done[g] = terminated or truncated
            info = _merge({group: infos.get(group)}) if isinstance(infos.get(group), dict) else {}
            steps.append(TeamStep(team, reward, terminated, truncated, info))
        return steps

    def reset(self, seed: Optional[int] = None) -> TeamObs:
        if self.n_teams != 1:
            raise TeamEnvError(f"{self.name} has {self.n_teams} teams (groups): use reset_teams().")
        return self.reset_teams(seed)[0]

    def step(self, actions: np.ndarray) -> TeamStep:
        if self.n_teams != 1:
            raise TeamEnvError(f"{self.name} has {self.n_teams} teams (groups): use step_teams().")
        step = self.step_teams([actions])[0]
        if step is None:
            raise self._fail("was stepped after its episode ended")
        return step

    def close(self) -> None:
        close = getattr(self.env, "close", None)
        if callable(close):
            close()


def _merge(infos: Any) -> dict:
    """Team-level info: scalar entries of the groups' infos (``battle_won`` and the like)."""
    merged: dict = {}
    for value in (infos or {}).values():
        if isinstance(value, dict):
            for k, v in value.items():
                if np.isscalar(v) and not k.startswith("_"):
                    merged.setdefault(k, v)
    return merged


__all__ = ["GroupedTeamEnv", "flat_size", "flatten", "grouped_agents"]
