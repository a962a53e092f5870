"""PySpark RDD API, local[2] (tokeniser of common.py).

    python bench/peers/spark_rdd.py [--bigram] OUTPUT_FILE INPUT_FILE...
"""

import common
from common import parse_args, splitter, write_counts
from pyspark import SparkConf, SparkContext


def main() -> None:
    bigram, out, paths = parse_args()
    conf = SparkConf().setMaster("local[2]").setAppName("count") \
        .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1") \
        .set("spark.driver.bindAddress", "127.0.0.1")
    sc = SparkContext(conf=conf)
    sc.setLogLevel("ERROR")
    sc.addPyFile(common.__file__)     # Spark's Python workers import the tokeniser from it
    split = splitter(bigram)
    counts = (sc.textFile(",".join(paths)).flatMap(split).map(lambda w: (w, 1))
              .reduceByKey(lambda a, b: a + b).collect())
    sc.stop()
    write_counts(out, counts)


if __name__ == "__main__":
    main()
