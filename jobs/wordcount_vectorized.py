"""Word count, vectorised:

    zmr run jobs/wordcount_vectorized.py --input data/sample --output out/wordcount_vectorized

The mapper tokenises a whole batch of lines with pyarrow.compute,
and REDUCE = "sum" lets Arrow's group_by do the combining and reducing, so no Python code
runs per word. Same answer as jobs/wordcount.py (the tokeniser is the same regex).
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

REDUCE = "sum"


def map_batch(batch):
    # batch columns: path, offset, line
    words = pc.list_flatten(pc.split_pattern_regex(pc.utf8_lower(batch.column("line")),
                                                   r"[^a-z0-9']+"))
    words = pc.filter(words, pc.not_equal(words, ""))
    return {"key": words, "value": pa.array(np.ones(len(words), dtype=np.int64))}
