"""Where a job may write, and what ``--overwrite`` may delete: nothing a user owns.

Two checks, made by every way of submitting a job (``zmr run``, ``zmr submit``,
``zmr.run``, ``Client.submit``, the inline runner) before anything is written or deleted,
and again by the coordinator, since any client may submit to it:

1. :func:`check_paths`: with every path resolved (symlinks, ``..``, the current directory,
   ``file://``, object-store prefixes), an output must not be an input, contain an input,
   lie inside an input directory (the next run over that directory would read the output
   as input: a wrong answer, no error), nor contain the current directory, the job file or
   a side file. Spark refuses the first ("Cannot overwrite a path that is also being read
   from"); the others are the same mistake one directory up or down.
2. :func:`check_existing`: an existing output is refused, and ``--overwrite`` removes only
   what zmr itself wrote (:func:`removal_refusal`): an empty directory, or one holding
   nothing but zmr's names (``part-NNNNN[.ext]``, ``_SUCCESS``, ``_temporary/``,
   ``_steps/``) with at least one of ``_SUCCESS``, ``_temporary/`` or ``_steps/``, the marks
   of a committed job or of a partial one. A file the user put there is never deleted:
   unlike Spark's overwrite mode, which deletes whatever is at the path, zmr refuses and
   says which file is in the way.
"""

from __future__ import annotations

import glob
import os
import posixpath
import re
from collections.abc import Iterable, Sequence

from zmr.core.errors import OutputError
from zmr.core.plan import JobPlan
from zmr.storage import fs, layout

#: The part files a job commits: ``part-00000``, ``part-00000.parquet``, any suffixes.
PART_NAME = re.compile(r"part-\d{5,}(\.[A-Za-z0-9]+)*")
#: A directory holding one of these was written by a zmr job (finished, or partial).
MARKERS = (layout.SUCCESS, layout.TEMPORARY, layout.STEPS)
#: zmr's own files and directories in an output, besides the part files.
ZMR_FILES = (layout.SUCCESS, layout.SUCCESS + ".tmp")
ZMR_DIRS = (layout.TEMPORARY, layout.STEPS, layout.QUARANTINE)


def resolve(path: str) -> str:
    """``path`` as the filesystem sees it: a local path absolute with its symlinks and
    ``..`` resolved (``file://`` and ``~`` too; the part that does not exist yet is kept as
    written), a URI with a lower-case scheme, ``..`` and doubled or trailing slashes
    removed (an object store has no symlinks)."""
    if fs.is_uri(path):
        scheme, _, rest = path.partition("://")
        rest = posixpath.normpath(rest.strip("/")) if rest.strip("/") else ""
        return f"{scheme.lower()}://{rest}"
    return os.path.realpath(os.path.expanduser(fs.local_path(path)))


def contains(outer: str, inner: str) -> bool:
    """Whether resolved ``inner`` is resolved ``outer`` or lies under it."""
    if fs.is_uri(outer) != fs.is_uri(inner):
        return False
    return inner == outer or inner.startswith(outer.rstrip("/") + "/")


def _named(given: str, resolved: str) -> str:
    """A path as the user gave it, and what it resolves to when that differs."""
    return given if given == resolved else f"{given} ({resolved})"


def input_roots(given: Iterable[str]) -> list[str]:
    """The inputs to keep outputs out of: each path, or each entry a glob matches now (a
    glob is what it reads, not its whole directory)."""
    roots: list[str] = []
    for path in given:
        local = fs.local_path(path)
        if not fs.is_uri(path) and glob.has_magic(local):
            roots += sorted(glob.glob(local, recursive=True))
        else:
            roots.append(path)
    return roots


def _current_directory() -> str | None:
    try:
        return os.getcwd()
    except OSError:              # deleted under us: nothing left to protect there
        return None


def check_paths(outputs: Sequence[str], inputs: Iterable[str],
                protected: Sequence[tuple[str, str]] = (),
                here: str = "current directory") -> None:
    """Refuse (OutputError) an output that is, contains or lies inside an input, or that
    contains this process's working directory (called ``here`` in the message) or one of
    ``protected`` (``(what, path)``: the job file, side files). Both paths are named in
    the message, as given and resolved."""
    roots = [(path, resolve(path)) for path in input_roots(inputs)]
    cwd = _current_directory()
    kept = [(here, cwd)] if cwd else []
    kept += [(what, path) for what, path in protected if path]
    for output in outputs:
        out = resolve(output)
        problem = _input_problem(output, out, roots) or _kept_problem(output, out, kept)
        if problem:
            raise OutputError(f"{problem}; choose another output")


def _input_problem(output: str, out: str, roots: list[tuple[str, str]]) -> str:
    for given, root in roots:
        where = f"output {_named(output, out)}"
        if out == root:
            return f"{where} is also an input ({_named(given, root)}): a job cannot " \
                   "replace what it reads"
        if contains(out, root):
            return f"{where} contains the input {_named(given, root)}: writing it would " \
                   "replace what the job reads"
        if contains(root, out):
            return f"{where} lies inside the input directory {_named(given, root)}: the " \
                   "next run over that directory would read this output as its input"
    return ""


def _kept_problem(output: str, out: str, kept: list[tuple[str, str]]) -> str:
    for what, path in kept:
        if contains(out, resolve(path)):
            return f"output {_named(output, out)} contains the {what} {path}"
    return ""


def check_plans(plans: Sequence[JobPlan], job_file: str = "",
                here: str = "current directory") -> None:
    """:func:`check_paths` for a job's plans (a multi-step job's: every step's output
    against the job's inputs, which the first step reads; later steps read the steps
    before, under ``<output>/_steps``, which are zmr's own)."""
    # a job built from functions has a name, not a file, as its source
    protected = [("job file", job_file)] if job_file and os.path.isfile(job_file) else []
    protected += sorted({("side file", path) for plan in plans for path in plan.files.values()})
    # the job's own output first: the one the user named, so the one an error names
    outputs = [plans[-1].output, *(plan.output for plan in plans[:-1])]
    check_paths(outputs, plans[0].input_roots, protected, here)


def check_job(plans: Sequence[JobPlan], job_file: str, overwrite: bool) -> None:
    """Every check of a job's output that a client makes before it writes or submits
    anything: :func:`check_plans`, then :func:`check_existing` of the job's output (the
    last plan's). Nothing is deleted here: the inline runner or the coordinator removes an
    output that ``overwrite`` replaces, checking again first."""
    check_plans(plans, job_file)
    check_existing(plans[-1].output, overwrite)


def check_existing(output: str, overwrite: bool) -> bool:
    """Whether ``output`` exists; an OutputError if it does, unless ``overwrite`` and
    zmr may remove it (:func:`removal_refusal`)."""
    exists = fs.exists(output) if fs.is_uri(output) else os.path.lexists(output)
    if not exists:
        return False
    what = "output" if fs.is_uri(output) else "output directory"
    if not overwrite:
        raise OutputError(f"{what} {output} already exists (remove it, or pass --overwrite; "
                          "overwrite=True from Python)")
    try:
        refusal = removal_refusal(output)
    except OSError as exc:      # an unreadable directory is not known to be zmr's
        raise OutputError(f"{what} {output} exists and cannot be inspected: {exc}") from None
    if refusal:
        raise OutputError(f"{what} {output} exists and --overwrite will not remove it: "
                          f"{refusal}. --overwrite replaces only an empty directory or "
                          "one a zmr job wrote (part files with _SUCCESS or _temporary/); "
                          "remove it yourself if nothing in it is needed")
    return True


def removal_refusal(output: str) -> str:
    """Why zmr must not delete the existing ``output``; "" when it may (see the module)."""
    if fs.is_uri(output):
        return _prefix_refusal(output)
    if os.path.islink(output):
        return "it is a symbolic link, which zmr never makes (give the directory it " \
               "points to, or remove the link)"
    if not os.path.isdir(output):
        return "it is a file, not an output directory"
    names = sorted(os.listdir(output))
    foreign = [name for name in names if not is_zmr_entry(output, name)]
    if foreign:
        return f"it holds {_few(foreign)}, which zmr did not write"
    if names and not set(MARKERS) & set(names):
        return "it holds part files but neither _SUCCESS nor _temporary/, so no zmr job " \
               "is known to have written it"
    return ""


def is_zmr_entry(directory: str, name: str) -> bool:
    """Whether ``name`` in an output directory is one zmr writes: a part file,
    ``_SUCCESS``, or its ``_temporary``/``_steps`` directory (links are never zmr's)."""
    path = os.path.join(directory, name)
    if os.path.islink(path):
        return False
    if PART_NAME.fullmatch(name) or name in ZMR_FILES:
        return os.path.isfile(path)
    return name in ZMR_DIRS and os.path.isdir(path)


def _prefix_refusal(output: str) -> str:
    """:func:`removal_refusal` on an object store: every object under the prefix must be
    a part file, ``_SUCCESS`` or under ``_temporary/`` or ``_steps/``."""
    listed = [uri for uri, _ in fs.list_files(output)]
    base = output.rstrip("/")
    if listed == [output] or listed == [base]:
        return "it is an object, not a prefix a job wrote"
    relative = [uri[len(base) + 1:] for uri in listed if uri.startswith(base + "/")]
    tops = {name.split("/", 1)[0] for name in relative}
    foreign = sorted(name for name in relative if not (
        name.split("/", 1)[0] in ZMR_DIRS or PART_NAME.fullmatch(name) or name in ZMR_FILES))
    if foreign:
        return f"it holds {_few(foreign)}, which zmr did not write"
    if relative and not set(MARKERS) & tops:
        return "it holds part files but neither _SUCCESS nor _temporary/, so no zmr job " \
               "is known to have written it"
    return ""


def _few(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
