"""Identity-like job: every line once, keyed by (path, offset): checks splits end to end."""


def mapper(key, line):
    yield key, line
