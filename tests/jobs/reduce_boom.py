"""Word count whose reducer raises on the key "boom" (after counting its values), so the
reduce task that holds it fails every attempt: for reducer replay (``zmr replay --key``)."""


def mapper(key, line):
    for word in line.split():
        yield word, 1


def reducer(word, counts):
    total = 0
    for count in counts:
        total += count
    if word == "boom":
        raise ZeroDivisionError(f"cannot share {total} counts of {word!r}")
    yield word, total
