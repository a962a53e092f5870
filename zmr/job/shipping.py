"""How a job's code and side files travel to workers: one checksummed zip archive per job.

A job loaded from a file ships as **source** (mrjob and Hadoop Streaming semantics): the job
file and the local modules and packages it imported from its own directory tree (never
site-packages, never zmr) travel as files and are imported again on each worker, in each
task process, so module-level state (``random.SystemRandom()``, a lock, a client, an open
file) is created there, as the job author wrote it. A job built from functions in a Python
session has no file to ship: it travels **pickled** (cloudpickle, by value), and a global
that cannot be pickled is an error naming it (:func:`pickled_job`).

Side files (``--file``, ``FILES``) travel in the same archive, once per worker per job.

The archive holds ``zmr-bundle.json`` (what it is and the SHA-256 of every other member),
``src/...`` (source), ``job.pkl`` (pickled) and ``files/<name>`` (side files). A worker
unpacks it once per job under the job's work directory, which the worker deletes when the
job ends (:mod:`zmr.worker.housekeeping`); tasks run with ``files/`` as their working
directory.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import types
import uuid
import zipfile
from collections.abc import Iterator, Mapping
from typing import Any

import cloudpickle

from zmr.core.errors import ConfigError, DataCorruptionError, JobDefinitionError
from zmr.job import params
from zmr.job.api import HOOK_NAMES, JobSpec, Pipeline
from zmr.job.loader import import_file, runnable_from_module, with_reducer_as_combiner
from zmr.storage import layout

MANIFEST = "zmr-bundle.json"
SOURCE, PICKLED = "source", "pickled"


# -- the client side -------------------------------------------------------------------------

def pack_job(job: JobSpec, files: Mapping[str, str] | None = None,
             limit: int | None = None) -> bytes:
    """The archive of ``job`` (as source if it came from a job file, else pickled) with the
    side ``files`` (name in the task's working directory -> path here), whose total size
    may be at most ``limit`` bytes (the cluster's ``tasks.max_files_size``)."""
    if limit is not None:
        check_files_size(files or {}, limit)
    members: dict[str, bytes] = {}
    manifest: dict[str, Any] = {"files": sorted(files or {})}
    if job.module_file:
        manifest.update(kind=SOURCE, **_source_members(job, members))
    else:
        manifest.update(kind=PICKLED, source=job.source)
        members["job.pkl"] = pickled_job(job)
    for name, path in (files or {}).items():
        members[f"files/{name}"] = _read(path, f"side file {name}")
    return _zip(manifest, members)


def _source_members(job: JobSpec, members: dict[str, bytes]) -> dict[str, Any]:
    """The job file and its local modules under ``src/``; what the worker needs to load the
    same job from them (which step, and whether --combiner applied)."""
    top = os.path.dirname(job.module_file)
    for relpath in local_sources(job.module_file):
        members[f"src/{relpath}"] = _read(os.path.join(top, relpath), "job source")
    return {"job": os.path.basename(job.module_file), "source": job.module_file,
            "step": job.step,
            "combiner_is_reducer": job.reducer is not None and job.combiner is job.reducer}


def check_files_size(files: Mapping[str, str], limit: int) -> None:
    """Refuse side files over the limit before reading them, naming the largest."""
    sizes = {}
    for path in files.values():
        try:
            sizes[path] = os.path.getsize(path)
        except OSError as exc:
            raise ConfigError(f"side file {path}: {exc.strerror or exc}") from None
    if sum(sizes.values()) > limit:
        largest = max(sizes, key=lambda p: sizes[p])
        raise ConfigError(f"side files total {sum(sizes.values()):,} bytes, over "
                          f"tasks.max_files_size = {limit:,} (largest: {largest}, "
                          f"{sizes[largest]:,} bytes)")


@contextlib.contextmanager
def working_directory(files: Mapping[str, str]) -> Iterator[None]:
    """For tasks run in this process (``zmr run --inline``): a fresh working directory
    holding the side files under their names, as a worker's tasks have, for the duration."""
    if not files:
        yield
        return
    saved, directory = os.getcwd(), tempfile.mkdtemp(prefix="zmr-files-")
    try:
        for name, path in files.items():
            shutil.copyfile(path, os.path.join(directory, name))
        os.chdir(directory)
        yield
    finally:
        os.chdir(saved)
        shutil.rmtree(directory, ignore_errors=True)


def local_sources(job_file: str) -> list[str]:
    """Paths (relative to the job file's directory) of the job file and of every module it
    imported from that directory tree: by name, so ``helpers`` is ``helpers.py`` and
    ``lib.text`` is ``lib/text.py``, and every ``.py`` file of an imported package (a
    submodule imported later, inside a hook, must be there too)."""
    top = os.path.dirname(os.path.abspath(job_file))
    found = {os.path.basename(job_file)}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not path or name.split(".")[0] == "zmr" or _installed(path):
            continue
        relpath = os.path.relpath(os.path.abspath(path), top)
        expected = name.replace(".", os.sep)
        if relpath in (expected + ".py", os.path.join(expected, "__init__.py")):
            found.add(relpath)
            if relpath.endswith("__init__.py"):
                found.update(_package_files(top, os.path.dirname(relpath)))
    return sorted(found)


def _installed(path: str) -> bool:
    """Whether a module file belongs to an installed distribution (never shipped)."""
    parts = path.split(os.sep)
    return "site-packages" in parts or "dist-packages" in parts


def _package_files(top: str, package: str) -> list[str]:
    files = []
    for root, dirs, names in os.walk(os.path.join(top, package)):
        dirs[:] = [d for d in dirs if not d.startswith((".", "__pycache__"))]
        files += [os.path.relpath(os.path.join(root, n), top) for n in names
                  if n.endswith(".py")]
    return files


def pickled_job(job: JobSpec) -> bytes:
    """A job built from functions, by value (cloudpickle). A global the hooks use that
    cannot be pickled (a lock, an RNG, a client, an open file) is a JobDefinitionError
    naming it, not a library traceback."""
    for hook in HOOK_NAMES:     # a step's mapper may be zmr's identity_mapper: look further
        module = sys.modules.get(_code_module(getattr(job, hook)) or "")
        if module is not None and module.__name__.startswith("zmr_job_"):
            cloudpickle.register_pickle_by_value(module)
            break
    out = io.BytesIO()
    try:
        _NamedCodePickler(out, protocol=cloudpickle.DEFAULT_PROTOCOL).dump(job)
    except Exception as exc:  # noqa: BLE001 - pickling runs arbitrary __reduce__ code
        raise JobDefinitionError(_unpicklable(job, exc)) from None
    return out.getvalue()


def _code_keeping_its_file(code: types.CodeType) -> tuple[Any, ...]:
    """cloudpickle's own reduction of a code object, with its real file name put back."""
    constructor, args = cloudpickle.Pickler.dispatch_table[types.CodeType](code)
    return constructor, tuple(code.co_filename if isinstance(arg, str)
                              and arg == "<dynamic-code>" else arg for arg in args)


class _NamedCodePickler(cloudpickle.Pickler):
    """cloudpickle (3.0 on) names the file of all code it pickles by value
    ``<dynamic-code>``, so that a payload does not depend on where the code was defined.
    A job's tracebacks on workers must name the user's file and line, as they do inline and
    for jobs shipped as source, so the real name travels with the code."""

    dispatch_table = collections.ChainMap({types.CodeType: _code_keeping_its_file},
                                          cloudpickle.Pickler.dispatch_table)


def _code_module(hook: Any) -> str | None:
    """The module whose code ``hook`` runs: its own, or for a hook that is a method of an
    adapter running another module's code (an mrjob step), that module."""
    owner = getattr(hook, "__self__", None)
    return getattr(owner, "code_module", None) or getattr(hook, "__module__", None)


def _unpicklable(job: JobSpec, exc: Exception) -> str:
    for hook in HOOK_NAMES:
        fn = getattr(job, hook)
        for name in getattr(getattr(fn, "__code__", None), "co_names", ()):
            value = getattr(fn, "__globals__", {}).get(name)
            if value is None or isinstance(value, (types.ModuleType, types.FunctionType)):
                continue
            try:
                cloudpickle.dumps(value)
            except Exception:  # noqa: BLE001 - this is the one that fails
                return (f"{job.source}: global {name!r} ({type(value).__name__}) used by "
                        f"{hook} cannot be pickled to ship the job to workers; create it "
                        f"in mapper_init/reducer_init, or run the job from a file (job "
                        f"files ship as source and are imported on each worker)")
    return f"{job.source}: the job cannot be pickled to ship it to workers: " \
           f"{type(exc).__name__}: {exc}"


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise JobDefinitionError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None


def _zip(manifest: dict[str, Any], members: dict[str, bytes]) -> bytes:
    manifest["sha256"] = {name: hashlib.sha256(data).hexdigest()
                          for name, data in members.items()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest))
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


# -- the worker side -------------------------------------------------------------------------

def unpack_job(blob: bytes, work_dir: str, job_params: Mapping[str, Any]) -> JobSpec:
    """The job of ``blob``, unpacked (once per job, whichever task process comes first)
    under ``work_dir`` and loaded in this process, whose working directory becomes the
    job's side-file directory. Source is imported with ``job_params`` in force."""
    code_dir = layout.job_code_dir(work_dir, hashlib.sha256(blob).hexdigest())
    manifest = _unpacked(blob, code_dir)
    os.chdir(layout.job_files_dir(code_dir))
    if manifest["kind"] == PICKLED:
        with open(os.path.join(code_dir, "job.pkl"), "rb") as f:
            return _unpickled(f.read())
    params.set_current(job_params)
    return _import_shipped(manifest, os.path.join(code_dir, "src"))


def _unpacked(blob: bytes, code_dir: str) -> dict[str, Any]:
    """Extract and verify into a private directory, then rename it into place: task
    processes of one worker may do this at once, and the first rename wins."""
    if not os.path.isdir(code_dir):
        staging = f"{code_dir}.{uuid.uuid4().hex}"
        try:
            _extract(blob, staging)
            os.rename(staging, code_dir)
        except OSError:
            if not os.path.isdir(code_dir):
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    with open(os.path.join(code_dir, MANIFEST), encoding="utf-8") as f:
        manifest: dict[str, Any] = json.load(f)
    return manifest


def _extract(blob: bytes, target: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            manifest = json.loads(archive.read(MANIFEST))
            for name, digest in manifest["sha256"].items():
                data = archive.read(name)
                if hashlib.sha256(data).hexdigest() != digest or ".." in name.split("/"):
                    raise DataCorruptionError(f"job archive member {name}: checksum mismatch")
                path = os.path.join(target, *name.split("/"))
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    f.write(data)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DataCorruptionError(f"job archive is damaged: {exc}") from None
    os.makedirs(layout.job_files_dir(target), exist_ok=True)
    with open(os.path.join(target, MANIFEST), "w", encoding="utf-8") as f:
        json.dump(manifest, f)


def _unpickled(blob: bytes) -> JobSpec:
    job = cloudpickle.loads(blob)
    if not isinstance(job, JobSpec):
        raise JobDefinitionError("job payload is not a zmr job")
    return job


_shipped_dirs: list[str] = []


def _import_shipped(manifest: dict[str, Any], src: str) -> JobSpec:
    """Import the job file from ``src`` as on the client, its errors and tracebacks naming
    the user's own file; ``src`` stays importable (a hook may import later). The modules a
    previous job of this process shipped are forgotten first, so a ``helpers`` of another
    job is never the one found."""
    _forget_shipped()
    _shipped_dirs.append(src)
    sys.path.insert(0, src)
    module = import_file(os.path.join(src, manifest["job"]), manifest["source"])
    job = runnable_from_module(module, manifest["source"])
    if isinstance(job, Pipeline):
        job = job.steps[manifest["step"] - 1]
    if manifest["combiner_is_reducer"] and job.combiner is not job.reducer:
        job = with_reducer_as_combiner(job)
    return job  # type: ignore[return-value]


def _forget_shipped() -> None:
    for src in _shipped_dirs:
        while src in sys.path:
            sys.path.remove(src)
        for name, module in list(sys.modules.items()):
            if (getattr(module, "__file__", None) or "").startswith(src + os.sep):
                del sys.modules[name]
    _shipped_dirs.clear()
