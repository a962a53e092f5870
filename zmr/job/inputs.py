"""Jobs with several inputs (``INPUTS``, Hadoop's MultipleInputs): what each input reads,
and how the command line names them
(planning them is :func:`zmr.job.planning.plan_inputs`).

Each input is planned as a job of its own would be (its settings: the input's, else the
module's, else the defaults; a flag beats them all), and each of its splits carries the
input's position (``Split.input``), so a map task reads it in that input's format with that
input's mapper (``JobSpec.for_input``). The plan keeps each input's format options
(``JobPlan.input_options``). Splits of different inputs are never packed together.

The paths come from ``INPUTS``. ``--input NAME=PATH`` (repeatable; ``inputs={"NAME": PATH}``
or ``["NAME=PATH"]`` in Python) replaces the paths of the input named NAME for one run and
leaves the others as written; a bare ``--input PATH`` is an error naming ``INPUTS``, since
it could not say which input it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from zmr.core.errors import ConfigError
from zmr.job.api import JobSpec

Inputs = str | Sequence[str] | Mapping[str, str | Sequence[str]] | None


def input_args(inputs: Inputs) -> list[str]:
    """The inputs of a run as ``--input`` arguments: a path, a list of them, or (for a job
    with ``INPUTS``) a mapping of input name to path(s), which becomes ``NAME=PATH``."""
    if inputs is None:
        return []
    if isinstance(inputs, str):
        return [inputs]
    if isinstance(inputs, Mapping):
        return [f"{name}={path}" for name, paths in inputs.items()
                for path in ([paths] if isinstance(paths, str) else paths)]
    return list(inputs)


def input_paths(job: JobSpec, given: Sequence[str]) -> list[tuple[str, ...]]:
    """Each input's paths: as ``INPUTS`` has them, unless ``given`` (``NAME=PATH``
    arguments) names the input; then all the paths given for it."""
    names = [source.name for source in job.inputs]
    replaced: dict[str, list[str]] = {}
    for arg in given:
        name, equals, path = arg.partition("=")
        if not equals or name not in names or not path:
            raise ConfigError(
                f"--input {arg!r}: {job.source} defines INPUTS ({', '.join(names)}), so "
                "--input takes NAME=PATH, replacing the paths of the input named NAME "
                "(or give no --input to read the paths INPUTS lists)")
        replaced.setdefault(name, []).append(path)
    return [tuple(replaced.get(source.name, source.paths)) for source in job.inputs]
