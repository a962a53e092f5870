"""A real single-node Slurm (slurmctld + slurmd + munge from Debian's packages) for the
tests of this folder, brought up by ``setup_slurm.sh`` and stopped again afterwards when
this session started it. Tests skip, with the script's reason, only where it cannot be
brought up: not root, no apt-get to install the packages, or slurmd failing to start."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import PATIENT_S

SETUP = Path(__file__).resolve().parent / "setup_slurm.sh"
SLURM_DIR = Path(os.environ.get("ZMR_SLURM_DIR", "/tmp/zmr-slurm"))


def _node_idle(env: dict[str, str]) -> bool:
    if shutil.which("sinfo") is None or not (SLURM_DIR / "slurm.conf").exists():
        return False
    out = subprocess.run(["sinfo", "-h", "-N", "-o", "%t"], env=env, capture_output=True,
                         text=True, check=False)
    return out.stdout.split()[:1] == ["idle"]


@pytest.fixture(scope="session")
def slurm_env() -> Iterator[dict[str, str]]:
    """The environment that reaches the test's Slurm (``SLURM_CONF``)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("Slurm test needs root on Linux (installs slurm-wlm/munge, runs slurmd)")
    env = dict(os.environ, SLURM_CONF=str(SLURM_DIR / "slurm.conf"),
               ZMR_SLURM_DIR=str(SLURM_DIR))
    already_up = _node_idle(env)
    # apt-get may take minutes on a clean machine; bringing the daemons up takes seconds
    proc = subprocess.run(["bash", str(SETUP), "start"], env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or ["no reason given"])[-1]
        pytest.skip(f"no single-node Slurm here: {reason}")
    yield env
    if not already_up:
        subprocess.run(["bash", str(SETUP), "stop"], env=env, check=False, timeout=PATIENT_S)
