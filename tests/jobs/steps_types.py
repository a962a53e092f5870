"""Two steps: step 1 yields keys and values of many types, step 2 shows what it received.

Step 2's mapper writes each pair as ``type:repr`` text, so a test can see that the pairs
reached it as the objects step 1's reducer yielded (an int is still an int, a tuple a tuple,
bytes bytes), not as text."""

from zmr import Step

PAIRS = [
    ("word", 3),
    (7, (1, "a", None)),
    (("w", 2), [1.5, True]),
    (None, b"\x00raw"),
    (2.5, 2 ** 70),
    (b"k", {"x": 1}),
    ("word", -4),
    (False, ("nested", (1, 2), [3])),
]


def emit(key, line):
    if line == "go":
        yield from PAIRS


def keep(key, values):
    for value in values:
        yield key, value


def show(key, value):
    yield f"{type(key).__name__}:{key!r}", f"{type(value).__name__}:{value!r}"


STEPS = [Step(mapper=emit, reducer=keep, num_reducers=2), Step(mapper=show)]
