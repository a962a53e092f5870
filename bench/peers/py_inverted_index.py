"""Plain Python, one process: jobs/inverted_index.py's index (for each word, the sorted
documents containing it; words as jobs/wordcount.py tokenises them), written as zmr writes
it (``word<TAB>["doc", ...]`` lines).

    python bench/peers/py_inverted_index.py OUTPUT_FILE DOCUMENTS_DIR
"""

import json
import os
import re
import sys

WORD = re.compile(r"[a-z0-9']+")


def main() -> None:
    out, folder = sys.argv[1:3]
    index: dict[str, list[str]] = {}
    for name in sorted(os.listdir(folder)):
        if name.startswith(("_", ".")):
            continue                 # as zmr skips them
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            words = set(WORD.findall(f.read().lower()))
        for word in words:
            index.setdefault(word, []).append(name)     # names in sorted order
    with open(out, "w", encoding="utf-8") as f:
        f.writelines(f"{word}\t{json.dumps(docs)}\n" for word, docs in index.items())


if __name__ == "__main__":
    main()
