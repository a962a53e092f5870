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


def test_a_map_whose_split_was_cut_while_it_ran_is_not_kept(tmp_path):
    """Dynamic rebalancing cut the running map's split: its output is of the head only,
    which no later plan cuts, so it is not kept under the planned split's fingerprint
    (the remainder's map is kept, under its own range); a rerun maps the planned split."""
    from tests.helpers import JOBS, wait_until

    data = tmp_path / "in"
    data.mkdir()
    (data / "one.txt").write_text("".join(f"{i % 89:02d}{'x' * 97}\n" for i in range(4000)))
    gate, cache_dir = str(tmp_path / "gate"), str(tmp_path / "cache")
    settings = {("tasks", "rebalance_min_bytes"): 32 << 10, ("worker", "prefetch"): 0,
                ("tasks", "speculative"): False, ("worker", "reuse_dir"): cache_dir}
    job_file = os.path.join(JOBS, "gated_lines.py")
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c"), settings=settings) as cluster:
        def submit(name: str):
            return cluster.client.submit(job_file, [str(data)], str(tmp_path / name),
                                         reducers=2, split_size="64MB", reuse=True,
                                         params={"gate": gate})

        job = submit("cut")
        wait_until(lambda: job.status()["maps_total"] >= 2, "the split cut in two",
                   timeout_s=PATIENT_S)
        open(gate, "w").close()
        status = job.wait(timeout_s=PATIENT_S)
        assert status["state"] == "SUCCEEDED"
        # the first map's split was cut: not kept (a remainder may be cut again too)
        assert 1 <= len(MapCache(cache_dir, 1 << 30).keys()) < status["maps_total"]
        again = submit("again").wait(timeout_s=PATIENT_S)
    assert again["state"] == "SUCCEEDED"
    # the planned split's map ran (if it was cut the same way again, its remainder's
    # map, of the same range, may have reused the one kept)
    assert again["counters"]["zmr"].get("MAPS_REUSED", 0) < again["maps_total"]
    assert again["counters"]["zmr"]["MAP_INPUT_RECORDS"] == 4000
    assert output_bytes(str(tmp_path / "again")) == output_bytes(str(tmp_path / "cut"))
