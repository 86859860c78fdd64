"""rllib_qmix: QMIX for Ray RLlib's new API stack, with an embedded SMAC-compatible simulator.

Importing the package registers the algorithm "QMIX" and the envs "smac", "smacv2",
"two_step_game", "mpe_simple_spread", "mpe_simple_speaker_listener", "lbf" and "rware" with Ray
Tune's registry, so ``tune.Tuner("QMIX", ...)``, ``get_trainable_cls("QMIX")`` and
``config.environment("smac", ...)`` work (the last four need mpe2, lbforaging and rware: mpe2's
simple_spread_v3 and simple_speaker_listener_v4, Level-Based Foraging, Multi-Robot Warehouse).
"""

from ray.tune.registry import register_env, register_trainable

from rllib_qmix.algorithm.placement import PlacementError
from rllib_qmix.algorithm.qmix import QMIX, QMIXConfig
from rllib_qmix.deploy.team_policy import TeamPolicy
from rllib_qmix.envs.gym_tuple import make_lbf, make_rware
from rllib_qmix.envs.matrix import TwoStepGame
from rllib_qmix.envs.mpe import make_simple_speaker_listener, make_simple_spread
from rllib_qmix.envs.smac_rllib import SMACMultiAgentEnv
from rllib_qmix.envs.smacv2_rllib import SMACv2MultiAgentEnv
from rllib_qmix.learning.learner import LearnerDiedError, NonFiniteUpdateError
from rllib_qmix.migration.pymarl import from_pymarl

__all__ = [
    "QMIX",
    "LearnerDiedError",
    "NonFiniteUpdateError",
    "PlacementError",
    "QMIXConfig",
    "SMACMultiAgentEnv",
    "SMACv2MultiAgentEnv",
    "QMixConfig",
    "TeamPolicy",
    "TwoStepGame",
    "from_pymarl",
]
#: Old RLlib's spelling, so that ``from rllib_qmix import QMixConfig`` replaces
#: ``from ray.rllib.algorithms.qmix import QMixConfig`` unchanged.
QMixConfig = QMIXConfig
__version__ = "0.1.0"


def register() -> None:
    """Registers "QMIX" and the envs with Tune's registry (done on import and on every ``ray.init``).

    Tune keeps registrations in the running Ray's key-value store, so a ``ray.shutdown()``
    followed by ``ray.init()`` in the same process (tests, notebooks, a reconnect to a
    cluster) would otherwise lose them.
    """
    register_trainable("QMIX", QMIX)
    register_env("smac", lambda env_config: SMACMultiAgentEnv(env_config))
    register_env("smacv2", lambda env_config: SMACv2MultiAgentEnv(env_config))
    register_env("two_step_game", lambda env_config: TwoStepGame(env_config))
    register_env("mpe_simple_spread", make_simple_spread)
    register_env("mpe_simple_speaker_listener", make_simple_speaker_listener)
    register_env("lbf", make_lbf)
    register_env("rware", make_rware)


register()
try:  # Ray runs these after every ray.init (Tune's registry flushes itself the same way).
    import ray._private.worker as _ray_worker

    if register not in _ray_worker._post_init_hooks:
        _ray_worker._post_init_hooks.append(register)
except (ImportError, AttributeError):  # pragma: no cover - a Ray without the hook list
    pass
