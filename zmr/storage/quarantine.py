"""Where skipped records are committed: ``<output>/_quarantine/part-m-NNNNN.jsonl``.

One JSON lines file per map task that skipped records (``--skip-bad-records``), named after
the map (Hadoop names map outputs ``part-m-NNNNN``); a step of a multi-step job writes into
the job's own output, ``step-N-part-m-NNNNN.jsonl``, since its ``_steps/step-N`` directory
goes when the job ends. The files are written before ``_SUCCESS``, so a reader who sees the
marker sees them all; a failed job's output goes, quarantine with it. Each line is one
:class:`~zmr.core.specs.QuarantinedRecord`: ``path``, ``offset``, ``where``, ``error``,
``traceback``, ``record``, ``encoding`` and ``omitted``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from zmr.core.errors import InputError
from zmr.core.jsonable import ShapeError, from_json, to_json
from zmr.core.specs import QuarantinedRecord
from zmr.storage import fs, layout

Skipped = Iterable[tuple[int, Iterable[QuarantinedRecord]]]


def job_output(output: str) -> tuple[str, str]:
    """The job's own output directory for a step's ``output`` and the file name prefix of
    its quarantine (``step-N-``; empty for a single-step job or the last step)."""
    parent, _, name = output.rstrip("/").rpartition("/")
    grand, _, steps = parent.rpartition("/")
    if steps == layout.STEPS and name.startswith("step-"):
        return grand, name + "-"
    return output, ""


def quarantine_dir(output: str) -> str:
    return fs.join(job_output(output)[0], layout.QUARANTINE)


def file_name(output: str, map_index: int) -> str:
    return f"{job_output(output)[1]}part-m-{map_index:05d}.jsonl"


def write(output: str, skipped: Skipped) -> int:
    """Write each map's skipped records (none: nothing, not even the directory); returns
    how many were written."""
    directory, written = quarantine_dir(output), 0
    for map_index, entries in skipped:
        lines = [json.dumps(to_json(e), ensure_ascii=False) + "\n" for e in entries]
        if not lines:
            continue
        _write_file(fs.join(directory, file_name(output, map_index)),
                    "".join(lines).encode("utf-8"))
        written += len(lines)
    return written


def _write_file(path: str, data: bytes) -> None:
    if fs.is_uri(path):
        fs.write_bytes(path, data)
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def read(path: str) -> list[QuarantinedRecord]:
    """The entries of one quarantine file, in order; a line that is not an entry is an
    ``InputError`` naming the file and line."""
    entries = []
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                try:
                    entries.append(from_json(QuarantinedRecord, json.loads(line)))
                except (ValueError, ShapeError) as exc:
                    raise InputError(f"{path}: line {number} is not a quarantined "
                                     f"record: {exc}") from None
    except OSError as exc:
        raise InputError(f"cannot read quarantine file {path}: {exc.strerror}") from None
    return entries

