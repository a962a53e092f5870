"""Echo every input record under its position: (row number or byte offset) -> record."""


def mapper(key, record):
    yield key[1], record


def reducer(position, records):
    for record in records:
        yield position, record
