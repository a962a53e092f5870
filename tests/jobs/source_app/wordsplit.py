"""A sibling module of crash_app.py."""

import re

WORD = re.compile(r"[A-Za-z']+")


def words(line):
    return WORD.findall(line)
