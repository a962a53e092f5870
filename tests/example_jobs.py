"""The example jobs' test corpus, a reading of it independent of the engine and their
output read back: shared by tests/unit/jobs_examples (inline) and tests/jobs_examples (a
cluster, the command line, the benchmark's baseline). The corpus is the ``corpus``
fixture of tests/conftest.py."""

from __future__ import annotations

import collections
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import EXAMPLES
from zmr.runners.inline import run_inline

EXAMPLE_JOBS = Path(EXAMPLES)
WORD = re.compile(r"[a-z0-9']+")     # the tokeniser the jobs document

HANDWRITTEN = {
    "a.txt": "The quick brown fox\njumps over the lazy dog\n\nThe END, the end.\n",
    "b.txt": "Fox and dog: an ERROR here\r\nno problems there\r\nanother error line\r\n",
    "deep/er/c.txt": "Déjà vu: the fox's den, naïve café — “quoted” text\nit's the dog's "
                     "error 42\n",
    "deep/d.txt": "no final newline, error at the very end",
}
VOCABULARY = ("the of and to a in error fox dog zoë café über don't 2024 x y z quick "
              "brown lazy river stone bread naïve émigré").split()


def random_text(seed: int, lines: int) -> str:
    """Lines of 0-12 Zipf-ish words with random case and punctuation (deterministic)."""
    rng = random.Random(seed)
    weights = [1 / (i + 1) for i in range(len(VOCABULARY))]
    out = []
    for _ in range(lines):
        words = rng.choices(VOCABULARY, weights, k=rng.randint(0, 12))
        words = [w.upper() if rng.random() < 0.1 else w for w in words]
        out.append(rng.choice([" ", ", ", " -- ", "; "]).join(words) + rng.choice(["", ".", "!"]))
    return "\n".join(out) + "\n"


def write_corpus(root: Path) -> Path:
    """A directory of several text files, some nested, with multibyte text."""
    files = dict(HANDWRITTEN)
    files["e.txt"] = random_text(1, 150)
    files["deep/f.txt"] = random_text(2, 90)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    return root


# -- a reference reading of the input, independent of the engine ----------------------------

def lines_of(root: Path) -> Iterator[tuple[Path, int, str]]:
    """(path, byte offset, line without its newline) for every line, files in path order."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        offset = 0
        for raw in data.split(b"\n"):
            if offset < len(data):
                yield path, offset, raw.decode("utf-8").removesuffix("\r")
            offset += len(raw) + 1


def word_counts(root: Path) -> collections.Counter[str]:
    return collections.Counter(w for _, _, line in lines_of(root)
                               for w in WORD.findall(line.lower()))


# -- running an example job inline and reading its output back --------------------------

def run(job: str, inputs: Path | list[Path], out: Path, **kw):
    """Run ``jobs/<job>.py`` inline; check the commit marker and the part file count."""
    paths = [str(p) for p in (inputs if isinstance(inputs, list) else [inputs])]
    result = run_inline(str(EXAMPLE_JOBS / f"{job}.py"), paths, str(out), **kw)
    assert (out / "_SUCCESS").exists()
    expected_parts = result.num_reducers or result.num_maps    # map-only: one per map task
    assert len(part_files(out)) == expected_parts
    return result


def part_files(out: Path) -> list[Path]:
    return sorted(out.glob("part-*"))


def read_part(path: Path) -> list[tuple[str, object]]:
    """(key, value) lines of one part file; keys here are strs, values JSON unless str."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        key, value = line.split("\t", 1)
        rows.append((key, _value(value)))
    return rows


def _value(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return text      # a str value is written as it is


def read_reduced(out: Path) -> dict[str, object]:
    """All pairs of a job with reducers; checks each part's keys are sorted and unique,
    and that no key is in two part files."""
    merged: dict[str, object] = {}
    for path in part_files(out):
        keys = [k for k, _ in read_part(path)]
        assert keys == sorted(set(keys)), f"{path.name}: keys not sorted and distinct"
        for key, value in read_part(path):
            assert key not in merged, f"{key!r} in two part files"
            merged[key] = value
    return merged


def max_temperatures(directory: Path) -> dict[int, int]:
    """The NCDC example's answer, straight from the CSV with the csv module."""
    import csv
    best: dict[int, int] = {}
    for path in sorted(directory.glob("*.csv")):
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                temp, quality = int(row["temperature"]), int(row["quality"])
                if temp != 9999 and quality in (0, 1, 4, 5, 9):
                    year = int(row["date"][:4])
                    best[year] = max(best.get(year, temp), temp)
    return best
