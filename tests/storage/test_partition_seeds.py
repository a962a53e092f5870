"""Partitioning is deterministic across processes: Python interpreters with different hash
seeds send every key to the same reducer (the in-process properties:
tests/unit/storage/test_partition.py)."""

from __future__ import annotations

import subprocess
import sys


def test_same_partitions_in_processes_with_different_hash_seeds():
    script = ("from zmr.storage import codec, partition;"
              "print(list(partition.partition_ids(codec.encode_keys("
              "['alpha','beta','gamma','delta','x']), 5)))")
    outputs = {
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
                       check=True).stdout
        for seed in ("1", "2", "12345")
    }
    assert len(outputs) == 1
