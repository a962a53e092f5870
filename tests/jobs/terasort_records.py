"""jobs/terasort.py with a per-record mapper instead of its ``map_batch``: each record is
a ``bytes`` object and the mapper is called once per record (and per sampled record). The
output must be byte-identical to the columnar job's (tests/unit/job/test_columnar_path.py)."""

INPUT_FORMAT = "fixed:100"
OUTPUT_FORMAT = "fixed"
PARTITIONER = "total_order"
SORT_VALUES = True
NUM_REDUCERS = 4
KEY_BYTES = 10


def mapper(_where, record):
    yield record[:KEY_BYTES], record
