"""The pure parts of zmr slurm: reading the allocation, scratch folders, worker ids and
commands, the environment handed to the cluster, the printed batch script, and the
errors outside an allocation. (The real thing under Slurm: tests/slurm/.)"""

from __future__ import annotations

import signal

import pytest

import zmr.runners.slurm as slurm
from zmr.cli.main import main
from zmr.core.errors import ConfigError
from zmr.runners.slurm import Allocation, SlurmSession, node_address, node_worker_command


def test_outside_an_allocation_is_a_usage_error():
    with pytest.raises(ConfigError, match="SLURM_JOB_ID is not set"):
        Allocation.from_environment({})
    with pytest.raises(ConfigError, match="SLURM_JOB_ID is not set"):
        node_worker_command(environ={})


def test_allocation_from_slurm_variables(monkeypatch):
    monkeypatch.setattr(slurm.shutil, "which", lambda name: None)   # no scontrol here
    alloc = Allocation.from_environment({"SLURM_JOB_ID": "42", "SLURM_JOB_NODELIST": "n1,n2",
                                         "SLURM_CPUS_ON_NODE": "8(x2)"})
    assert (alloc.job_id, alloc.nodes, alloc.cpus_on_node) == ("42", ("n1", "n2"), 8)
    assert alloc.multi_node
    with pytest.raises(ConfigError, match="SLURM_JOB_NODELIST"):
        Allocation.from_environment({"SLURM_JOB_ID": "42", "SLURM_JOB_NODELIST": "n[1-2]"})


def test_scratch_is_node_local_tmpdir_or_tmp(tmp_path):
    assert slurm.scratch_dir("7", {"TMPDIR": str(tmp_path)}) == tmp_path / "zmr-7"
    assert str(slurm.scratch_dir("7", {})) == "/tmp/zmr-7"


def test_node_worker_gets_its_own_data_dir_and_id(tmp_path, monkeypatch):
    monkeypatch.setenv("ZMR_WORKER_DATA_DIR", "")      # restored after the test
    command = node_worker_command("info", {"SLURM_JOB_ID": "7", "SLURMD_NODENAME": "n1",
                                           "SLURM_PROCID": "3", "TMPDIR": str(tmp_path)})
    assert command[1:] == ["-m", "zmr.worker", "--log-level", "info", "--id", "slurm7-n1-3"]
    assert (tmp_path / "zmr-7" / "workers").is_dir()
    assert slurm.os.environ["ZMR_WORKER_DATA_DIR"] == str(tmp_path / "zmr-7" / "workers")


def test_loopback_node_address_is_refused_by_name():
    with pytest.raises(ConfigError, match="'localhost' resolves to the loopback"):
        node_address("localhost")


def test_one_node_stays_on_loopback_with_free_ports(monkeypatch):
    monkeypatch.delenv("ZMR_WORKER_SLOTS", raising=False)
    monkeypatch.delenv("ZMR_DASHBOARD_PORT", raising=False)
    session = SlurmSession(Allocation("9", ("n1",), 6), workers_per_node=2)
    env = session.cluster_environment()
    assert env["ZMR_COORDINATOR_HOST"] == "127.0.0.1"
    ports = {env[f"ZMR_COORDINATOR_{k}_PORT"] for k in ("CONTROL", "HEARTBEAT", "REPORT")}
    assert len(ports) == 3 and all(int(p) > 0 for p in ports)
    assert (env["ZMR_DASHBOARD_PORT"], env["ZMR_WORKER_SLOTS"]) == ("-1", "3")
    assert env["ZMR_COORDINATOR_STATE_DIR"].endswith("zmr-9/coordinator")
    assert "ZMR_SECURITY_CURVE" not in env and session.expected_workers == 2
    with pytest.raises(ConfigError, match="--workers-per-node must be >= 1"):
        SlurmSession(Allocation("9", ("n1",), 6), workers_per_node=0)


def test_printed_batch_script(capsys):
    assert main(["slurm", "script", "--nodes", "3", "--time", "00:30:00"]) == 0
    script = capsys.readouterr().out
    assert script.startswith("#!/bin/bash\n")
    for line in ("#SBATCH --nodes=3", "#SBATCH --time=00:30:00", "#SBATCH --signal=B:USR1@120",
                 '-m zmr slurm run --workers-per-node 1 "$@"'):
        assert line in script


def test_run_outside_an_allocation_exits_2(monkeypatch, capsys):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGUSR1, signal.SIGHUP)}
    try:
        assert main(["slurm", "run", "job.py", "--input", "x", "--output", "y"]) == 2
        assert "run it inside an allocation" in capsys.readouterr().err
        assert main(["slurm", "run"]) == 2
        assert "name the job" in capsys.readouterr().err
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
