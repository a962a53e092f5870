"""The names of zmr's input and output formats: shared vocabulary of plans, specs and
settings (the readers and writers themselves are in ``zmr.storage``)."""

from __future__ import annotations

import re

from zmr.core.errors import ConfigError

TEXT, ARROW, JSONL, CSV, PARQUET = "text", "arrow", "jsonl", "csv", "parquet"
#: Output formats writing one field of each pair only: ``value``/``key`` lines (a str as it
#: is, else JSON) and ``fixed`` (each value's bytes as they are, nothing between records).
VALUE, KEY, FIXED = "value", "key", "fixed"
#: Output of mrjob jobs: each value (already encoded by the job's OUTPUT_PROTOCOL) is one
#: line, the key is not written (Hadoop Streaming writes what the task printed).
LINES = "lines"
#: Input of mrjob's ``mapper_raw``: one split and one record (the path) per whole file.
FILES = "files"
#: Formats a job may be told to write.
USER_OUTPUT_FORMATS = (TEXT, JSONL, CSV, PARQUET, VALUE, KEY, FIXED)
#: Formats a job's output may have (``arrow`` only between the steps of a job, ``lines``
#: only for mrjob jobs).
OUTPUT_FORMATS = (*USER_OUTPUT_FORMATS, ARROW, LINES)
#: Formats a job may be told to read (and ``fixed:N``, see :func:`record_size`).
USER_INPUT_FORMATS = (TEXT, CSV, JSONL, PARQUET, "ipc")
#: Formats a job may read (``arrow`` only between the steps of a job, ``files`` only for
#: mrjob's ``mapper_raw``).
INPUT_FORMATS = (*USER_INPUT_FORMATS, ARROW, FILES)
FORMATS = INPUT_FORMATS
_FIXED = re.compile(r"fixed:(\d+)")


def record_size(fmt: str) -> int | None:
    """N of the input format ``"fixed:N"`` (N-byte binary records), None for any other."""
    match = _FIXED.fullmatch(fmt)
    return int(match.group(1)) if match else None


def fixed_format(value: str, label: str) -> str:
    """``fixed:N`` with 1 <= N <= 1 MiB, or a ConfigError naming ``label``."""
    size = record_size(value)
    if size is None or not 1 <= size <= 1 << 20:
        raise ConfigError(f"{label}: {value!r} must look like \"fixed:100\" (record size in "
                          "bytes, 1 to 1048576)")
    return value
