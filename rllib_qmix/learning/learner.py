"""QMIXTorchLearner: the coupled QMIX loss, the optimizer and target-network syncs."""

from __future__ import annotations

from typing import Any

import torch
from ray.rllib.core.learner.torch.torch_learner import TorchLearner
from ray.rllib.utils.annotations import override
from ray.rllib.utils.typing import ModuleID

from rllib_qmix import keys as K
from rllib_qmix.learning.targets import masked_mse, td_lambda_targets

TD_LOSS = "td_loss"
TD_ERROR_ABS = "td_error_abs"
Q_TAKEN_MEAN = "q_taken_mean"
TARGET_MEAN = "target_mean"


class QMIXTorchLearner(TorchLearner):
    """Masked TD(lambda) loss on mixed Q-values, one optimizer over agent and mixer.

    The RLModule's ``_forward_train`` computes ``Q_tot`` of the taken actions and the target
    network's (double-Q) value of the next step; this learner forms the targets, the masked
    mean squared TD error over real transitions, and syncs the targets (a hard copy every
    ``target_update_interval`` updates, or a soft update with ``target_update_tau``).
    """

    @override(TorchLearner)
    def build(self) -> None:
        self._num_updates = 0
        self._num_target_updates = 0
        super().build()

    @override(TorchLearner)
    def configure_optimizers_for_module(self, module_id: ModuleID, config: Any = None) -> None:
        config = config or self.config
        params = [p for p in self.get_parameters(self._module[module_id]) if p.requires_grad]
        if config.optimizer == "adam":
            optimizer = torch.optim.Adam(params, eps=config.optim_eps)
        else:
            optimizer = torch.optim.RMSprop(params, alpha=config.optim_alpha, eps=config.optim_eps)
        self.register_optimizer(module_id=module_id, optimizer=optimizer, params=params, lr_or_lr_schedule=config.lr)

    @override(TorchLearner)
    def compute_loss_for_module(self, *, module_id: ModuleID, config: Any, batch: dict, fwd_out: dict) -> torch.Tensor:
        mask = batch[K.MASK]
        targets = td_lambda_targets(
            batch[K.REWARDS],
            batch[K.TERMINATED],
            mask,
            fwd_out[K.TARGET_NEXT_TOT],
            gamma=config.gamma,
            td_lambda=config.td_lambda,
        ).detach()
        q_tot = fwd_out[K.Q_TAKEN_TOT]
        loss = masked_mse(q_tot, targets, mask)
        if K.LOSS_SCALE in batch:  # a data-parallel shard: weight by its share of transitions
            loss = loss * batch[K.LOSS_SCALE][0]

        with torch.no_grad():
            m = mask if q_tot.dim() == mask.dim() else mask.unsqueeze(-1).expand_as(q_tot)
            denom = m.sum().clamp(min=1.0)
            q_mask = mask.unsqueeze(-1).expand_as(fwd_out[K.Q_TAKEN])
            self.metrics.log_dict(
                {
                    TD_LOSS: loss,
                    TD_ERROR_ABS: ((q_tot - targets).abs() * m).sum() / denom,
                    Q_TAKEN_MEAN: (fwd_out[K.Q_TAKEN] * q_mask).sum() / q_mask.sum().clamp(min=1.0),
                    TARGET_MEAN: (targets * m).sum() / denom,
                },
                key=module_id,
                window=1,
            )
        return loss

    @override(TorchLearner)
    def after_gradient_based_update(self, *, timesteps: dict[str, Any]) -> None:
        super().after_gradient_based_update(timesteps=timesteps)
        self._num_updates += 1
        tau = self.config.target_update_tau
        for _module_id, module in self.module._rl_modules.items():
            module = module.unwrapped() if hasattr(module, "unwrapped") else module
            if tau is not None:
                module.update_targets(tau)
                self._num_target_updates += 1
            elif self._num_updates % self.config.target_update_interval == 0:
                module.update_targets(1.0)
                self._num_target_updates += 1

    @override(TorchLearner)
    def get_state(self, *args, **kwargs) -> dict:
        state = super().get_state(*args, **kwargs)
        state["qmix_counters"] = {"num_updates": self._num_updates, "num_target_updates": self._num_target_updates}
        return state

    @override(TorchLearner)
    def set_state(self, state: dict) -> None:
        super().set_state(state)
        counters = state.get("qmix_counters")
        if counters:
            self._num_updates = int(counters["num_updates"])
            self._num_target_updates = int(counters["num_target_updates"])
