"""The team view: any supported multi-agent env seen as one cooperative team.

QMIX needs, at every step, all agents' observations, the global state, the joint action mask
and one team reward. ``as_team_env`` adapts
- an env with SMAC's API (``get_obs``, ``get_state``, ``get_avail_actions``, ``step(list)``),
- an RLlib ``MultiAgentEnv`` (global state from ``state()``/``state_space`` or ``get_state()``,
  action masks from Dict observations ``{"observations", "action_mask"}``); one grouped with
  ``with_agent_groups`` as old RLlib QMIX required has its own view (``rllib_qmix.envs.grouped``,
  chosen by ``rllib_qmix.envs.creator.team_view``),
- a PettingZoo ``ParallelEnv`` with ``state()``,
to the small ``TeamEnv`` interface used by the QMIX env runner. Team reward is the sum of the
agents' rewards; an agent that finished early gets zero observations and may only take action
0 (which is not sent to the env); a time-out is a truncation, a win or defeat a termination
(for SMAC-API envs ``timeout_is_terminal=True`` makes a time-out a termination, as in pymarl).
"""

from __future__ import annotations

import abc
import inspect
from dataclasses import dataclass, field
from typing import Any, Optional

import gymnasium as gym
import numpy as np


class TeamEnvError(ValueError):
    """An environment that QMIX cannot use, with a message that says what to change."""


@dataclass(frozen=True)
class TeamSpec:
    """Sizes of a team environment."""

    n_agents: int
    obs_dim: int
    state_dim: int
    n_actions: int
    episode_limit: Optional[int] = None

    def observation_space(self) -> gym.spaces.Dict:
        """The grouped observation space the QMIX RLModule is built from."""
        return gym.spaces.Dict(
            {
                "obs": gym.spaces.Box(-np.inf, np.inf, (self.n_agents, self.obs_dim), np.float32),
                "state": gym.spaces.Box(-np.inf, np.inf, (self.state_dim,), np.float32),
                "action_mask": gym.spaces.Box(0.0, 1.0, (self.n_agents, self.n_actions), np.float32),
            }
        )

    def action_space(self) -> gym.spaces.MultiDiscrete:
        """The joint action space: one Discrete(n_actions) per agent."""
        return gym.spaces.MultiDiscrete([self.n_actions] * self.n_agents)


@dataclass
class TeamObs:
    """What the team sees at one step."""

    obs: np.ndarray  # [N, obs_dim] float32
    state: np.ndarray  # [state_dim] float32
    avail: np.ndarray  # [N, n_actions] bool


@dataclass
class TeamStep:
    """The result of one team step."""

    obs: TeamObs
    reward: float
    terminated: bool
    truncated: bool
    info: dict = field(default_factory=dict)


class TeamEnv(abc.ABC):
    """A cooperative team environment with global state and per-agent action masks.

    An env may hold several teams that play at once (``n_teams``; the groups of a grouped env),
    each of ``spec``'s sizes with its own episodes: ``reset_teams`` and ``step_teams`` play them
    all. For one team they are ``reset`` and ``step``.
    """

    spec: TeamSpec
    #: Teams that play in this env at once.
    n_teams: int = 1

    def reset_teams(self, seed: Optional[int] = None) -> list[TeamObs]:
        """Starts an episode of every team."""
        return [self.reset(seed=seed)]

    def step_teams(self, actions: list[Optional[np.ndarray]]) -> list[Optional[TeamStep]]:
        """Steps every team still playing (``actions[k]`` None for a team whose episode ended);
        one ``TeamStep`` per team that played this step, None for the others."""
        return [self.step(actions[0])]

    @abc.abstractmethod
    def reset(self, seed: Optional[int] = None) -> TeamObs:
        """Starts an episode."""

    @abc.abstractmethod
    def step(self, actions: np.ndarray) -> TeamStep:
        """Steps with one action per agent (``[N]`` ints)."""

    def close(self) -> None:
        """Releases the env's resources."""

    def render(self) -> Optional[np.ndarray]:
        """An RGB frame of the current state, if the env can render."""
        return None


def check_finite(step_index: int, reward: float, obs: TeamObs, env_name: str = "The env", agents=None) -> None:
    """Refuses NaN or inf rewards, observations or states, naming the env, step and agent."""
    if not np.isfinite(reward):
        raise TeamEnvError(f"{env_name} returned a non-finite reward ({reward}) at episode step {step_index}.")
    bad_rows = np.flatnonzero(~np.isfinite(obs.obs).all(axis=1))
    if len(bad_rows):
        who = f"agent {agents[bad_rows[0]]!r}" if agents is not None else f"agent {int(bad_rows[0])}"
        raise TeamEnvError(
            f"{env_name} returned a non-finite observation (NaN or inf) for {who} at episode step {step_index}."
        )
    if not np.isfinite(obs.state).all():
        raise TeamEnvError(f"{env_name} returned a non-finite global state (NaN or inf) at episode step {step_index}.")


def check_avail(
    step_index: int, avail: np.ndarray, live: Optional[np.ndarray] = None, env_name: str = "The env", agents=None
) -> None:
    """Refuses an action mask in which a (live) agent has no available action."""
    empty = ~avail.any(axis=1)
    if live is not None:
        empty &= live
    if empty.any():
        idx = np.flatnonzero(empty).tolist()
        names = [agents[i] for i in idx] if agents is not None else idx
        raise TeamEnvError(
            f"{env_name}: agent(s) {names} have no available action at episode step "
            f"{step_index}: every live agent's action mask needs at least one 1."
        )


def reseeds_per_episode(env: Any) -> bool:
    """Whether ``env.seed(seed)`` reseeds the episodes that follow (a capability, not a class).

    The embedded simulator's ``seed(seed)`` takes a seed, so each episode can start from its
    own seed. Real SMAC's ``seed()`` takes no argument and only returns the seed given to its
    constructor (``StarCraft2Env(seed=...)``); such an env is seeded once, at construction,
    and the per-episode seeds are not passed to it.
    """
    seed = getattr(env, "seed", None)
    if not callable(seed):
        return False
    try:
        params = inspect.signature(seed).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: don't guess
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return any(p.kind in positional or p.kind is inspect.Parameter.VAR_POSITIONAL for p in params)


def smac_timeouts(env: Any) -> Optional[int]:
    """SMAC's count of time-outs (``env.timeouts``), or None if the env keeps none."""
    n = getattr(env, "timeouts", None)
    return int(n) if isinstance(n, (int, np.integer)) and not isinstance(n, bool) else None


def smac_episode_end(
    env: Any, terminated: bool, info: dict, timeouts_before: Optional[int], timeout_is_terminal: bool = False
) -> tuple[bool, bool]:
    """(terminated, truncated) of a step of an env with SMAC's API.

    SMAC ends an episode at its time limit with ``terminated=True`` and sets
    ``info["episode_limit"]`` only when built with ``continuing_episode=True``; it always counts
    the time-out in ``env.timeouts``. So a time-out is recognised by that counter growing during
    the step (``timeouts_before`` is its value before the step), or else by the info key. It
    is a truncation (the TD target bootstraps from the last observation), unless
    ``timeout_is_terminal`` asks for pymarl's convention (a termination, no bootstrap).
    """
    if not terminated:
        return False, False
    after = smac_timeouts(env)
    timed_out = (timeouts_before is not None and after is not None and after > timeouts_before) or bool(
        info.get("episode_limit", False)
    )
    if timed_out and not timeout_is_terminal:
        return False, True
    return True, False


class SMACTeamEnv(TeamEnv):
    """Team view of an env with SMAC's API (the embedded simulator or the real SMAC).

    Args:
        env: The SMAC-API env.
        timeout_is_terminal: Treat a time-out as a termination (pymarl's convention with SMAC's
            defaults) instead of a truncation (the default, on both backends).

    Seeding: ``reset(seed)`` reseeds the env only where ``env.seed`` takes a seed
    (``reseeds_per_episode``); real SMAC is seeded once by its constructor.
    """

    def __init__(self, env: Any, timeout_is_terminal: bool = False) -> None:
        self.env = env
        self.timeout_is_terminal = bool(timeout_is_terminal)
        self.reseeds = reseeds_per_episode(env)
        info = env.get_env_info()
        self.spec = TeamSpec(
            n_agents=int(info["n_agents"]),
            obs_dim=int(info["obs_shape"]),
            state_dim=int(info["state_shape"]),
            n_actions=int(info["n_actions"]),
            episode_limit=int(info["episode_limit"]),
        )
        self._fast = hasattr(env, "get_obs_array") and hasattr(env, "get_avail_actions_array")
        self._t = 0

    def _observe(self) -> TeamObs:
        env = self.env
        if self._fast:
            obs, avail = env.get_obs_array(), env.get_avail_actions_array()
        else:
            obs, avail = np.asarray(env.get_obs()), np.asarray(env.get_avail_actions())
        return TeamObs(
            np.asarray(obs, dtype=np.float32),
            np.asarray(env.get_state(), dtype=np.float32),
            np.asarray(avail, dtype=bool),
        )

    def reset(self, seed: Optional[int] = None) -> TeamObs:
        if seed is not None and self.reseeds:
            self.env.seed(seed)
        self.env.reset()
        self._t = 0
        return self._observe()

    def step(self, actions: np.ndarray) -> TeamStep:
        before = smac_timeouts(self.env)
        reward, terminated, info = self.env.step(actions)
        self._t += 1
        obs = self._observe()
        check_finite(self._t, reward, obs, type(self.env).__name__)
        terminated, truncated = smac_episode_end(self.env, terminated, info, before, self.timeout_is_terminal)
        return TeamStep(obs, float(reward), terminated, truncated, info)

    def close(self) -> None:
        self.env.close()

    def render(self) -> Optional[np.ndarray]:
        return self.env.render(mode="rgb_array") if hasattr(self.env, "render") else None


def _discrete_n(space: gym.Space, who: str) -> int:
    if not isinstance(space, gym.spaces.Discrete):
        raise TeamEnvError(
            f"QMIX needs discrete actions, but {who} has action space {space}. "
            "Use a Discrete action space (continuous actions are not supported)."
        )
    return int(space.n)


def _split_obs_space(space: gym.Space, who: str) -> tuple[int, bool]:
    """Returns (obs_dim, has_mask) for a Box or ``{"observations", "action_mask"}`` space."""
    if isinstance(space, gym.spaces.Dict):
        key = _obs_key(space.spaces)
        if key is None or "action_mask" not in space.spaces:
            raise TeamEnvError(
                f"{who} has a Dict observation space with keys {list(space.spaces)}; QMIX reads "
                "Dict observations as {'observations': Box, 'action_mask': Box}."
            )
        return int(np.prod(space.spaces[key].shape)), True
    if isinstance(space, gym.spaces.Box):
        return int(np.prod(space.shape)), False
    raise TeamEnvError(f"{who} has observation space {space}; QMIX needs a Box (or a Dict with an action mask).")


def _obs_key(d: Any) -> Optional[str]:
    for key in ("observations", "observation", "obs"):
        if key in d:
            return key
    return None


class _DictTeamEnv(TeamEnv):
    """Shared logic of the per-agent-dict adapters (RLlib MultiAgentEnv, PettingZoo)."""

    def __init__(self, env: Any, agents: list, obs_spaces: list, act_spaces: list, state_from_obs: bool) -> None:
        self.env = env
        self.agents = list(agents)
        self._agent_set = set(self.agents)
        self.name = who = type(env).__name__
        ns = {_discrete_n(s, f"{who} agent {a!r}") for a, s in zip(self.agents, act_spaces)}
        if len(ns) != 1:
            raise TeamEnvError(
                f"{who}'s agents have different action spaces ({act_spaces}); QMIX shares one "
                "agent network, so all agents need the same Discrete(n) action space (for a PettingZoo env, "
                "rllib_qmix.envs.padded.PaddedParallelEnv pads them to one, with action masks)."
            )
        dims = [_split_obs_space(s, f"{who} agent {a!r}") for a, s in zip(self.agents, obs_spaces)]
        if len({d for d, _ in dims}) != 1:
            raise TeamEnvError(
                f"{who}'s agents have observations of different sizes ({[d for d, _ in dims]}); "
                "QMIX shares one agent network, so pad observations to one size (for a PettingZoo env, "
                "rllib_qmix.envs.padded.PaddedParallelEnv does it)."
            )
        self.state_from_obs = state_from_obs
        self._state_fn = self._find_state_fn(env, who)
        n, obs_dim = len(self.agents), dims[0][0]
        state_dim = n * obs_dim if self._state_fn is None else self._state_dim(env)
        self.spec = TeamSpec(n, obs_dim, state_dim, ns.pop())
        self._t = 0
        self._live = np.ones(n, dtype=bool)  # False once an agent terminated or truncated
        self._present = np.ones(n, dtype=bool)  # agents with an observation this step

    def _find_state_fn(self, env: Any, who: str):
        for target in (env, getattr(env, "unwrapped", env)):
            if callable(getattr(target, "state", None)) and hasattr(target, "state_space"):
                return target.state
            if callable(getattr(target, "get_state", None)):
                return target.get_state
        if self.state_from_obs:
            return None
        raise TeamEnvError(
            f"{who} has no global state: QMIX's mixer needs one, from a `state()` method with a "
            "`state_space` attribute (PettingZoo's convention) or a `get_state()` method (SMAC's). "
            "Add one to the env, or opt in to the concatenated agents' observations as the state "
            "with `config.training(state_from_obs=True)`."
        )

    def _state_dim(self, env: Any) -> int:
        space = getattr(env, "state_space", None) or getattr(getattr(env, "unwrapped", env), "state_space", None)
        if space is not None:
            return int(np.prod(space.shape))
        return int(np.asarray(self._state_fn()).size)

    # ------------------------------------------------------------------ checks
    def _fail(self, what: str, agent: Any = None) -> TeamEnvError:
        who = f" for agent {agent!r}" if agent is not None else ""
        return TeamEnvError(f"{self.name} {what}{who} at episode step {self._t}.")

    def _call(self, method: str, *args: Any, n_values: int, **kwargs: Any) -> tuple:
        """Calls ``env.method``; an exception or a result that is not an ``n_values``-tuple of
        dicts becomes one ``TeamEnvError`` naming the env and the step."""
        try:
            out = getattr(self.env, method)(*args, **kwargs)
        except TeamEnvError:
            raise
        except Exception as e:  # noqa: BLE001 - any error of a third-party env, named and chained
            detail = " ".join(str(e).split()) or "no message"
            raise self._fail(f"{method}() raised {type(e).__name__} ({detail})") from e
        if not isinstance(out, tuple) or len(out) != n_values:
            got = f"a {len(out)}-tuple" if isinstance(out, tuple) else f"a {type(out).__name__}"
            raise self._fail(
                f"{method}() returned {got}; the multi-agent API returns {n_values} dicts ({_RETURNS[n_values]})"
            )
        for name, value in zip(_RETURNS[n_values].split(", "), out):
            if not isinstance(value, dict):
                raise self._fail(
                    f"{method}() returned {type(value).__name__} as {name}; expected a dict keyed by agent"
                )
            extra = [k for k in value if k not in self._agent_set and k != "__all__"]
            if extra:
                raise self._fail(
                    f"{method}() returned {name} for {extra[0]!r}, which is not one of its declared agents "
                    f"{self.agents}"
                )
        return out

    def _team_obs(self, obs: dict, infos: Optional[dict]) -> TeamObs:
        n, d, a = self.spec.n_agents, self.spec.obs_dim, self.spec.n_actions
        o = np.zeros((n, d), dtype=np.float32)
        avail = np.zeros((n, a), dtype=bool)
        present = np.zeros(n, dtype=bool)
        for i, agent in enumerate(self.agents):
            if agent not in obs:  # finished early (or not acting now): masked, action 0 only
                avail[i, 0] = True
                continue
            present[i] = True
            ob, mask = obs[agent], None
            if isinstance(ob, dict):
                key = _obs_key(ob)
                if key is None:
                    raise self._fail(
                        f"returned a dict observation with no 'observations'/'observation'/'obs' key ({sorted(ob)})",
                        agent,
                    )
                mask, ob = ob.get("action_mask"), ob[key]
            elif infos and isinstance(infos.get(agent), dict):
                mask = infos[agent].get("action_mask")
            try:
                ob = np.asarray(ob, dtype=np.float32).reshape(-1)
            except (TypeError, ValueError) as e:
                raise self._fail(
                    f"returned an observation that is not numeric ({type(e).__name__}: {e})", agent
                ) from None
            if ob.size != d:
                raise self._fail(f"returned an observation that changed shape: {ob.size} values, expected {d},", agent)
            o[i] = ob
            if mask is not None:
                try:
                    mask = np.asarray(mask, dtype=bool).reshape(-1)
                except (TypeError, ValueError) as e:
                    raise self._fail(f"returned an action mask that is not numeric ({e})", agent) from None
                if mask.size != a:
                    raise self._fail(f"returned an action mask of {mask.size} values, expected {a},", agent)
            avail[i] = True if mask is None else mask
        check_avail(self._t, avail, present, self.name, self.agents)
        self._present = present
        if self._state_fn is None:
            state = o.reshape(-1).copy()
        else:
            try:
                state = np.asarray(self._state_fn(), dtype=np.float32).reshape(-1)
            except (TypeError, ValueError) as e:
                raise self._fail(f"returned a global state that is not numeric ({type(e).__name__}: {e})") from None
            if state.size != self.spec.state_dim:
                raise self._fail(
                    f"returned a global state that changed size: {state.size}, expected {self.spec.state_dim},"
                )
        return TeamObs(o, state, avail)

    def _observed(self, obs: dict, terms: dict, truncs: dict) -> dict:
        """This step's observations of the agents that count in it; updates who acts next.

        An agent that terminated (died) is masked from this step on, like a dead SMAC unit.
        An agent cut by a time limit keeps its last observation and action mask: the TD target
        bootstraps from them (masking them would bootstrap from an all-zero observation).
        An agent that sends an observation after it was done is refused.
        """
        kept = {}
        for i, a in enumerate(self.agents):
            if not self._live[i] and a in obs:
                raise self._fail("returned an observation after the agent was done (terminated or truncated)", a)
            if self._live[i] and a in obs and not terms.get(a):
                kept[a] = obs[a]
            if terms.get(a) or truncs.get(a):  # whether or not the env sent a last observation
                self._live[i] = False
        return kept

    def _team_reward(self, rewards: dict) -> float:
        total = 0.0
        for agent, r in rewards.items():
            try:
                r = float(r)
            except (TypeError, ValueError):
                raise self._fail(f"returned a reward that is not a number ({r!r})", agent) from None
            if not np.isfinite(r):
                raise self._fail(f"returned a non-finite reward ({r})", agent)
            total += r
        return total

    def _action_dict(self, actions: np.ndarray) -> dict:
        return {a: int(actions[i]) for i, a in enumerate(self.agents) if self._present[i] and self._live[i]}

    def _reset(self, seed: Optional[int]) -> TeamObs:
        self._t = 0
        self._live[:] = True
        obs, infos = self._call("reset", n_values=2, seed=seed)
        team = self._team_obs(obs, infos)
        check_finite(0, 0.0, team, self.name, self.agents)
        return team

    def _step(self, actions: np.ndarray) -> tuple[TeamObs, float, dict, dict, dict]:
        action_dict = self._action_dict(actions)
        self._t += 1
        obs, rewards, terms, truncs, infos = self._call("step", action_dict, n_values=5)
        team = self._team_obs(self._observed(obs, terms, truncs), infos)
        reward = self._team_reward(rewards)
        check_finite(self._t, reward, team, self.name, self.agents)
        return team, reward, terms, truncs, infos


_RETURNS = {2: "observations, infos", 5: "observations, rewards, terminateds, truncateds, infos"}


class MultiAgentTeamEnv(_DictTeamEnv):
    """Team view of an RLlib ``MultiAgentEnv``."""

    def __init__(self, env: Any, state_from_obs: bool = False) -> None:
        agents = list(getattr(env, "possible_agents", None) or env.agents)
        super().__init__(
            env,
            agents,
            [env.get_observation_space(a) for a in agents],
            [env.get_action_space(a) for a in agents],
            state_from_obs,
        )

    def reset(self, seed: Optional[int] = None) -> TeamObs:
        return self._reset(seed)

    def step(self, actions: np.ndarray) -> TeamStep:
        team, reward, terms, truncs, infos = self._step(actions)
        done_t, done_tr = bool(terms.get("__all__")), bool(truncs.get("__all__"))
        return TeamStep(team, reward, done_t, done_tr and not done_t, _merge_infos(infos))

    def close(self) -> None:
        self.env.close()


class ParallelTeamEnv(_DictTeamEnv):
    """Team view of a PettingZoo ``ParallelEnv``."""

    def __init__(self, env: Any, state_from_obs: bool = False) -> None:
        agents = list(env.possible_agents)
        super().__init__(
            env,
            agents,
            [env.observation_space(a) for a in agents],
            [env.action_space(a) for a in agents],
            state_from_obs,
        )

    def reset(self, seed: Optional[int] = None) -> TeamObs:
        return self._reset(seed)

    def step(self, actions: np.ndarray) -> TeamStep:
        team, reward, terms, truncs, infos = self._step(actions)
        done = not self.env.agents
        terminated = done and all(terms.get(a, False) for a in self.agents if a in terms)
        return TeamStep(team, reward, terminated, done and not terminated, _merge_infos(infos))

    def close(self) -> None:
        self.env.close()


def _merge_infos(infos: dict) -> dict:
    """Team-level info: scalar keys such as ``battle_won`` from any agent's info dict."""
    merged: dict = {}
    for value in infos.values():
        if isinstance(value, dict):
            for k, v in value.items():
                if np.isscalar(v):
                    merged.setdefault(k, v)
    return merged


def as_team_env(env: Any, state_from_obs: bool = False) -> TeamEnv:
    """Wraps ``env`` into a ``TeamEnv``, or raises a ``TeamEnvError`` saying why it can't."""
    from ray.rllib.env.multi_agent_env import MultiAgentEnv

    if isinstance(env, TeamEnv):
        return env
    smac = getattr(env, "smac_env", None)
    if smac is not None:  # the env "smac" (SMACMultiAgentEnv): read the SMAC env directly
        return SMACTeamEnv(smac, timeout_is_terminal=bool(getattr(env, "timeout_is_terminal", False)))
    if all(callable(getattr(env, m, None)) for m in ("get_obs", "get_state", "get_avail_actions", "get_env_info")):
        return SMACTeamEnv(env)
    if isinstance(env, MultiAgentEnv):
        return MultiAgentTeamEnv(env, state_from_obs)
    if hasattr(env, "possible_agents") and callable(getattr(env, "observation_space", None)):
        return ParallelTeamEnv(env, state_from_obs)
    raise TeamEnvError(
        f"QMIX can't use env {type(env).__name__}: it needs a multi-agent env (an RLlib "
        "MultiAgentEnv, a PettingZoo ParallelEnv, or an env with SMAC's API). A single-agent "
        "gymnasium env has no team to mix."
    )
