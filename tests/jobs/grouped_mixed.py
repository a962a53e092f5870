"""Keys of types a dict would merge (1, True, 1.0, str subclasses): test fixture for the
map side's grouping buffer, which must keep zmr's own notion of key equality."""


class Name(str):
    """A str subclass: zmr encodes it as the plain str, so it groups with it."""


KEYS = {"s": str, "n": Name, "i": int, "b": bool, "f": float, "y": str.encode,
        "t": lambda x: (x,), "l": lambda x: [x]}


def key_of(token):
    kind, _, text = token.partition(":")
    if kind in "ibf":
        return KEYS[kind](len(text) % 2)      # 0/1, False/True, 0.0/1.0 collide under ==
    return KEYS[kind](text)


def mapper(position, line):
    for i, token in enumerate(line.split()):
        yield key_of(token), [(position[1], i)]


def combiner(key, values):
    merged = []
    for part in values:
        merged.extend(part)
    yield key, merged


def reducer(key, values):
    merged = []
    for part in values:
        merged.extend(part)
    yield f"{type(key).__name__}:{key!r}", merged
