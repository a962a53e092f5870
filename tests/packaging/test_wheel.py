"""From a wheel installed in a fresh venv, outside the checkout, as a new user would:
``zmr --version``, ``zmr config init``, ``zmr examples``, ``zmr cluster start 2``, a job,
``zmr cluster status`` and ``zmr cluster stop``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.packaging.minimums import ROOT
from zmr.transport.sockets import free_port

pytestmark = pytest.mark.slow


def _run(args, cwd, env, timeout=300):
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def test_wheel_in_a_fresh_venv(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ZMR_CONFIG")}
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
          str(tmp_path / "dist"), str(ROOT)], tmp_path, env)
    wheel = next((tmp_path / "dist").glob("zmr-*.whl"))
    # the venv sees the machine's packages, so only zmr itself is installed into it
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(tmp_path / "venv")],
         tmp_path, env)
    _run([str(tmp_path / "venv/bin/python"), "-m", "pip", "install", "-q", "--no-deps",
          str(wheel)], tmp_path, env)
    home = tmp_path / "user"
    home.mkdir()
    env["PATH"] = f"{tmp_path / 'venv/bin'}{os.pathsep}{env['PATH']}"
    assert _run(["zmr", "--version"], home, env).startswith("zmr ")
    assert "zmr/__init__.py" in _run(["python", "-c", "import zmr; print(zmr.__file__)"],
                                     home, env).replace(os.sep, "/")
    _run(["zmr", "config", "init"], home, env)
    assert "[coordinator]" in (home / "conf/cluster.toml").read_text()
    _run(["zmr", "examples", "ex"], home, env)
    assert (home / "ex/jobs/wordcount.py").exists()
    assert (home / "ex/data/sample/chapter1.txt").exists()
    env.update(ZMR_CONFIG="conf/cluster.toml",   # free ports: other clusters may run here
               ZMR_COORDINATOR_CONTROL_PORT=str(free_port()),
               ZMR_COORDINATOR_HEARTBEAT_PORT=str(free_port()),
               ZMR_COORDINATOR_REPORT_PORT=str(free_port()),
               ZMR_COORDINATOR_STATE_DIR=str(home / "state"),
               ZMR_WORKER_DATA_DIR=str(home / "data"))
    try:
        _run(["zmr", "cluster", "start", "2"], home, env)
        assert "2 worker(s) registered" in _run(["zmr", "cluster", "status"], home, env)
        _run(["zmr", "submit", "--wait", "ex/jobs/wordcount.py", "--input", "ex/data/sample",
              "--output", "out/wordcount"], home, env)
        assert (home / "out/wordcount/_SUCCESS").exists()
        counts = dict(line.split("\t") for p in sorted((home / "out/wordcount").glob(
            "part-*")) for line in p.read_text().splitlines())
        assert int(counts["the"]) > 10
    finally:
        stopped = _run(["zmr", "cluster", "stop"], home, env)
    assert "coordinator stopped" in stopped
