"""Distributed grep (map-only): every line matching a regular expression.

The pattern comes from the environment variable ZMR_GREP_PATTERN (default: "error"),
matched case-insensitively. The output key is "<file name>:<byte offset>" of the line and the
value is the line itself. NUM_REDUCERS = 0 makes it map-only: each map task writes its
matches, in input order, straight to its own part file (part-<map task number>).
"""

import os
import re

NUM_REDUCERS = 0
PATTERN = re.compile(os.environ.get("ZMR_GREP_PATTERN", "error"), re.IGNORECASE)


def mapper(key, line):
    if PATTERN.search(line):
        path, offset = key
        yield f"{os.path.basename(path)}:{offset}", line
