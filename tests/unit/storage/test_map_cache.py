"""The cache of kept map outputs (``--reuse``): entries written whole or not at all, checked
by their CRCs before use, bounded in bytes with the least recently used going first."""

from __future__ import annotations

import os
import time
import zlib

from zmr.core.specs import PartitionIndexEntry
from zmr.storage.map_cache import MANIFEST, OUTPUT, STALE_TMP_S, TMP_PREFIX, Kept, MapCache


def _output(path, size: int, seed: int = 0) -> Kept:
    """A map output file of two partitions of ``size`` bytes in all; what keeps it."""
    data = bytes((seed + i) % 251 for i in range(size))
    with open(path, "wb") as f:
        f.write(data)
    half = size // 2
    parts = (PartitionIndexEntry(0, half, 1, zlib.crc32(data[:half])),
             PartitionIndexEntry(half, size - half, 1, zlib.crc32(data[half:])))
    return Kept(parts, {"zmr": {"MAP_INPUT_RECORDS": 7}}, [])


def test_a_kept_output_is_taken_back_intact(tmp_path):
    cache = MapCache(str(tmp_path / "cache"), 1 << 20)
    kept = _output(tmp_path / "map.arrow", 1000)
    cache.keep("k1", str(tmp_path / "map.arrow"), kept)
    assert cache.take("k1", str(tmp_path / "again.arrow")) == kept
    assert open(tmp_path / "again.arrow", "rb").read() == open(tmp_path / "map.arrow",
                                                                "rb").read()
    assert cache.take("other", str(tmp_path / "none.arrow")) is None
    assert not os.path.exists(tmp_path / "none.arrow")


def test_a_corrupt_or_truncated_entry_is_dropped(tmp_path):
    cache = MapCache(str(tmp_path / "cache"), 1 << 20)
    for key, damage in (("flipped", lambda b: b[:10] + bytes([b[10] ^ 1]) + b[11:]),
                        ("truncated", lambda b: b[:-1]), ("grown", lambda b: b + b"x")):
        kept = _output(tmp_path / f"{key}.arrow", 1000)
        cache.keep(key, str(tmp_path / f"{key}.arrow"), kept)
        stored = os.path.join(cache.entry_dir(key), OUTPUT)
        data = damage(open(stored, "rb").read())
        os.unlink(stored)
        with open(stored, "wb") as f:
            f.write(data)
        assert cache.take(key, str(tmp_path / f"{key}-taken.arrow")) is None, key
        assert not os.path.exists(cache.entry_dir(key))
        assert not os.path.exists(tmp_path / f"{key}-taken.arrow")


def test_an_unreadable_manifest_drops_the_entry(tmp_path):
    cache = MapCache(str(tmp_path / "cache"), 1 << 20)
    cache.keep("k", str(tmp_path / "m.arrow"), _output(tmp_path / "m.arrow", 100))
    with open(os.path.join(cache.entry_dir("k"), MANIFEST), "w") as f:
        f.write("{not json")
    assert cache.take("k", str(tmp_path / "t.arrow")) is None
    assert cache.keys() == []


def test_the_bound_evicts_the_least_recently_used_first(tmp_path):
    cache = MapCache(str(tmp_path / "cache"), 4000, evict_every_s=0)  # 3 of ~1.2 kB fit
    now = time.time()
    for n in range(3):
        cache.keep(f"k{n}", str(tmp_path / f"{n}.arrow"), _output(tmp_path / f"{n}.arrow",
                                                                   1000, n))
        # their last use, oldest first: k0, k1, k2
        os.utime(os.path.join(cache.entry_dir(f"k{n}"), MANIFEST), (now - 100 + n,) * 2)
    assert cache.take("k0", str(tmp_path / "use.arrow")) is not None   # k0: just used
    cache.keep("k3", str(tmp_path / "3.arrow"), _output(tmp_path / "3.arrow", 1000, 3))
    assert sorted(cache.keys()) == ["k0", "k2", "k3"]       # k1 was the least recent


def test_an_entry_is_written_whole_or_not_at_all(tmp_path):
    """A writer killed before its rename leaves a temporary directory under no key,
    which a later eviction removes once stale; an entry kept twice is kept once."""
    cache = MapCache(str(tmp_path / "cache"), 1 << 20)
    half = os.path.join(cache.root, f"{TMP_PREFIX}dead")
    os.makedirs(half)
    with open(os.path.join(half, OUTPUT), "wb") as f:
        f.write(b"half")
    kept = _output(tmp_path / "m.arrow", 100)
    cache.keep("k", str(tmp_path / "m.arrow"), kept)
    cache.keep("k", str(tmp_path / "m.arrow"), kept)
    assert cache.keys() == ["k"] and os.path.isdir(half)     # not stale yet
    cache.evict(now_s=time.time() + STALE_TMP_S + 60)
    assert not os.path.exists(half) and cache.keys() == ["k"]


def test_the_bound_is_applied_at_most_once_in_a_while(tmp_path):
    """Applying it lists the cache: not for every map task, whichever process keeps it."""
    first = MapCache(str(tmp_path / "cache"), 1500, evict_every_s=3600)
    other = MapCache(str(tmp_path / "cache"), 1500, evict_every_s=3600)
    first.keep("k0", str(tmp_path / "0.arrow"), _output(tmp_path / "0.arrow", 1000, 0))
    other.keep("k1", str(tmp_path / "1.arrow"), _output(tmp_path / "1.arrow", 1000, 1))
    assert sorted(other.keys()) == ["k0", "k1"]        # over the bound until the next time
    old = time.time() - 100
    os.utime(os.path.join(first.entry_dir("k0"), MANIFEST), (old, old))   # k0: used first
    assert other.evict() == ["k0"] and other.keys() == ["k1"]
