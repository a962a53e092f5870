"""TeraSort: sort 100-byte gensort records on their first 10 bytes, output byte-identical
to ``LC_ALL=C sort`` of the same records.

* ``INPUT_FORMAT = "fixed:100"``: each record is read as 100 ``bytes`` (splits aligned to
  records), never as text.
* ``PARTITIONER = "total_order"``: keys are sampled before the map phase (``SAMPLE_SIZE``)
  and range-partitioned, so ``part-00000`` .. ``part-N`` concatenated are sorted.
* ``SORT_VALUES = True``: records with equal keys are ordered by their whole bytes, which
  is how GNU sort breaks ties (gensort's ASCII records end in ``"\\r\\n"``, so sort sees
  each as one line of 99 bytes ending in ``"\\r"``; all records have the same length, so
  comparing lines is comparing records).
* ``OUTPUT_FORMAT = "fixed"``: the records are written back as they were, back to back.

    zmr run jobs/terasort.py --input data/tera --output out/tera --reducers 4
    cat out/tera/part-* | cmp - <(LC_ALL=C sort data/tera/*)

``data/tera`` is a bundled sample of 2,000 records (``python bench/gen_terasort.py 2000
data/tera --files 2``); ``python bench/gen_terasort.py 100000 DIR`` makes 10 MB more.
"""

INPUT_FORMAT = "fixed:100"
OUTPUT_FORMAT = "fixed"
PARTITIONER = "total_order"
SORT_VALUES = True
NUM_REDUCERS = 4
KEY_BYTES = 10


def mapper(_where, record):
    yield record[:KEY_BYTES], record
