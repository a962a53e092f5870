"""Builds zmr's optional C extension, ``zmr._speedups`` (the map side's per-record loops).

Everything else is in pyproject.toml. ``optional=True``: on a machine without a C compiler
the install still succeeds, and zmr uses the pure-Python loops of the same semantics
(zmr/tasks/accel.py says which one runs).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("zmr._speedups", ["zmr/_speedups.c"], optional=True,
                             extra_compile_args=["-O2"])])
