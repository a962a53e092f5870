"""polars (lazy, its own thread pool): lines as one column, tokens with str.extract_all.

    python bench/peers/polars_count.py [--bigram] OUTPUT_FILE INPUT_FILE...
"""

import polars as pl
from common import WORD, parse_args, write_counts


def main() -> None:
    bigram, out, paths = parse_args()
    if bigram:
        raise SystemExit("polars: word count only")
    frames = [pl.scan_csv(p, has_header=False, separator="\x01", quote_char=None,
                          new_columns=["line"], schema={"line": pl.String}) for p in paths]
    words = (pl.concat(frames).select(pl.col("line").str.to_lowercase()
                                      .str.extract_all(WORD.pattern).alias("k"))
             .explode("k").drop_nulls().group_by("k").len())
    write_counts(out, words.collect().iter_rows())


if __name__ == "__main__":
    main()
