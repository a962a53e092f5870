"""The C key codec (zmr/_codec.c) against its Python reference (zmr/storage/codec.py's
``*_py`` functions): the same bytes, the same objects back, the same errors, on many random
nested values of every tag (seeded, so a failure repeats)."""

from __future__ import annotations

import enum
import importlib
import math
import random

import numpy as np
import pyarrow as pa
import pytest

from tests.helpers import BUILT
from zmr.storage import codec
from zmr.storage.ordering import KeyOrder

pytestmark = pytest.mark.skipif(not BUILT, reason="zmr._speedups is not built")


@pytest.fixture(autouse=True, scope="module")
def compiled_codec():
    """The C codec bound, even under ZMR_PURE_PYTHON=1; the default restored after."""
    default = codec.speedups()
    codec.select(importlib.import_module("zmr._speedups"))
    yield
    codec.select(default)

CHARS = "ab\x00\xff\x01é€😀\ud800\udfff"
BYTES = b"ab\x00\xff\x01"


class Colour(enum.IntEnum):
    RED = 7


class Name(str):
    pass


def random_scalar(rng: random.Random, plain: bool) -> object:
    kind = rng.randrange(11 if plain else 15)
    if kind == 0:
        return rng.choice((None, True, False))
    if kind in (1, 2):
        return rng.choice((0, -1, 1, 2**63 - 1, -2**63, rng.randrange(-2**63, 2**63)))
    if kind == 3:                 # beyond int64: T_POS_BIG / T_NEG_BIG
        return rng.choice((1, -1)) * rng.randrange(2**63, 2**rng.randrange(64, 400))
    if kind in (4, 5):
        return rng.choice((0.0, -0.0, math.inf, -math.inf, 5e-324, -5e-324, math.nan,
                           -math.nan, rng.uniform(-1e6, 1e6), rng.random()))
    if kind in (6, 7, 8):
        return "".join(rng.choice(CHARS) for _ in range(rng.randrange(6)))
    if kind in (9, 10):
        return bytes(rng.choice(BYTES) for _ in range(rng.randrange(6)))
    return rng.choice((frozenset({1, 2}), Colour.RED, Name("nm\x00"), np.int64(-3),
                       np.float64(-0.0), np.str_("np"), np.bool_(True)))


def random_value(rng: random.Random, depth: int = 0, plain: bool = False) -> object:
    if depth < 4 and rng.random() < 0.3:
        items = [random_value(rng, depth + 1, plain) for _ in range(rng.randrange(4))]
        return tuple(items) if rng.random() < 0.6 else items
    return random_scalar(rng, plain)


VALUES = [random_value(random.Random(seed)) for seed in range(3000)]


def same(a: object, b: object) -> bool:
    """Equal objects of the same types all the way down (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def outcome(function, *args):
    try:
        return "ok", function(*args)
    except Exception as exc:  # noqa: BLE001 - comparing which error each raises
        return type(exc).__name__, str(exc)


def test_c_encodes_every_value_as_python_does():
    for value in VALUES:
        assert codec.encode_key(value) == codec.encode_key_py(value), value


def test_c_decodes_to_what_python_decodes():
    for value in VALUES:
        encoded = codec.encode_key_py(value)
        assert same(codec.decode_key(encoded), codec.decode_key_py(encoded)), value


def test_plain_values_round_trip_exactly():
    for seed in range(1000):
        value = random_value(random.Random(seed), plain=True)
        assert same(codec.decode_key(codec.encode_key(value)), value)


def test_mixed_types_sort_by_their_encodings_in_the_total_order():
    rank = {type(None): 0, bool: 1, int: 2, float: 3, str: 4, bytes: 5, tuple: 6, list: 7}

    def reference(x):
        if isinstance(x, (tuple, list)):
            return (rank[type(x)], tuple(map(reference, x)))
        if isinstance(x, float):
            return (rank[float], (1, 0.0) if math.isnan(x) else (0, x))
        if isinstance(x, str):    # code points order as their UTF-8 (surrogatepass) bytes
            return (rank[str], x.encode("utf-8", "surrogatepass"))
        return (rank[type(x)], 0 if x is None else x)

    rng = random.Random(29)
    values = [random_value(rng, plain=True) for _ in range(2000)]
    by_bytes = sorted(values, key=codec.encode_key)
    assert [reference(v) for v in by_bytes] == sorted(map(reference, values))


def test_deep_nesting_and_long_payloads():
    deep: object = "leaf\x00"
    for level in range(200):
        deep = (deep, level) if level % 2 else [deep]
    big = ("x\x00" * 100_000, b"\xff\x00" * 100_000, 3 ** 1000)  # ints up to 255 bytes
    for value in (deep, big):
        encoded = codec.encode_key(value)
        assert encoded == codec.encode_key_py(value)
        assert codec.decode_key(encoded) == value


def test_element_end_and_first_element_agree():
    for value in VALUES:
        if type(value) is not tuple or not value:
            continue
        encoded = codec.encode_key_py(value)
        assert codec.element_end(encoded, 1) == codec.element_end_py(encoded, 1)
        assert same(codec.first_element(encoded), codec.first_element_py(encoded))


def test_corrupt_encodings_fail_alike():
    rng = random.Random(7)
    for value in VALUES[:1500]:
        encoded = bytearray(codec.encode_key_py(value))
        cut = bytes(encoded[:rng.randrange(len(encoded))])
        encoded[rng.randrange(len(encoded))] = rng.randrange(256)
        for bad in (cut, bytes(encoded), cut + b"\x01"):
            expected, got = outcome(codec.decode_key_py, bad), outcome(codec.decode_key, bad)
            if expected[0] == "ok" and got[0] == "ok":
                assert same(expected[1], got[1]), bad
            elif expected[0] in ("ValueError", "UnicodeDecodeError"):
                assert got == expected, bad
            else:                 # a corrupted pickle: any error, in both
                assert got[0] != "ok", bad


@pytest.mark.parametrize("bad, message", [
    (b"", "truncated encoded key"), (b"\x14\x00", "truncated encoded key"),
    (b"\x30ab", "truncated encoded key"), (b"\x50\x01", "truncated encoded key"),
    (b"\x18\x05\x01", "truncated encoded key"), (b"\x99", "unknown key tag 0x99"),
    (b"\x01\x01", "trailing bytes after encoded key at 1")])
def test_named_errors_are_identical(bad, message):
    for decode in (codec.decode_key_py, codec.decode_key):
        with pytest.raises(ValueError, match=f"^{message}$"):
            decode(bad)


def test_bulk_paths_use_arrow_buffers_and_match_the_scalar_codec():
    array = codec.encoded_array(VALUES)
    assert array.type == pa.binary() and array.to_pylist() == list(
        map(codec.encode_key_py, VALUES))
    for start, stop in ((0, 3000), (17, 18), (1234, 2999), (5, 5)):
        decoded = codec.decoded_list(array.slice(start, stop - start))
        assert all(map(same, decoded, map(codec.decode_key_py, array[start:stop].to_pylist())))
    assert codec.decoded_list(pa.chunked_array([array[:2], array[2:4]])) == [
        codec.decode_key_py(b) for b in array[:4].to_pylist()]


def test_group_prefix_runs_match_the_python_prefixes():
    rng = random.Random(3)
    keys = [(rng.choice("abc"), rng.randrange(3), rng.choice((1.5, None, "z")))
            for _ in range(400)]
    values = [random_value(rng, plain=True) for _ in keys]
    for order in (KeyOrder(sort_values=True), KeyOrder(group_by=1), KeyOrder(group_by=2),
                  KeyOrder(sort_values=True, group_by=2)):
        sort_keys = order.sort_keys(keys, values) if order.sort_values else keys
        column = codec.encoded_array(sorted(sort_keys, key=codec.encode_key_py)).slice(3)
        prefixes = [order.group_prefix(b) for b in column.to_pylist()]
        expected = [i for i, p in enumerate(prefixes) if i == 0 or p != prefixes[i - 1]]
        _, offsets, data = column.buffers()
        starts = np.frombuffer(codec.speedups().prefix_run_starts(
            offsets, data, column.offset, len(column), order.sort_values, order.group_by),
            dtype=np.int64)
        assert starts.tolist() == expected
