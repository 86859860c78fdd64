"""QMIXTorchLearner: the coupled QMIX loss, the optimizer, target-network syncs, and the
guard that skips non-finite updates."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch
from ray.rllib.core import DEFAULT_MODULE_ID
from ray.rllib.core.learner.torch.torch_learner import TorchLearner
from ray.rllib.utils.annotations import override
from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME
from ray.rllib.utils.typing import ModuleID, ParamDict, TensorType

from rllib_qmix import keys as K
from rllib_qmix.learning.memory import keep_freed_memory
from rllib_qmix.learning.targets import episode_td_statistic, masked_mse, td_lambda_targets

TD_LOSS = "td_loss"
TD_ERROR_ABS = "td_error_abs"
Q_TAKEN_MEAN = "q_taken_mean"
TARGET_MEAN = "target_mean"
#: Updates skipped because a value was non-finite, since the start (lifetime count).
NUM_NONFINITE_UPDATES = "num_nonfinite_updates"
#: Non-finite updates in a row, up to the last update (0 after a finite one).
NONFINITE_UPDATES_IN_A_ROW = "nonfinite_updates_in_a_row"

#: What is checked for non-finite values in every update, in the order of the computation; an
#: error names the first one that is non-finite.
NONFINITE_QUANTITIES = ("agent Q-values", "TD targets", "mixer output Q_tot", "loss", "gradient norm")


class LearnerDiedError(RuntimeError):
    """A remote learner actor died; the run stops and resumes from its last checkpoint."""


class NonFiniteUpdateError(RuntimeError):
    """Raised after ``max_nonfinite_updates`` learner updates in a row had non-finite values.

    Each of those updates was skipped (no optimizer step), so the weights and the optimizer
    state are the last finite ones.
    """


def _nonfinite(x: torch.Tensor, real: Optional[torch.Tensor] = None) -> torch.Tensor:
    """1.0 if ``x`` has a non-finite value (at the ``real`` entries only, if given), else 0.0;
    a tensor, so that no check waits for the device."""
    ok = torch.isfinite(x)
    if real is not None:
        ok = ok | ~real.expand_as(ok)
    return (~ok.all()).float()


class QMIXTorchLearner(TorchLearner):
    """Masked TD(lambda) loss on mixed Q-values, one optimizer over agent and mixer.

    The RLModule's ``_forward_train`` computes ``Q_tot`` of the taken actions and the target
    network's (double-Q) value of the next step; this learner forms the targets, the masked
    mean squared TD error over real transitions, and syncs the targets (a hard copy every
    ``target_update_interval`` updates, or a soft update with ``target_update_tau``).

    Every update is checked for non-finite values (agent Q-values, TD targets, ``Q_tot``, the
    loss, the global gradient norm before clipping). An update with one is skipped: no optimizer
    step, no target update, weights and optimizer state unchanged. Skips are counted
    (``num_nonfinite_updates``, ``nonfinite_updates_in_a_row``) and ``max_nonfinite_updates``
    in a row raise a ``NonFiniteUpdateError`` that names the first non-finite quantity.
    """

    @override(TorchLearner)
    def build(self) -> None:
        if self.config.reuse_freed_memory:
            keep_freed_memory()
        self._num_updates = 0
        self._num_target_updates = 0
        self._last_target_env_steps = 0  # env steps sampled at the last copy (target_update_env_steps)
        self._num_skipped = 0  # updates skipped for non-finite values (all modules together)
        self._nonfinite_total: dict[ModuleID, int] = {}
        self._nonfinite_in_a_row: dict[ModuleID, int] = {}
        self._forward_flags: dict[ModuleID, torch.Tensor] = {}
        self._skip_update = False
        self._td_statistics: Optional[torch.Tensor] = None  # of the last update (prioritised replay)
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
            next_greedy=fwd_out[K.NEXT_GREEDY] if config.td_lambda_trace == "watkins" else None,
        ).detach()
        q_tot = fwd_out[K.Q_TAKEN_TOT]
        weights = batch[K.PER_WEIGHTS] if K.PER_WEIGHTS in batch else None
        loss = masked_mse(q_tot, targets, mask, weights)
        if weights is not None:  # prioritised replay: the sampled episodes' new priorities
            self._td_statistics = episode_td_statistic(q_tot.detach(), targets, mask)
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
            # Checked on real transitions only, in NONFINITE_QUANTITIES' order.
            self._forward_flags[module_id] = torch.stack(
                [
                    _nonfinite(fwd_out[K.Q_TAKEN], q_mask > 0),
                    _nonfinite(targets, m > 0),
                    _nonfinite(q_tot, m > 0),
                    _nonfinite(loss),
                ]
            )
        return loss

    @override(TorchLearner)
    def compute_gradients(self, loss_per_module: dict[ModuleID, TensorType], **kwargs: Any) -> ParamDict:
        """The gradients (RLlib's), then the check of this update for non-finite values.

        Raises:
            NonFiniteUpdateError: ``max_nonfinite_updates`` updates in a row were non-finite.
        """
        gradients = super().compute_gradients(loss_per_module, **kwargs)
        self._check_finite(gradients)
        return gradients

    @override(TorchLearner)
    def apply_gradients(self, gradients_dict: ParamDict) -> None:
        """RLlib's optimizer step, unless this update had a non-finite value: then nothing
        changes (no step, so the optimizer's moments and step counts stay as they were)."""
        if self._skip_update:
            for param in self._params.values():
                param.grad = None
            return
        super().apply_gradients(gradients_dict)

    def td_statistics(self) -> Optional[np.ndarray]:
        """The priority statistic of each episode of this learner's last batch (prioritised
        replay; ``rllib_qmix.learning.targets.episode_td_statistic``), or None."""
        stats = self._td_statistics
        return None if stats is None else stats.float().cpu().numpy()

    def _module_gradient_norm(self, module_id: ModuleID, gradients: ParamDict) -> torch.Tensor:
        """The global norm of ``module_id``'s gradients before clipping (0 without any)."""
        norms = [
            torch.linalg.vector_norm(g.detach())
            for _, optimizer in self.get_optimizers_for_module(module_id)
            for g in self.filter_param_dict_for_optimizer(gradients, optimizer).values()
            if g is not None
        ]
        if not norms:
            return torch.zeros((), device=self._device)
        return torch.linalg.vector_norm(torch.stack(norms))

    def _check_finite(self, gradients: ParamDict) -> None:
        """Decides whether this update is applied; counts, logs and raises (see the class)."""
        module_ids = [mid for mid in self.module.keys() if mid in self._forward_flags]
        self._skip_update = False
        if not module_ids:
            return
        flags = torch.stack(
            [
                torch.cat([self._forward_flags[mid], _nonfinite(self._module_gradient_norm(mid, gradients)).view(1)])
                for mid in module_ids
            ]
        )
        self._forward_flags = {}
        if self.config.num_learners > 1 and torch.distributed.is_available() and torch.distributed.is_initialized():
            # Data-parallel learners skip together: a value non-finite in any shard counts for all.
            torch.distributed.all_reduce(flags, op=torch.distributed.ReduceOp.MAX)
        flags = flags.cpu().numpy() > 0  # one wait for the device per update
        self._skip_update = bool(flags.any())
        if self._skip_update:
            self._num_skipped += 1
        failed = None
        for mid, row in zip(module_ids, flags):
            total = self._nonfinite_total.get(mid, 0) + int(row.any())
            in_a_row = self._nonfinite_in_a_row.get(mid, 0) + 1 if row.any() else 0
            self._nonfinite_total[mid], self._nonfinite_in_a_row[mid] = total, in_a_row
            counts = {NUM_NONFINITE_UPDATES: total, NONFINITE_UPDATES_IN_A_ROW: in_a_row}
            self.metrics.log_dict(counts, key=mid, window=1)
            if in_a_row >= self.config.max_nonfinite_updates and failed is None:
                failed = (mid, NONFINITE_QUANTITIES[int(row.argmax())], in_a_row)
        if failed is not None:
            raise NonFiniteUpdateError(self._error_message(*failed))

    def _error_message(self, module_id: ModuleID, quantity: str, in_a_row: int) -> str:
        """One line: which update, what went non-finite first, and what to try."""
        cfg = self.config
        module = "" if module_id == DEFAULT_MODULE_ID else f" of module '{module_id}'"
        updates = "1 update was" if in_a_row == 1 else f"{in_a_row} updates in a row were"
        off = ", ".join(f"{key}=True" for key in ("normalize_state", "normalize_obs") if not getattr(cfg, key))
        inputs = f"training({off}) for inputs far outside [-1, 1], " if off else ""
        return (
            f"learner update {self._num_updates + self._num_skipped}{module}: {updates} "
            f"non-finite and skipped (first non-finite value in the last one: {quantity}); the weights are the "
            f"last finite ones. Try {inputs}a lower lr (now {cfg.lr}) or grad_clip (now {cfg.grad_clip})."
        )

    @override(TorchLearner)
    def after_gradient_based_update(self, *, timesteps: dict[str, Any]) -> None:
        super().after_gradient_based_update(timesteps=timesteps)
        if self._skip_update:  # a skipped update moves no weights, the targets included
            self._skip_update = False
            return
        self._num_updates += 1
        tau, every_env_steps = self.config.target_update_tau, self.config.target_update_env_steps
        if every_env_steps is not None:  # old RLlib QMIX's rule: a copy once N env steps were sampled since the last
            env_steps = int((timesteps or {}).get(NUM_ENV_STEPS_SAMPLED_LIFETIME, 0))
            copy_now = env_steps - self._last_target_env_steps >= every_env_steps
            if copy_now:
                self._last_target_env_steps = env_steps
        else:
            copy_now = self._num_updates % self.config.target_update_interval == 0
        for _module_id, module in self.module._rl_modules.items():
            module = module.unwrapped() if hasattr(module, "unwrapped") else module
            if tau is not None:
                module.update_targets(tau)
                self._num_target_updates += 1
            elif copy_now:
                module.update_targets(1.0)
                self._num_target_updates += 1

    @override(TorchLearner)
    def get_state(self, *args, **kwargs) -> dict:
        state = super().get_state(*args, **kwargs)
        state["qmix_counters"] = {
            "num_updates": self._num_updates,
            "num_target_updates": self._num_target_updates,
            "last_target_env_steps": self._last_target_env_steps,
            "num_skipped": self._num_skipped,
            NUM_NONFINITE_UPDATES: dict(self._nonfinite_total),
            NONFINITE_UPDATES_IN_A_ROW: dict(self._nonfinite_in_a_row),
        }
        return state

    @override(TorchLearner)
    def set_state(self, state: dict) -> None:
        super().set_state(state)
        counters = state.get("qmix_counters")
        if counters:
            self._num_updates = int(counters["num_updates"])
            self._num_target_updates = int(counters["num_target_updates"])
            self._last_target_env_steps = int(counters.get("last_target_env_steps", 0))
            self._num_skipped = int(counters.get("num_skipped", 0))
            self._nonfinite_total = dict(counters.get(NUM_NONFINITE_UPDATES, {}))
            self._nonfinite_in_a_row = dict(counters.get(NONFINITE_UPDATES_IN_A_ROW, {}))
