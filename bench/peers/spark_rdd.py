"""PySpark RDD word count, local[2] (the same tokeniser as jobs/wordcount.py).
Usage: spark_rdd.py OUTPUT_FILE INPUT_FILE..."""

import re
import sys

from pyspark import SparkConf, SparkContext

WORD = re.compile(r"[a-z0-9']+")


def main() -> None:
    conf = SparkConf().setMaster("local[2]").setAppName("wordcount") \
        .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1") \
        .set("spark.driver.bindAddress", "127.0.0.1")
    sc = SparkContext(conf=conf)
    sc.setLogLevel("ERROR")
    counts = (sc.textFile(",".join(sys.argv[2:]))
              .flatMap(lambda line: WORD.findall(line.lower()))
              .map(lambda w: (w, 1))
              .reduceByKey(lambda a, b: a + b)
              .collect())
    sc.stop()
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        for word, n in sorted(counts):
            out.write(f"{word}\t{n}\n")


if __name__ == "__main__":
    main()
