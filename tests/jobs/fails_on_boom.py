"""Word count whose mapper raises on any line containing "boom" (a bad record), so that
task fails every attempt and the job fails with the user's traceback."""


def mapper(key, line):
    if "boom" in line:
        raise ValueError(f"bad record at {key}: {line!r}")
    for word in line.split():
        yield word, 1


def reducer(word, counts):
    yield word, sum(counts)
