"""Two steps whose second one fails: its mapper raises on every pair."""

from zmr import Step


def words(key, line):
    for word in line.split():
        yield word, 1


def total(word, counts):
    yield word, sum(counts)


def explode(word, count):
    raise ValueError(f"boom in step 2 at {word!r}")


STEPS = [Step(mapper=words, reducer=total), Step(mapper=explode, reducer=total)]
