"""Plain-Python baseline: collections.Counter word count, streaming line by line, with the
same tokeniser as jobs/wordcount.py. Usage: py_counter.py OUTPUT_FILE INPUT_FILE..."""

import collections
import re
import sys

WORD = re.compile(r"[a-z0-9']+")


def main() -> None:
    counts: collections.Counter[str] = collections.Counter()
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            for line in f:
                counts.update(WORD.findall(line.lower()))
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        for word in sorted(counts):
            out.write(f"{word}\t{counts[word]}\n")


if __name__ == "__main__":
    main()
