"""Distributed grep (map-only): every input line that matches a regular expression.

    zmr run jobs/grep.py --param pattern='storm(s|y)?' --input data/sample --output out/grep

The pattern is the job parameter ``pattern`` (default ``error``, for logs: the bundled
sample, a story, has none; the pattern above matches its storms), matched case-insensitively
anywhere in the line, like ``grep -i -E``. It is compiled at module level,
so when ``zmr run``/``zmr submit`` loads the job a bad pattern fails before any work starts,
and again on each worker when the shipped job file is imported there, from the value the
job was submitted with (see docs/guide/parameters-and-files.md).

Output key: ``<file base name>:<byte offset of the line>``, value: the line itself, e.g.
``chapter2.txt:5120<TAB>...``. The byte offset (not a line number) is what a map task knows
without reading the file from its start, and ``dd``/``tail -c`` can seek to it. Base names
keep output independent of where the input lives (the engine passes absolute paths); inputs
that share a base name in different directories are not told apart.

NUM_REDUCERS = 0 makes the job map-only (Hadoop's numReduceTasks=0): nothing is shuffled or
sorted. Map task i writes its matches, in input order, straight to part-i, one part file per
input split, possibly empty.
"""

import os
import re

import zmr

NUM_REDUCERS = 0
PARAMS = {"pattern": "error"}
PATTERN = re.compile(zmr.param("pattern", "error"), re.IGNORECASE)


def mapper(key, line):
    if PATTERN.search(line):
        path, offset = key
        yield f"{os.path.basename(path)}:{offset}", line
