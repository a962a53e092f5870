"""Distributed grep (map-only): every input line that matches a regular expression.

    ZMR_GREP_PATTERN='storm(s|y)?' zmr run jobs/grep.py --input data/sample --output out/grep

The pattern comes from the environment variable ZMR_GREP_PATTERN (default ``error``, for
logs: the bundled sample, a story, has none; the pattern above matches its storms) and is
matched case-insensitively anywhere in the line, like ``grep -i -E``. It is compiled when
``zmr run``/``zmr submit`` loads the job, so a bad pattern fails before any work starts, and
the compiled pattern travels to the workers with the job's code: they need no variable.

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

NUM_REDUCERS = 0
PATTERN = re.compile(os.environ.get("ZMR_GREP_PATTERN", "error"), re.IGNORECASE)


def mapper(key, line):
    if PATTERN.search(line):
        path, offset = key
        yield f"{os.path.basename(path)}:{offset}", line
