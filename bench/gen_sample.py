"""The bundled sample corpus, data/sample/: three short "chapters" of English-like prose.

    python bench/gen_sample.py [--out data/sample]

Deterministic (fixed seed, Python's own ``random``), so the files in git can be remade byte
for byte. Sentences come from a few templates filled with words drawn with Zipf-like
weights from a shared lexicon plus one themed lexicon per chapter, so word counts have a
long tail and the inverted index has words found in one, two or all three documents.
Chapter three sits in a subdirectory (inputs are found recursively). Every chapter has
curly quotes and dashes, so the input is real multibyte UTF-8 (byte offsets differ from
character offsets), but no accented letters: jobs/wordcount.py's ASCII tokeniser would cut
"café" into "caf", which is right by its rules but puzzling in a demo.
"""

from __future__ import annotations

import argparse
import os
import random
import textwrap

SEED = 1859
CHAPTERS = [  # (path under --out, title, theme, approximate size in bytes)
    ("chapter1.txt", "Chapter One: The Harbour", "harbour", 95_000),
    ("chapter2.txt", "Chapter Two: The Railway", "railway", 80_000),
    ("notes/chapter3.txt", "Chapter Three: Notes from the Market", "market", 60_000),
]

SHARED = {
    "names": "Anna Tom Martha Elias Grace Henry Rosa Samuel Clara Jonah Ida Felix".split(),
    "nouns": """day night morning evening hour week year door window road house letter
        voice hand face friend child mother father stranger town river hill wind rain light
        fire table bread coffee paper story question answer promise reason moment silence
        street corner bell clock lamp coat hat box key bridge garden""".split(),
    "adjectives": """old young small large quiet loud early late cold warm dark bright long
        short narrow wide grey green blue red heavy light tired patient careful strange
        familiar empty crowded distant sudden gentle""".split(),
    "verbs": """saw heard found kept carried opened closed watched remembered counted
        followed left brought wrote read asked answered waited noticed lost mended painted
        passed crossed""".split(),
    "adverbs": """slowly quickly quietly again still once twice nearly almost already
        carefully suddenly together alone""".split(),
    "places": """at the door|by the window|on the road|near the river|in the garden|under
        the bridge|across the street|at the corner|in the house|on the hill""".split("|"),
    "times": """that morning|before dawn|after supper|in the evening|all week|by noon|the
        next day|late at night|every spring|once a year""".split("|"),
}

THEMES = {
    "harbour": {
        "nouns": """boat ship harbour quay net rope sail mast gull tide wave fisherman
            lighthouse anchor deck crate barrel storm fog shore cove pier crew captain
            lantern oar hull keel compass chart buoy mackerel herring cod oyster salt
            beacon jetty skiff""".split(),
        "adjectives": """salty wet windy foggy stormy calm tarred weathered seaworthy
            moored anchored choppy briny""".split(),
        "verbs": """rowed sailed hauled mended moored anchored caught netted steered
            drifted sank launched tied""".split(),
    },
    "railway": {
        "nouns": """train station platform ticket carriage engine track signal whistle
            tunnel valley mountain pass timetable conductor porter luggage suitcase
            sleeper junction viaduct smoke coal stoker guard passenger traveller bench
            waiting-room clockwork semaphore siding locomotive""".split(),
        "adjectives": """steep snowy punctual delayed crowded rattling sooty narrow-gauge
            alpine distant echoing steaming""".split(),
        "verbs": """boarded missed punched whistled shunted climbed descended stopped
            departed arrived coupled signalled""".split(),
    },
    "market": {
        "nouns": """market stall baker butcher cheese cafe pastry croissant apricot fig
            lemon pepper saffron soup bread basket scale coin vendor customer recipe
            kitchen chef awning canopy ladle kettle jam honey plum""".split(),
        "adjectives": """ripe fresh sour sweet spicy crusty fragrant eager bustling
            honest cheap dear""".split(),
        "verbs": """sold bought weighed tasted baked stirred sliced haggled bargained
            peeled wrapped priced""".split(),
    },
}

TEMPLATES = [
    "{Name} {verb} the {adj} {noun} {place}.",
    "The {noun} was {adj}, and the {noun2} was {adj2}.",
    "{Times}, {name} {adverb} {verb} a {adj} {noun}.",
    "Nobody {verb} the {noun} {place}, not even {name}.",
    "\u201cWhere is the {noun}?\u201d asked {name}. \u201c{Place}, of course.\u201d",
    "It was a {adj} {noun}, {adj2} and {adj3}, and {name} {verb} it {times}.",
    "{Name} and {name2} {verb} the {noun} {adverb} \u2014 the {noun2} {verb2} it too.",
    "The {adj} {noun} {verb} the {noun2} {times}; it had {adverb} {verb2} the {noun3}.",
    "There were {number} {nouns} {place}, and {name} {verb} every one of them.",
    "{Name} didn't know why the {noun} {verb} the {adj} {noun2}.",
]
NUMBERS = "two three four five seven ten twelve twenty 3 7 12 40 100 1859".split()


def zipf_pick(rng: random.Random, words: list[str]) -> str:
    """A word with weight 1/rank, so the first words of a list are the common ones."""
    return rng.choices(words, weights=[1 / (i + 1) for i in range(len(words))])[0]


def plural(noun: str) -> str:
    """English plural, good enough for the lexicon above."""
    if noun == "child":
        return "children"
    if noun.endswith("man"):
        return noun[:-3] + "men"
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def sentence(rng: random.Random, theme: dict[str, list[str]]) -> str:
    """One sentence: a template filled with shared and themed words (themed about half)."""
    def pick(kind: str) -> str:
        themed = theme.get(kind)
        return zipf_pick(rng, themed if themed and rng.random() < 0.5 else SHARED[kind])

    fields = {
        "name": zipf_pick(rng, SHARED["names"]), "name2": zipf_pick(rng, SHARED["names"]),
        "noun": pick("nouns"), "noun2": pick("nouns"), "noun3": pick("nouns"),
        "adj": pick("adjectives"), "adj2": pick("adjectives"), "adj3": pick("adjectives"),
        "verb": pick("verbs"), "verb2": pick("verbs"), "adverb": pick("adverbs"),
        "place": zipf_pick(rng, SHARED["places"]), "times": zipf_pick(rng, SHARED["times"]),
        "number": rng.choice(NUMBERS),
    }
    fields["nouns"] = plural(fields["noun"])
    fields.update({k.capitalize(): v[0].upper() + v[1:] for k, v in list(fields.items())})
    return rng.choice(TEMPLATES).format(**fields)


def chapter(rng: random.Random, title: str, theme: str, size: int) -> str:
    """A title, then paragraphs of 3-8 sentences wrapped at 72 columns, up to ``size``."""
    paragraphs = [title]
    total = len(title)
    while total < size:
        text = " ".join(sentence(rng, THEMES[theme]) for _ in range(rng.randint(3, 8)))
        paragraphs.append(textwrap.fill(" ".join(text.split()), width=72))
        total += len(paragraphs[-1].encode("utf-8")) + 2
    return "\n\n".join(paragraphs) + "\n"


def write_sample(out_dir: str, seed: int = SEED) -> list[str]:
    """Write every chapter under ``out_dir``; returns the paths written."""
    rng = random.Random(seed)
    paths = []
    for name, title, theme, size in CHAPTERS:
        path = os.path.join(out_dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(chapter(rng, title, theme, size))
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--out", default=os.path.join(root, "data", "sample"))
    args = parser.parse_args()
    for path in write_sample(args.out):
        print(path, os.path.getsize(path))


if __name__ == "__main__":
    main()
