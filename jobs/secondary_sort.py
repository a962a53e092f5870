"""Secondary sort: each user's visits in date order (Hadoop's grouping comparator).

Input lines are ``user,date,url``. The mapper emits the composite key ``(user, date)``;
``GROUP_BY = 1`` partitions and groups on ``user`` alone while the shuffle sorts on the
whole key, so the reducer meets each user once, with the visits already in date order
(ties in date keep no particular order). No reducer state, no custom partitioner.

    zmr run jobs/secondary_sort.py --input data/visits --output out/secondary_sort

(``data/visits`` is a small bundled sample; any folder of such lines will do.)
"""

GROUP_BY = 1
NUM_REDUCERS = 4


def mapper(_key, line):
    user, date, url = line.strip().split(",")
    yield (user, date), url


def reducer(key, urls):
    # key is the group's first (earliest) composite key: (user, first date)
    yield key[0], list(urls)
