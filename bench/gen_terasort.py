"""Generate gensort-like ASCII records (Hadoop TeraGen / gensort -a): 100 bytes each.

Record layout, as gensort's ASCII mode writes it: a 10-byte key of printable characters
(space to ``~``), two spaces, the 32-hex-digit row number, two spaces, 52 filler bytes of
hex digits, ``"\\r\\n"``. Usage::

    python bench/gen_terasort.py RECORDS OUTDIR [--files N] [--seed S]
"""

from __future__ import annotations

import argparse
import os
import random

RECORD_BYTES = 100
KEY_BYTES = 10
_PRINTABLE = bytes(range(32, 127))


def record(rng: random.Random, row: int) -> bytes:
    key = bytes(rng.choices(_PRINTABLE, k=KEY_BYTES))
    filler = "".join(rng.choice("0123456789ABCDEF") * 4 for _ in range(13)).encode()
    out = key + b"  " + f"{row:032X}".encode() + b"  " + filler + b"\r\n"
    assert len(out) == RECORD_BYTES
    return out


def generate(records: int, out_dir: str, files: int = 1, seed: int = 1) -> list[str]:
    """Write ``records`` records over ``files`` files in ``out_dir``; their paths."""
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(seed)
    paths, row = [], 0
    for f in range(files):
        count = records // files + (1 if f < records % files else 0)
        path = os.path.join(out_dir, f"part-{f:05d}.dat")
        with open(path, "wb") as out:
            for start in range(0, count, 10000):
                n = min(10000, count - start)
                out.write(b"".join(record(rng, row + i) for i in range(n)))
                row += n
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", type=int)
    parser.add_argument("out_dir")
    parser.add_argument("--files", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.records, args.out_dir, args.files, args.seed)


if __name__ == "__main__":
    main()
