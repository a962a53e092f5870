"""``--reuse`` on a real local cluster: workers keep map outputs in the host's cache, a rerun
with only the reducer changed reuses every map (after a coordinator restart too), a
corrupt kept output is mapped again, and the output is byte for byte a fresh run's."""

from __future__ import annotations

import os
import shutil

from tests.helpers import PATIENT_S, output_bytes
from tests.reuse_jobs import edit, write_inputs, write_job_dir
from zmr.cli.usage import reused_note
from zmr.runners.local import LocalCluster
from zmr.storage.map_cache import OUTPUT, MapCache


def _corrupt(path: str) -> None:
    data = bytearray(open(path, "rb").read())
    data[len(data) // 3] ^= 0x55
    os.unlink(path)              # a file of its own: links to the old one stay intact
    with open(path, "wb") as f:
        f.write(bytes(data))


def test_reuse_on_a_cluster_through_a_coordinator_restart(tmp_path):
    job = write_job_dir(tmp_path / "job")
    data = write_inputs(tmp_path / "data")
    cache_dir = str(tmp_path / "cache")
    settings = {("worker", "reuse_dir"): cache_dir}
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c"), settings=settings) as cluster:
        def run(name: str):
            return cluster.run(job, [data], str(tmp_path / name), reducers=2, reuse=True,
                               progress=False)

        first = run("first")
        assert first.maps_reused == 0 and first.num_maps == 6
        cache = MapCache(cache_dir, 1 << 30)
        assert len(cache.keys()) == 6

        edit(job, "def reducer(word, counts):\n    yield word, sum(counts)",
             "def reducer(word, counts):\n    yield word, sum(counts) * 3")
        changed = run("changed")
        assert changed.maps_reused == changed.num_maps == 6
        status = cluster.client.status(changed.job_id)[0]         # what zmr status shows
        assert reused_note(status["counters"], status["maps_total"]) == " (map 6/6 reused)"

        _corrupt(os.path.join(cache.entry_dir(sorted(cache.keys())[0]), OUTPUT))
        cluster.restart_coordinator()
        cluster.wait_for_workers(2, timeout_s=PATIENT_S)
        restarted = run("restarted")
        assert restarted.maps_reused == 5         # the corrupt one was mapped again

        shutil.rmtree(cache_dir)
        fresh = run("fresh")
        assert fresh.maps_reused == 0
    assert output_bytes(changed.output) == output_bytes(fresh.output)
    assert output_bytes(restarted.output) == output_bytes(fresh.output)
    assert output_bytes(first.output) != output_bytes(fresh.output)    # the reducer changed
