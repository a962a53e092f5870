"""Builds zmr's optional C extension, ``zmr._speedups`` (the map side's per-record loops,
the key codec and the reduce side's grouping), and puts a copy of the example jobs and their
data into the wheel as ``zmr/_examples``.

Everything else is in pyproject.toml. ``optional=True``: on a machine without a C compiler
the install still succeeds, and zmr uses the pure-Python loops of the same semantics
(zmr/tasks/accel.py says which one runs). The examples' source stays at the top level
(``jobs/``, ``data/``), where the README and the tests use it; ``zmr examples`` copies
them out of an installed wheel.
"""

import shutil
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

#: The same list as zmr/cli/examples.py's PARTS (setup.py cannot import zmr).
EXAMPLES = ("jobs", "data/sample", "data/weather")


class build_py_with_examples(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return              # an editable install reads the checkout's own folders
        root = Path(__file__).parent
        target = Path(self.build_lib) / "zmr" / "_examples"
        for part in EXAMPLES:
            shutil.copytree(root / part, target / part, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


SOURCES = ["zmr/_speedups.c", "zmr/_codec.c", "zmr/_groups.c"]

setup(ext_modules=[Extension("zmr._speedups", SOURCES, optional=True,
                             extra_compile_args=["-O2"])],
      cmdclass={"build_py": build_py_with_examples})
