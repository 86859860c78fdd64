"""A trained QMIX team outside RLlib: act from a checkpoint in a plain loop, or export it.

.. testcode::

    from rllib_qmix import TeamPolicy
    from rllib_qmix.envs.smac import StarCraft2Env

    policy = TeamPolicy.from_checkpoint(path)  # no Ray started; any env QMIX trained on
    env = StarCraft2Env(map_name="3m")
    env.reset()
    policy.reset()
    terminated = False
    while not terminated:
        actions = policy.act(env.get_obs(), env.get_avail_actions())  # greedy
        reward, terminated, info = env.step(actions)

``TeamPolicy.from_checkpoint`` reads only the checkpoint's files (the agent network's weights,
its sizes and the run's observation statistics): it never starts Ray or builds the algorithm.
"""

from __future__ import annotations

import pathlib
import pickle
import warnings
from typing import Any, Optional, Union

import numpy as np
import torch

from rllib_qmix.algorithm.checkpoints import CheckpointError, check_qmix_checkpoint, checkpoint_read_errors
from rllib_qmix.deploy.agent_step import AgentStep
from rllib_qmix.models.networks import AgentRNN, agent_input_dim
from rllib_qmix.models.rl_module import DEFAULT_MODEL_CONFIG
from rllib_qmix.sampling.acting import NORM_CLIP, select_actions

PathLike = Union[str, pathlib.Path]
#: Where a QMIX checkpoint keeps the shared module (RLlib 2.60's layout).
MODULE_DIR = "learner_group/learner/rl_module/default_policy"
_STATE_FILES = ("algorithm_state.pkl",)


class TeamPolicy:
    """The shared agent network of a trained QMIX team, acting for ``n_envs`` teams at a time.

    Keeps each team's GRU state and previous actions between ``act`` calls; ``reset`` starts
    new episodes. Observations are normalised as in the run that trained it.

    Args:
        step: The agent network's acting step (with the run's normalisation built in).
        epsilon: Exploration rate of ``act(..., explore=True)`` (the run's final epsilon).
        device: Torch device to act on.
        seed: Seed of the exploration draws.
    """

    def __init__(self, step: AgentStep, epsilon: float = 0.0, device: str = "cpu", seed: Optional[int] = None) -> None:
        self.device = torch.device(device)
        self.step_module = step.to(self.device).eval()
        self.n_agents, self.n_actions = step.n_agents, step.n_actions
        self.obs_dim = int(step.obs_mean.shape[0])
        self.epsilon = float(epsilon)
        self.rng = np.random.default_rng(seed)
        self.reset(1)

    # ---------------------------------------------------------------- loading
    @classmethod
    def from_checkpoint(cls, path: PathLike, device: str = "cpu", seed: Optional[int] = None) -> TeamPolicy:
        """The team of a QMIX checkpoint (``algo.save()``'s directory), without Ray.

        Raises:
            CheckpointError: ``path`` is not a QMIX checkpoint (another algorithm's, or none) or
                is damaged (the same errors as ``Algorithm.from_checkpoint``).
        """
        from rllib_qmix.algorithm.qmix import INPUT_STATS_STATE, QMIX

        root = check_qmix_checkpoint(path, QMIX)
        with checkpoint_read_errors(root):
            config = _load(root / "class_and_ctor_args.pkl")["ctor_args_and_kwargs"][0][0]
            module_ctor = _load(root / MODULE_DIR / "class_and_ctor_args.pkl")["ctor_args_and_kwargs"]
            weights = _load(root / MODULE_DIR / "module_state.pkl")
            stats = _load(root / "algorithm_state.pkl").get(INPUT_STATS_STATE) or {}
        settings = config if isinstance(config, dict) else vars(config)
        obs_space = _ctor_value(module_ctor, "observation_space", 0)
        model = {**DEFAULT_MODEL_CONFIG, **(_ctor_value(module_ctor, "model_config", 4) or {})}
        n_agents, obs_dim = obs_space["obs"].shape
        n_actions = int(obs_space["action_mask"].shape[1])
        agent = AgentRNN(
            agent_input_dim(obs_dim, n_agents, n_actions, model["obs_agent_id"], model["obs_last_action"]),
            n_actions,
            model["hidden_dim"],
        )
        agent_weights = {
            k[len("agent.") :]: torch.as_tensor(np.asarray(v)) for k, v in weights.items() if k.startswith("agent.")
        }
        try:
            agent.load_state_dict(agent_weights)
        except RuntimeError as e:
            raise CheckpointError(
                f"The QMIX checkpoint at {root} has agent weights that don't fit its sizes ({e})."
            ) from e
        mean = std = None
        obs_stats = stats.get("obs")
        if settings.get("normalize_obs") and obs_stats is not None and obs_stats["count"] > 0:
            mean, std = _moments(obs_stats)
        step = AgentStep(
            agent, n_agents, n_actions, model["obs_agent_id"], model["obs_last_action"], mean, std, NORM_CLIP
        )
        return cls(step, epsilon=float(settings.get("epsilon_finish", 0.0)), device=device, seed=seed)

    # ----------------------------------------------------------------- acting
    def reset(self, n_envs: int = 1) -> None:
        """Starts new episodes for ``n_envs`` teams: zero GRU states and no previous actions."""
        if n_envs < 1:
            raise ValueError(f"n_envs must be >= 1, got {n_envs}.")
        self.n_envs = int(n_envs)
        self.hidden = torch.zeros(self.n_envs, self.n_agents, self.step_module.hidden_dim, device=self.device)
        self.prev_actions = torch.full((self.n_envs, self.n_agents), -1, dtype=torch.long, device=self.device)

    def _inputs(self, obs: Any, avail: Any) -> tuple[torch.Tensor, np.ndarray, bool]:
        """Observations ``[E, N, D]`` on the device, the mask ``[E, N, A]`` and whether the
        caller gave one team without its env axis."""
        x = np.asarray(obs, dtype=np.float32)
        single = x.ndim == 2
        if single:
            x = x[None]
        if x.shape != (self.n_envs, self.n_agents, self.obs_dim):
            want = f"[{self.n_agents}, {self.obs_dim}]" if self.n_envs == 1 else ""
            raise ValueError(
                f"obs has shape {np.asarray(obs).shape}; this team expects [{self.n_envs}, {self.n_agents}, "
                f"{self.obs_dim}]{' or ' + want if want else ''} (reset(n_envs=...) sets the number of teams)."
            )
        if avail is None:
            mask = np.ones((self.n_envs, self.n_agents, self.n_actions), bool)
        else:
            mask = np.asarray(avail).astype(bool).reshape(self.n_envs, self.n_agents, self.n_actions)
            if not mask.any(axis=-1).all():
                raise ValueError("avail has an agent with no available action: every agent needs at least one.")
        return torch.as_tensor(x, device=self.device), mask, single

    def q_values(self, obs: Any, avail: Any = None) -> np.ndarray:
        """Q-values of every action at this step (``[N, A]`` or ``[n_envs, N, A]``), unavailable
        actions at -inf, from the recurrent state as it is (it does not advance: ``act`` does)."""
        x, mask, single = self._inputs(obs, avail)
        with torch.no_grad():
            q, _ = self.step_module(x, self.prev_actions, self.hidden)
        q = np.where(mask, q.cpu().numpy(), -np.inf)
        return q[0] if single else q

    def act(self, obs: Any, avail: Any = None, explore: bool = False, epsilon: Optional[float] = None) -> np.ndarray:
        """The team's actions for one step (``[N]``, or ``[n_envs, N]`` for ``[n_envs, N, D]``
        observations), greedy over available actions (``explore``: epsilon-greedy with the run's
        final epsilon, or ``epsilon``); advances the GRU states and remembers the actions."""
        x, mask, single = self._inputs(obs, avail)
        with torch.no_grad():
            q, self.hidden = self.step_module(x, self.prev_actions, self.hidden)
        eps = (self.epsilon if epsilon is None else float(epsilon)) if explore else 0.0
        actions = select_actions(q.cpu().numpy(), mask, eps, self.rng)
        self.prev_actions = torch.as_tensor(actions, dtype=torch.long, device=self.device)
        return actions[0] if single else actions

    # ---------------------------------------------------------------- exports
    def example_inputs(self, n_envs: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Inputs of the first step of ``n_envs`` teams: zero observations, no previous action, zero state."""
        return (
            torch.zeros(n_envs, self.n_agents, self.obs_dim),
            torch.full((n_envs, self.n_agents), -1, dtype=torch.long),
            torch.zeros(n_envs, self.n_agents, self.step_module.hidden_dim),
        )

    def export_torchscript(self, path: PathLike) -> pathlib.Path:
        """Writes the agent network's acting step as TorchScript (``torch.jit.load`` runs it
        without this package; inputs and outputs as in ``rllib_qmix.deploy.agent_step``)."""
        module = _cpu_copy(self.step_module)
        with warnings.catch_warnings():  # torch's notice that TorchScript is in maintenance
            warnings.simplefilter("ignore", DeprecationWarning)
            scripted = torch.jit.script(module)
        path = pathlib.Path(path)
        scripted.save(str(path))
        return path

    def export_onnx(self, path: PathLike, opset: int = 17) -> pathlib.Path:
        """Writes the agent network's acting step as ONNX (inputs ``obs``, ``prev_actions``,
        ``hidden``; outputs ``q``, ``hidden_out``; the number of teams may vary).

        Raises:
            ImportError: onnx is not installed (``pip install 'rllib_qmix[onnx]'``).
        """
        try:
            import onnx  # noqa: F401  (torch's exporter needs it)
        except ImportError as e:
            raise ImportError("export_onnx needs the onnx package: pip install 'rllib_qmix[onnx]'.") from e
        path = pathlib.Path(path)
        with warnings.catch_warnings():  # the exporter's notices (legacy exporter, traced GRU sizes)
            warnings.simplefilter("ignore")
            self._onnx_export(path, opset)
        return path

    def _onnx_export(self, path: pathlib.Path, opset: int) -> None:
        dims = {0: "teams"}
        torch.onnx.export(
            _cpu_copy(self.step_module),
            self.example_inputs(2),
            str(path),
            input_names=["obs", "prev_actions", "hidden"],
            output_names=["q", "hidden_out"],
            dynamic_axes={"obs": dims, "prev_actions": dims, "hidden": dims, "q": dims, "hidden_out": dims},
            opset_version=opset,
            dynamo=False,
        )


def _cpu_copy(module: AgentStep) -> AgentStep:
    import copy

    return copy.deepcopy(module).cpu().eval()


def _load(path: pathlib.Path) -> Any:
    with open(path, "rb") as f:
        return pickle.load(f)


def _ctor_value(ctor: Any, name: str, position: int) -> Any:
    """An argument of a pickled ``(args, kwargs)`` constructor call, by name or position."""
    args, kwargs = ctor
    if name in kwargs:
        return kwargs[name]
    return args[position] if len(args) > position else None


def _moments(stats: dict) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of a stored ``RunningMeanStd`` state, as the env runners applied them."""
    from rllib_qmix.learning.reward_stats import RunningMeanStd

    running = RunningMeanStd(shape=np.shape(stats["mean"]))
    running.set_state(stats)
    return np.asarray(running.mean), np.asarray(running.std)


__all__ = ["MODULE_DIR", "TeamPolicy"]
