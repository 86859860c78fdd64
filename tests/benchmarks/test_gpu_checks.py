"""scripts/gpu_checks.sh refuses clearly where it can't run (CI has no GPU); its docs speak to users."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]


def _bash(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["bash", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA machine runs the checks instead")
def test_gpu_checks_refuses_without_cuda() -> None:
    proc = _bash("scripts/gpu_checks.sh", "gputest")
    assert proc.returncode == 1
    assert "no CUDA device" in proc.stderr and "make train PIP_CONSTRAINTS=" in proc.stderr


def test_gpu_checks_names_its_steps() -> None:
    proc = _bash("scripts/gpu_checks.sh", "gputest", "warp")  # refused before anything runs
    assert proc.returncode == 2 and "unknown step 'warp' (gputest, 3m, scale, mmm2)" in proc.stderr
