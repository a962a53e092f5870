"""Kept map outputs for ``--reuse``: a directory of entries named by their fingerprint.

Layout (``[worker] reuse_dir``, one per host, shared by its workers and ``--inline`` runs)::

    <reuse_dir>/<key>/output.arrow     a map output (one IPC stream per reduce partition)
    <reuse_dir>/<key>/manifest.json    its partition index (offsets, lengths, CRC-32s),
                                       counters and quarantined records
    <reuse_dir>/.tmp-<random>/         an entry being written

An entry is written whole in a temporary directory and renamed into place, so a worker
killed while keeping one leaves only a ``.tmp-`` directory (removed once stale), never a
half entry under a key. Before an entry is reused, every partition's CRC-32 is checked on
the task's own link to it: a corrupt or truncated entry is dropped and the map runs.
Reading an entry touches its manifest, so the bound (``reuse_max_bytes``) evicts the least
recently used entries first, with the retention rule logs and history use
(:mod:`zmr.core.retention`). Files are hard-linked where the file system allows (a map
output is never written again once complete), else copied.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from typing import Any

from zmr.core.retention import Item, Policy, to_forget
from zmr.core.specs import PartitionIndexEntry, Split
from zmr.storage import fs
from zmr.storage.fixed import record_size
from zmr.storage.input_formats import LINE_FORMATS
from zmr.storage.ipc import segment_intact

OUTPUT, MANIFEST, TMP_PREFIX = "output.arrow", "manifest.json", ".tmp-"
#: A temporary entry older than this was left by a killed writer.
STALE_TMP_S = 3600.0
#: How often the size bound is applied, at most (by whichever process keeps an output);
#: the cache may pass its bound by what is kept meanwhile.
EVICT_EVERY_S = 30.0
#: When the bound was last applied (its mtime); a dot file, so never taken for an entry.
EVICTED_MARK = ".evicted"


@dataclass(frozen=True)
class Kept:
    """What an entry holds besides its file: the map output's index and what its map said."""

    partitions: tuple[PartitionIndexEntry, ...]
    counters: dict[str, dict[str, int]]
    quarantined: list[Any]          # QuarantinedRecord.to_dict()s


class MapCache:
    """The kept map outputs under ``root``, at most ``max_bytes`` of them."""

    def __init__(self, root: str, max_bytes: int, evict_every_s: float = EVICT_EVERY_S
                 ) -> None:
        self.root = os.path.abspath(os.path.expanduser(root))
        self.max_bytes = max_bytes
        self.evict_every_s = evict_every_s

    def entry_dir(self, key: str) -> str:
        return os.path.join(self.root, key)

    def take(self, key: str, dest: str) -> Kept | None:
        """Link entry ``key``'s output to ``dest`` and return its index, after checking its
        CRCs there; None if there is no such entry, or it is corrupt (then dropped)."""
        entry = self.entry_dir(key)
        try:
            with open(os.path.join(entry, MANIFEST), encoding="utf-8") as f:
                kept = _kept(json.load(f), key)
            _link_or_copy(os.path.join(entry, OUTPUT), dest)
        except (OSError, ValueError, KeyError, TypeError):
            self.drop(key, dest)
            return None
        if not _intact(dest, kept):
            self.drop(key, dest)
            return None
        _touch(os.path.join(entry, MANIFEST))
        return kept

    def drop(self, key: str, dest: str | None = None) -> None:
        """Forget entry ``key`` (corrupt or unreadable), and ``dest`` if it was linked."""
        if dest is not None and os.path.lexists(dest):
            os.unlink(dest)
        entry = self.entry_dir(key)
        if os.path.isdir(entry):
            _remove(entry)

    def keep(self, key: str, output: str, kept: Kept) -> None:
        """Keep ``output`` (a finished map output) under ``key``, then apply the bound."""
        if os.path.isdir(self.entry_dir(key)):
            return              # another attempt (a backup, another worker) kept it first
        os.makedirs(self.root, exist_ok=True)
        tmp = os.path.join(self.root, f"{TMP_PREFIX}{uuid.uuid4().hex}")
        os.makedirs(tmp)
        try:
            _link_or_copy(output, os.path.join(tmp, OUTPUT))
            with open(os.path.join(tmp, MANIFEST), "w", encoding="utf-8") as f:
                json.dump(_manifest(key, kept), f)
            os.rename(tmp, self.entry_dir(key))
        except OSError:
            _remove(tmp)      # lost the race to another writer, or the disk is full
        if self._eviction_due():
            self.evict()

    def _eviction_due(self) -> bool:
        """Whether no process using this cache applied the bound in the last
        ``evict_every_s`` (a listing of a large cache costs a stat per entry: not one per
        map task); the one that finds it due marks the time for the others."""
        mark = os.path.join(self.root, EVICTED_MARK)
        if time.time() - _mtime(mark) < self.evict_every_s:
            return False
        with open(mark, "a", encoding="utf-8"):
            pass
        os.utime(mark)
        return True

    def evict(self, now_s: float | None = None) -> list[str]:
        """Remove the least recently used entries past ``max_bytes``, and temporary entries
        left by killed writers; the keys removed."""
        now_s = time.time() if now_s is None else now_s
        items, stale = [], []
        for name in _listing(self.root):
            path = self.entry_dir(name)
            if name.startswith("."):          # a temporary entry, or the eviction mark
                if name.startswith(TMP_PREFIX) and now_s - _mtime(path) > STALE_TMP_S:
                    stale.append(path)
                continue
            items.append(Item(name, _mtime(os.path.join(path, MANIFEST)), _size(path)))
        gone = to_forget(items, Policy(len(items) + 1, float("inf"), self.max_bytes), now_s)
        for path in stale + [self.entry_dir(name) for name in gone]:
            _remove(path)
        return gone

    def keys(self) -> list[str]:
        """The keys of the entries kept, in no particular order."""
        return [name for name in _listing(self.root) if not name.startswith(".")]


def _kept(record: dict[str, Any], key: str) -> Kept:
    if record["key"] != key:
        raise ValueError(f"entry {key} holds {record['key']}")
    partitions = tuple(PartitionIndexEntry(*(int(v) for v in entry))
                       for entry in record["partitions"])
    return Kept(partitions, dict(record["counters"]), list(record["quarantined"]))


def _manifest(key: str, kept: Kept) -> dict[str, Any]:
    return {"key": key, "partitions": [list(entry) for entry in kept.partitions],
            "counters": kept.counters, "quarantined": kept.quarantined}


def _intact(path: str, kept: Kept) -> bool:
    """Every partition there with its CRC, and nothing more: a truncated or grown file,
    or one flipped bit, is not the output that was kept."""
    try:
        size = os.path.getsize(path)
        end = max((e.offset + e.length for e in kept.partitions), default=0)
        return size == end and all(segment_intact(path, e.offset, e.length, e.crc32)
                                   for e in kept.partitions)
    except OSError:
        return False


def _link_or_copy(source: str, dest: str) -> None:
    try:
        os.link(source, dest)
    except OSError as exc:
        if not os.path.exists(source) or isinstance(exc, FileExistsError):
            raise
        shutil.copyfile(source, dest)     # another file system, or links not allowed


def _listing(root: str) -> list[str]:
    try:
        return sorted(os.listdir(root))
    except FileNotFoundError:
        return []


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def _size(entry: str) -> int:
    total = 0
    for name in _listing(entry):
        try:
            total += os.stat(os.path.join(entry, name)).st_size
        except OSError:
            pass
    return total


def _touch(path: str) -> None:
    try:
        os.utime(path)
    except OSError:
        pass          # evicted meanwhile: the task keeps its own link


def _remove(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


#: Read at a time while the bytes of a split are hashed (``--reuse-content``).
_HASH_READ = 1 << 20


def split_content(split: Split, max_line_length: int) -> str:
    """A digest of the bytes ``split`` reads (``--reuse-content``): of a text or
    line-format range, from the byte before it (which decides whether its first line is
    its own) to the newline ending its last line; of a ``fixed:N`` range, the range; of
    anything else (compressed, Parquet, Arrow IPC, pair files), the whole file."""
    h = hashlib.blake2b(digest_size=20)
    for piece in split.pieces():
        h.update(piece.path.encode() + b"\0")
        with fs.open_binary(piece.path) as f:
            if piece.whole or piece.format not in ("text", *LINE_FORMATS):
                exact = record_size(piece.format) is not None and not piece.whole
                f.seek(piece.start if exact else 0)
                _hash_bytes(f, h, piece.length if exact else None)
                continue
            first = max(0, piece.start - 1)
            f.seek(first)
            _hash_bytes(f, h, piece.end - first)
            _hash_to_newline(f, h, max_line_length)
    return h.hexdigest()


def _hash_bytes(f: Any, h: Any, length: int | None) -> None:
    """``length`` bytes of ``f`` (None: to its end) into ``h``."""
    while length is None or length > 0:
        block = f.read(_HASH_READ if length is None else min(_HASH_READ, length))
        if not block:
            return
        h.update(block)
        if length is not None:
            length -= len(block)


def _hash_to_newline(f: Any, h: Any, most: int) -> None:
    """The bytes of ``f`` up to its next newline (the end of a split's last line), at
    most ``most`` + 1 of them (a longer line fails its map anyway)."""
    left = most + 1
    while left > 0:
        block = f.read(min(64 << 10, left))
        if not block:
            return
        end = block.find(b"\n")
        h.update(block if end < 0 else block[:end + 1])
        if end >= 0:
            return
        left -= len(block)
