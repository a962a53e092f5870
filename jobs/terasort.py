"""TeraSort: sort 100-byte gensort records on their first 10 bytes, output byte-identical
to ``LC_ALL=C sort`` of the same records.

* ``import pyarrow.compute as pc

INPUT_FORMAT = "fixed:100"``: records are read 100 bytes each (splits aligned to
  records), never as text; ``map_batch`` gets them as a ``binary`` Arrow column
  (``record``) and returns each one's first 10 bytes as its key, so no record becomes a
  Python object anywhere (read, sample, partition, sort, write: the columnar path). The
  per-record ``mapper(_where, record): yield record[:10], record`` gives the same output.
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

import pyarrow.compute as pc

INPUT_FORMAT = "fixed:100"
OUTPUT_FORMAT = "fixed"
PARTITIONER = "total_order"
SORT_VALUES = True
NUM_REDUCERS = 4
KEY_BYTES = 10


def map_batch(batch):
    records = batch.column("record")
    return {"key": pc.binary_slice(records, 0, KEY_BYTES), "value": records}
