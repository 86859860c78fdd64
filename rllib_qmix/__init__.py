"""rllib_qmix: QMIX for Ray RLlib's new API stack, with an embedded SMAC-compatible simulator.

Importing the package registers the algorithm "QMIX" and the envs "smac" and
"two_step_game" with Ray Tune's registry, so ``tune.Tuner("QMIX", ...)``,
``get_trainable_cls("QMIX")`` and ``config.environment("smac", ...)`` work.
"""

from ray.tune.registry import register_env, register_trainable

from rllib_qmix.envs.matrix import TwoStepGame
from rllib_qmix.envs.smac_rllib import SMACMultiAgentEnv
from rllib_qmix.qmix import QMIX, QMIXConfig

__all__ = ["QMIX", "QMIXConfig", "SMACMultiAgentEnv", "TwoStepGame"]
__version__ = "0.1.0"

register_trainable("QMIX", QMIX)
register_env("smac", lambda env_config: SMACMultiAgentEnv(env_config))
register_env("two_step_game", lambda env_config: TwoStepGame(env_config))
