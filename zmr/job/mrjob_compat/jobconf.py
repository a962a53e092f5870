"""mrjob's ``JOBCONF`` / ``--jobconf`` / ``MRStep(jobconf=...)``: Hadoop properties turned into
the zmr settings that mean the same thing.

Both the Hadoop 2+ name and the old Hadoop 1 name of each property are understood (mrjob
translates between them too). A property with no zmr equivalent is reported on stderr and
ignored, as Hadoop ignores properties it does not know; a value that cannot be read is an
error naming the property.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from zmr.core.errors import JobDefinitionError


def _int(value: Any) -> int:
    return int(str(value).strip())


def _megabytes(value: Any) -> str:
    return f"{_int(value)}MB"


def _bool(value: Any) -> bool:
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise ValueError(f"expected true or false, got {value!r}")
    return text == "true"


def _codec(value: Any) -> str:
    name = str(value).rsplit(".", 1)[-1]
    codecs = {"Lz4Codec": "lz4", "ZStandardCodec": "zstd", "DefaultCodec": "none"}
    if name not in codecs:
        raise ValueError(f"zmr compresses with lz4 or zstd (Lz4Codec, ZStandardCodec), "
                         f"not {value!r}")
    return codecs[name]


#: Hadoop property -> (zmr module setting, converter).
PROPERTIES: dict[str, tuple[str, Callable[[Any], Any]]] = {}
for _names, _setting, _convert in (
        (("mapreduce.job.reduces", "mapred.reduce.tasks"), "NUM_REDUCERS", _int),
        (("mapreduce.input.fileinputformat.split.maxsize", "mapred.max.split.size"),
         "SPLIT_SIZE", _int),
        (("mapreduce.task.io.sort.mb", "io.sort.mb"), "MEMORY_BUDGET", _megabytes),
        (("mapreduce.map.memory.mb", "mapred.job.map.memory.mb"), "TASK_MEMORY",
         _megabytes),
        (("mapreduce.map.speculative", "mapred.map.tasks.speculative.execution",
          "mapreduce.reduce.speculative", "mapred.reduce.tasks.speculative.execution"),
         "SPECULATIVE", _bool),
        (("mapreduce.map.skip.maxrecords", "mapred.skip.map.max.skip.records"),
         "SKIP_BAD_RECORDS", _int),
        (("mapreduce.map.output.compress.codec", "mapred.map.output.compression.codec"),
         "COMPRESSION", _codec)):
    for _name in _names:
        PROPERTIES[_name] = (_setting, _convert)


def settings_from_jobconf(jobconf: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The zmr module settings that ``jobconf`` (Hadoop property -> value) stands for."""
    settings: dict[str, Any] = {}
    for name, value in jobconf.items():
        if name not in PROPERTIES:
            print(f"zmr: {where}: jobconf {name} has no zmr equivalent; ignored",
                  file=sys.stderr)
            continue
        setting, convert = PROPERTIES[name]
        try:
            settings[setting] = convert(value)
        except ValueError as exc:
            raise JobDefinitionError(f"{where}: jobconf {name}={value!r}: {exc}") from None
    return settings
