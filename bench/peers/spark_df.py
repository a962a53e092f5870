"""PySpark DataFrame API, local[2]: no Python per record, Spark SQL functions only. The
answer is a directory of part-* files (the harness reads those like zmr's output).

    python bench/peers/spark_df.py [--bigram] OUTPUT_FILE INPUT_FILE...
"""

from common import parse_args
from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def main() -> None:
    bigram, out, paths = parse_args()
    spark = (SparkSession.builder.master("local[2]").appName("count")
             .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
             .config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.sql.shuffle.partitions", "4").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    words = F.expr("regexp_extract_all(lower(value), \"([a-z0-9']+)\", 1)")
    lines = spark.read.text(paths).select(words.alias("w"))
    if bigram:
        keys = lines.select(F.explode(F.expr(
            "transform(sequence(1, size(w) - 1), i -> concat(w[i - 1], ' ', w[i]))")).alias("k"))
        keys = keys.where(F.col("k").isNotNull())
    else:
        keys = lines.select(F.explode("w").alias("k"))
    # Written by Spark itself as part-* files (key<TAB>count, sorted within each file):
    # collecting tens of millions of bigram rows through the driver runs it out of memory.
    (keys.groupBy("k").count().sortWithinPartitions("k")
     .write.option("sep", "\t").option("quote", "").csv(out))
    spark.stop()


if __name__ == "__main__":
    main()
