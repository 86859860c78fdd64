"""The QMIX RLModule: shared DRQN agent on env runners, mixer and targets on learners.

One ``TorchRLModule`` holds the shared agent network. On learners it also holds the mixer
(QMIX hypernetworks or VDN) and the target copies of both; these are listed in
``get_non_inference_attributes()``, so env runners build the module with
``inference_only=True`` and never construct them, and weight syncs send only the agent.
Keeping agent and mixer in one module gives one optimizer and one global gradient norm over
all trained parameters, as in the authors' pymarl, and a data-parallel (DDP) learner sees the
whole coupled forward pass in ``_forward_train``.
"""

from __future__ import annotations

import copy
from typing import Any, Optional

import torch
import torch.nn.functional as F
from ray.rllib.core.rl_module.apis import InferenceOnlyAPI, TargetNetworkAPI
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.utils.annotations import override
from torch import nn

from rllib_qmix import keys as K
from rllib_qmix.models.networks import AgentRNN, QMixer, VDNMixer, agent_input_dim, build_agent_inputs

#: Architecture defaults (pymarl's QMIX), the one source of them: ``QMIXConfig`` starts from
#: these, and its ``model_config`` has these keys.
DEFAULT_MODEL_CONFIG: dict[str, Any] = {
    "hidden_dim": 64,
    "obs_agent_id": True,
    "obs_last_action": True,
    "mixer": "qmix",
    "mixing_embed_dim": 32,
    "hypernet_layers": 2,
    "hypernet_embed": 64,
    "double_q": True,
}


class QMIXTorchRLModule(TorchRLModule, InferenceOnlyAPI, TargetNetworkAPI):
    """Shared DRQN agent (+ mixer and target networks when not inference-only).

    The observation space is the team Dict ``{"obs": [N, obs_dim], "state": [state_dim],
    "action_mask": [N, n_actions]}`` and the action space ``MultiDiscrete([n_actions] * N)``
    (see ``rllib_qmix.envs.team.TeamSpec``).
    """

    @override(TorchRLModule)
    def setup(self) -> None:
        cfg = {**DEFAULT_MODEL_CONFIG, **(self.model_config or {})}
        self.cfg = cfg
        spaces = self.observation_space.spaces
        self.n_agents, self.obs_dim = spaces["obs"].shape
        self.state_dim = int(spaces["state"].shape[0])
        self.n_actions = int(spaces["action_mask"].shape[1])
        in_dim = agent_input_dim(
            self.obs_dim, self.n_agents, self.n_actions, cfg["obs_agent_id"], cfg["obs_last_action"]
        )
        self.agent = AgentRNN(in_dim, self.n_actions, cfg["hidden_dim"])
        if not self.inference_only:
            self.mixer = self._make_mixer(cfg)
            self.make_target_networks()

    def _make_mixer(self, cfg: dict) -> Optional[nn.Module]:
        if cfg["mixer"] == "qmix":
            return QMixer(
                self.n_agents, self.state_dim, cfg["mixing_embed_dim"], cfg["hypernet_layers"], cfg["hypernet_embed"]
            )
        if cfg["mixer"] == "vdn":
            return VDNMixer()
        if cfg["mixer"] is None:
            return None
        raise ValueError(f"Unknown mixer {cfg['mixer']!r}: use 'qmix', 'vdn' or None.")

    @override(TargetNetworkAPI)
    def make_target_networks(self) -> None:
        self.target_agent = copy.deepcopy(self.agent)
        self.target_mixer = copy.deepcopy(self.mixer)
        for p in list(self.target_agent.parameters()) + list(
            self.target_mixer.parameters() if self.target_mixer is not None else []
        ):
            p.requires_grad_(False)

    @override(TargetNetworkAPI)
    def get_target_network_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        pairs = [(self.agent, self.target_agent)]
        if self.mixer is not None:
            pairs.append((self.mixer, self.target_mixer))
        return pairs

    @override(InferenceOnlyAPI)
    def get_non_inference_attributes(self) -> list[str]:
        return ["mixer", "target_agent", "target_mixer"]

    # ------------------------------------------------------------------ acting
    def initial_hidden(self, batch_envs: int) -> torch.Tensor:
        """Zero GRU state for ``batch_envs`` teams: ``[batch_envs * N, hidden]``."""
        return self.agent.initial_state(batch_envs * self.n_agents)

    @override(TorchRLModule)
    def _forward(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        """One acting step for E teams.

        Args:
            batch: ``obs`` ``[E, N, obs_dim]``, ``prev_actions`` ``[E, N]`` (-1 at an
                episode's first step), ``state_in`` ``[E * N, hidden]``.

        Returns:
            ``q_values`` ``[E, N, n_actions]`` and ``state_out``.
        """
        obs = batch[K.OBS]
        e, n = obs.shape[:2]
        prev = batch[K.PREV_ACTIONS]
        prev_onehot = None
        if self.cfg["obs_last_action"]:
            prev_onehot = F.one_hot(prev.clamp(min=0), self.n_actions).to(obs.dtype) * (prev >= 0).unsqueeze(-1)
            prev_onehot = prev_onehot.unsqueeze(1)
        x = build_agent_inputs(obs.unsqueeze(1), prev_onehot, self.cfg["obs_agent_id"])
        q, h = self.agent(x.reshape(e * n, 1, -1), batch[K.STATE_IN])
        return {K.Q_VALUES: q.view(e, n, -1), K.STATE_OUT: h}

    # ---------------------------------------------------------------- training
    def _train_inputs(self, batch: dict[str, Any]) -> torch.Tensor:
        """Agent inputs of every step of a batch of episodes: ``[B, T+1, N, input_dim]``."""
        obs, actions = batch[K.OBS], batch[K.ACTIONS].long()
        prev_onehot = None
        if self.cfg["obs_last_action"]:
            onehot = F.one_hot(actions, self.n_actions).to(obs.dtype)
            prev_onehot = torch.cat([torch.zeros_like(onehot[:, :1]), onehot], dim=1)
        return build_agent_inputs(obs, prev_onehot, self.cfg["obs_agent_id"])

    def _unroll(self, net: AgentRNN, inputs: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``[B, T+1, N, d]`` inputs -> ``[B, T+1, N, A]`` Q-values; ``lengths`` ``[B]`` skips most padding."""
        b, t1, n, d = inputs.shape
        x = inputs.permute(0, 2, 1, 3).reshape(b * n, t1, d)
        q = net(x)[0] if lengths is None else net.unroll_padded(x, lengths.repeat_interleave(n))
        return q.view(b, n, t1, -1).permute(0, 2, 1, 3)

    @staticmethod
    def _mix_real_steps(
        mixer: nn.Module, agent_qs: torch.Tensor, states: torch.Tensor, real: torch.Tensor
    ) -> torch.Tensor:
        """Mixes only the real transitions (``real`` ``[B, T]`` bool); padded steps get 0."""
        mixed = mixer(agent_qs[real].unsqueeze(0), states[real].unsqueeze(0)).squeeze(0)
        return torch.zeros(real.shape, dtype=mixed.dtype, device=mixed.device).masked_scatter(real, mixed)

    @override(TorchRLModule)
    def _forward_train(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        """Unrolls online and target agents over whole episodes and mixes.

        Returns ``q_taken_tot`` (with grad) and ``target_next_tot`` (no grad), both ``[B, T]``
        (``[B, T, N]`` without a mixer), per-agent ``q_taken``, and ``next_greedy`` (whether the
        action taken at the next step is the greedy one that picked ``target_next_tot``: under the
        online network with ``double_q``, else under the target network).
        """
        actions = batch[K.ACTIONS].long()
        avail, state = batch[K.AVAIL_ACTIONS].bool(), batch[K.STATE]
        real = batch[K.MASK] > 0  # [B, T]; episodes are left-aligned, so a prefix of each row
        lengths = real.sum(dim=1) + 1  # steps to unroll: the transitions and the final observation
        inputs = self._train_inputs(batch)
        q = self._unroll(self.agent, inputs, lengths)  # [B, T+1, N, A]
        q_taken = q[:, :-1].gather(-1, actions.unsqueeze(-1)).squeeze(-1)

        with torch.no_grad():
            # A step with no available action is padding: let any action stand there.
            avail = avail | ~avail.any(dim=-1, keepdim=True)
            target_q = self._unroll(self.target_agent, inputs, lengths)[:, 1:]
            chooser = q.detach()[:, 1:] if self.cfg["double_q"] else target_q
            best = chooser.masked_fill(~avail[:, 1:], float("-inf")).argmax(dim=-1, keepdim=True)
            target_next = target_q.gather(-1, best).squeeze(-1)  # [B, T, N]
            # Whether each agent's action at step t+1 is the one that picked V_{t+1} (no step T).
            greedy = best[:, :-1, :, 0] == actions[:, 1:]
            next_greedy = torch.cat([greedy, torch.zeros_like(greedy[:, :1])], dim=1).float()  # [B, T, N]

        if self.mixer is None:
            return {
                K.Q_TAKEN_TOT: q_taken,
                K.TARGET_NEXT_TOT: target_next,
                K.Q_TAKEN: q_taken,
                K.NEXT_GREEDY: next_greedy,
            }
        # Mixing padded steps would only cost time: they are masked out of the loss.
        q_tot = self._mix_real_steps(self.mixer, q_taken, state[:, :-1], real)
        with torch.no_grad():
            target_tot = self._mix_real_steps(self.target_mixer, target_next, state[:, 1:], real)
            # The joint action is greedy where every agent's is: the mixers are monotonic in each
            # agent's Q, so the agents' own argmaxes are the argmax of Q_tot.
            joint_greedy = next_greedy.amin(dim=-1)
        return {K.Q_TAKEN_TOT: q_tot, K.TARGET_NEXT_TOT: target_tot, K.Q_TAKEN: q_taken, K.NEXT_GREEDY: joint_greedy}

    @override(TargetNetworkAPI)
    def forward_target(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Target-network Q-values of every step: ``{"q_values": [B, T+1, N, A]}``."""
        with torch.no_grad():
            return {K.Q_VALUES: self._unroll(self.target_agent, self._train_inputs(batch))}

    def update_targets(self, tau: float = 1.0) -> None:
        """Copies (tau=1) or Polyak-averages the online weights into the targets."""
        with torch.no_grad():
            for main, target in self.get_target_network_pairs():
                for p, tp in zip(main.parameters(), target.parameters()):
                    tp.mul_(1.0 - tau).add_(p, alpha=tau) if tau < 1.0 else tp.copy_(p)
