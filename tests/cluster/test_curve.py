"""CurveZMQ on a real cluster: a job runs with every socket encrypted and authenticated,
and peers whose keys are not listed cannot register, submit, read status or fetch shuffle
data; each refusal is logged with the peer's address."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import uuid

import pytest

from tests.helpers import EXAMPLES, PATIENT_S, output_bytes, wait_until, write_lines
from zmr.client import Client
from zmr.config import load_config, write_config
from zmr.core.errors import ConfigError, ZmrError
from zmr.protocol.messages import ShuffleChunk, ShuffleRequest
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster
from zmr.transport.security import (
    AUTHORIZED,
    check_exposure,
    generate_keys,
    load_curve,
)
from zmr.transport.sockets import PULL, PUSH, Channel, bound_endpoint, make_socket, poll

WORDCOUNT = os.path.join(EXAMPLES, "wordcount.py")


def _keys(tmp_path) -> str:
    keys = str(tmp_path / "keys")
    generate_keys(keys)
    generate_keys(keys, ("intruder",))
    os.unlink(os.path.join(keys, AUTHORIZED, "intruder.key"))     # a pair nobody listed
    return keys


def _variant(cluster: LocalCluster, name: str, **security) -> str:
    """The cluster's config with some [security] settings changed."""
    path = os.path.join(cluster.base_dir, f"{name}.toml")
    write_config(path, {**cluster.settings, **{("security", k): v for k, v in security.items()}})
    return path


def _log(cluster: LocalCluster, name: str) -> str:
    with open(os.path.join(cluster.base_dir, "logs", f"{name}.log"), encoding="utf-8") as f:
        return f.read()


def _ask_shuffle(endpoint: str, server_key: bytes, curve, timeout_s: float):
    """Send one shuffle request as ``curve``'s owner; the first chunk back, or None."""
    inbox = Channel(make_socket(PULL, bind="tcp://127.0.0.1:*", curve=curve), "in")
    outbox = Channel(make_socket(PUSH, connect=endpoint, curve=curve, server_key=server_key),
                     "out")
    try:
        outbox.send(ShuffleRequest(uuid.uuid4().hex, "job-0001", "/etc/passwd", 0, 10,
                                   bound_endpoint(inbox.sock), 1, curve.public.decode()))
        if not poll([inbox], timeout_s):
            return None
        return inbox.recv()[1]
    finally:
        inbox.close()
        outbox.close()


def test_curve_cluster_runs_jobs_and_refuses_unlisted_peers(tmp_path):
    keys = _keys(tmp_path)
    inputs = write_lines(tmp_path / "in", files=3, lines_per_file=300)
    security = {("security", "curve"): True, ("security", "keys_dir"): keys}
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c"), settings=security) as cluster:
        job = cluster.client.submit(WORDCOUNT, [inputs], str(tmp_path / "out"), reducers=3,
                                    split_size=2048)
        assert job.wait(timeout_s=PATIENT_S)["state"] == "SUCCEEDED"

        # refused peers get no answer at all: a short wait is all the refusal needs
        intruder = Client(_variant(cluster, "intruder", client_key="intruder"), timeout_s=3)
        with pytest.raises(ZmrError, match="authorized"):
            intruder.status()
        intruder.close()
        plaintext = Client(_variant(cluster, "plain", curve=False), timeout_s=2)
        with pytest.raises(ZmrError, match="did not answer"):
            plaintext.submit(WORDCOUNT, [inputs], str(tmp_path / "rogue-out"))
        plaintext.close()
        assert not os.path.exists(tmp_path / "rogue-out")

        cluster.add_worker("rogue", _variant(cluster, "rogue", worker_key="intruder"))
        wait_until(lambda: _log(cluster, "coordinator").count("refused a connection") >= 2)
        time.sleep(1.0)
        assert sorted(w["worker_id"] for w in cluster.client.workers()) == ["local-1", "local-2"]
        assert "refused a connection from 127.0.0.1" in _log(cluster, "coordinator")

        worker = cluster.client.workers()[0]
        holder_key = load_curve(keys, "worker").public
        listed = _ask_shuffle(worker["shuffle_endpoint"], holder_key, load_curve(keys, "worker"),
                              PATIENT_S)
        assert isinstance(listed, ShuffleChunk) and "not a map output" in listed.error
        assert _ask_shuffle(worker["shuffle_endpoint"], holder_key,
                            load_curve(keys, "intruder"), 2.0) is None
        wait_until(lambda: "refused a connection from 127.0.0.1" in _log(cluster,
                                                                          worker["worker_id"]))
    run_inline(WORDCOUNT, [inputs], str(tmp_path / "inline"), reducers=3)
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))


def test_keygen_writes_private_keys_0600_and_lists_public_ones(tmp_path):
    keys = str(tmp_path / "keys")
    run = subprocess.run([sys.executable, "-m", "zmr", "keygen", "--keys-dir", keys],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    for name in ("coordinator", "worker", "client"):
        assert stat.S_IMODE(os.stat(os.path.join(keys, f"{name}.key_secret")).st_mode) == 0o600
    assert sorted(os.listdir(os.path.join(keys, AUTHORIZED))) == ["client.key", "worker.key"]
    again = subprocess.run([sys.executable, "-m", "zmr", "keygen", "--keys-dir", keys],
                           capture_output=True, text=True)
    assert again.returncode == 2 and "--force" in again.stderr


def test_a_secret_key_others_can_read_is_refused(tmp_path):
    keys = str(tmp_path / "keys")
    generate_keys(keys)
    secret = os.path.join(keys, "worker.key_secret")
    os.chmod(secret, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_curve(keys, "worker")
    with pytest.raises(ConfigError, match="nobody.key_secret.*zmr keygen"):
        load_curve(keys, "nobody")


def test_non_loopback_without_curve_is_refused_at_start(tmp_path):
    config = str(tmp_path / "open.toml")
    write_config(config, {("coordinator", "host"): "0.0.0.0",
                          ("coordinator", "state_dir"): str(tmp_path / "state"),
                          ("dashboard", "port"): -1})
    run = subprocess.run([sys.executable, "-m", "zmr.coordinator", config],
                         capture_output=True, text=True, timeout=PATIENT_S)
    assert run.returncode == 2
    assert "0.0.0.0" in run.stderr and "allow_insecure" in run.stderr
    worker = subprocess.run([sys.executable, "-m", "zmr.worker", config],
                            capture_output=True, text=True, timeout=PATIENT_S)
    assert worker.returncode == 2 and "allow_insecure" in worker.stderr
    assert load_config(config).security.curve is False


def test_allow_insecure_only_warns(caplog):
    check_exposure({"[coordinator] host": "127.0.0.5"}, False, False, "c.toml")   # loopback
    with pytest.raises(ConfigError, match="10.1.2.3"):
        check_exposure({"[worker] shuffle_host": "10.1.2.3"}, False, False, "c.toml")
    check_exposure({"[worker] shuffle_host": "10.1.2.3"}, True, False, "c.toml")  # curve on
    check_exposure({"[worker] shuffle_host": "10.1.2.3"}, False, True, "c.toml")
    assert "WITHOUT authentication" in caplog.text
