"""The learner's malloc setting (``reuse_freed_memory``): applied where glibc is, only when asked."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from rllib_qmix import QMIXConfig
from rllib_qmix.learning.memory import freed_memory_kept, keep_freed_memory

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

BUILD = """
from ray.rllib.core import DEFAULT_MODULE_ID
from rllib_qmix import QMIXConfig
from rllib_qmix.envs.team import TeamSpec
from rllib_qmix.learning.memory import freed_memory_kept
spec = TeamSpec(n_agents=2, obs_dim=3, state_dim=4, n_actions=3)
config = QMIXConfig().training(reuse_freed_memory={flag})
config.build_learner(spaces={{DEFAULT_MODULE_ID: (spec.observation_space(), spec.action_space())}})
print("KEPT", freed_memory_kept())
"""


@pytest.mark.parametrize("flag", [True, False])
def test_the_learner_sets_malloc_only_when_asked(flag):
    out = subprocess.run([sys.executable, "-c", BUILD.format(flag=flag)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"KEPT {flag and GLIBC}" in out.stdout


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc only")
def test_keep_freed_memory_is_idempotent():
    assert keep_freed_memory() and keep_freed_memory() and freed_memory_kept()


def test_reuse_freed_memory_must_be_a_bool():
    with pytest.raises(ValueError, match="`reuse_freed_memory` must be True or False"):
        QMIXConfig().environment("two_step_game").training(reuse_freed_memory="yes").validate()
