"""The digest of a job's map-side code, for ``--reuse`` (:mod:`zmr.tasks.reuse`).

A kept map output may stand in for a run of the map task only if everything the output
depends on is unchanged; this module digests the part that is code: the mapper (or
``map_batch``), combiner, partitioner, ``mapper_init``/``mapper_final``, a built-in
``REDUCE``'s map-side partials, of every input, and the side files' contents. The reducer
is left out on purpose: a changed reducer reuses every map.

Not cloudpickle's bytes: they name functions by where they were defined and are not stable
from one process to the next (sets of strings follow the per-process hash seed, code keeps
its line numbers). A function is digested as what it computes with: its bytecode and
constants, its defaults, its closure's values and, recursively, the globals its code
names, each by value; a module of the job's own files by its source, a library one (the
standard library, site-packages, zmr) by its name and version. So moving a function or
editing the reducer beside it changes nothing, and editing a helper the mapper calls,
a constant it reads or a module it imports from the job's directory changes the digest.

Anything the digest cannot read by value (an object that neither pickles nor is made of
parts it knows) gets a random digest: that map never reuses an output. Wrong reuse is the
one failure ``--reuse`` must not have; a needless rerun only costs time.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import pickle
import re
import sys
import sysconfig
import types
from collections.abc import Mapping
from typing import Any

from zmr.job.api import JobSpec
from zmr.job.loader import JOB_MODULE_PREFIX

#: The hooks whose code shapes a map output (the reducer's do not).
MAP_HOOKS = ("mapper", "map_batch", "combiner", "partitioner", "mapper_init", "mapper_final")
#: Side files are read in blocks of this size while digested.
_READ = 1 << 20
_ZMR_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def map_code_digest(job: JobSpec, files: Mapping[str, str]) -> str:
    """The digest of ``job``'s map-side code and of the side ``files`` (name -> path)."""
    digest = _Digester()
    parts = [digest.of(getattr(job, hook)) for hook in MAP_HOOKS]
    parts.append(digest.of(job.aggregation))
    for source in job.inputs:
        parts += [digest.of(getattr(source, hook)) for hook in
                  ("mapper", "map_batch", "mapper_init", "mapper_final")]
    parts += [_file_digest(name, path) for name, path in sorted(files.items())]
    parts.append(f"python {sys.version_info[0]}.{sys.version_info[1]}".encode())
    return _hash(b"job", *parts).hex()


def _file_digest(name: str, path: str) -> bytes:
    h = hashlib.blake2b(name.encode(), digest_size=16)
    with open(path, "rb") as f:
        while block := f.read(_READ):
            h.update(block)
    return h.digest()


def _hash(tag: bytes, *parts: bytes) -> bytes:
    h = hashlib.blake2b(tag, digest_size=16)
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.digest()


@functools.lru_cache(maxsize=1)
def _library_dirs() -> tuple[str, ...]:
    """Where the code of libraries lives: digested by name and version, not read."""
    paths = sysconfig.get_paths()
    found = {os.path.realpath(paths[key]) for key in ("stdlib", "platstdlib", "purelib",
                                                      "platlib") if key in paths}
    return tuple(sorted(found | {os.path.realpath(_ZMR_DIR)}))


def is_library_file(path: str | None) -> bool:
    """Whether code in ``path`` belongs to Python, an installed package or zmr."""
    if not path or path.startswith("<"):
        return path in ("<frozen>",) or bool(path and path.startswith("<frozen "))
    real = os.path.realpath(path)
    parts = real.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return True
    return any(real == d or real.startswith(d + os.sep) for d in _library_dirs())


_SIMPLE = (type(None), bool, int, float, complex, str, bytes)
#: Class attributes that say nothing of what its code computes (``__slotnames__`` is
#: cached on the class the first time one of its objects is pickled or copied).
_CLASS_BOOKKEEPING = ("__dict__", "__weakref__", "__module__", "__slotnames__")
#: The name a job module is loaded under ends in a count of the loads in this process
#: (zmr.job.loader): an adapter that names it (an mrjob step) must digest the same anyway.
_JOB_MODULE_NAME = re.compile(rf"^({JOB_MODULE_PREFIX}\w*?)_\d+$")


class _Digester:
    """Digests of values, each computed once (by id: the objects stay alive meanwhile);
    a value met again while being digested (a recursive function) stands for itself."""

    def __init__(self) -> None:
        self.done: dict[int, bytes] = {}
        self.keep: list[Any] = []        # what ``done`` names by id stays alive

    def of(self, value: Any) -> bytes:
        if isinstance(value, str):
            return _hash(b"str", _JOB_MODULE_NAME.sub(r"\1", value).encode())
        if isinstance(value, _SIMPLE):
            return _hash(type(value).__name__.encode(), repr(value).encode())
        key = id(value)
        if key in self.done:
            return self.done[key]
        self.done[key] = _hash(b"cycle", type(value).__qualname__.encode())
        self.keep.append(value)
        self.done[key] = self._compute(value)
        return self.done[key]

    def _compute(self, value: Any) -> bytes:
        if isinstance(value, (tuple, list)):
            return _hash(type(value).__name__.encode(), *map(self.of, value))
        if isinstance(value, (set, frozenset)):
            return _hash(b"set", *sorted(map(self.of, value)))
        if isinstance(value, dict):
            return _hash(b"dict", *sorted(_hash(b"item", self.of(k), self.of(v))
                                          for k, v in value.items()))
        if isinstance(value, types.CodeType):
            return self._code(value)
        if isinstance(value, types.FunctionType):
            return self._function(value)
        if isinstance(value, types.MethodType):
            return _hash(b"method", self.of(value.__func__), self.of(value.__self__))
        if isinstance(value, functools.partial):
            return _hash(b"partial", self.of(value.func), self.of(value.args),
                         self.of(value.keywords))
        if isinstance(value, types.ModuleType):
            return self._module(value)
        if isinstance(value, type):
            return self._class(value)
        if isinstance(value, (types.BuiltinFunctionType, types.MethodDescriptorType,
                              types.WrapperDescriptorType)):
            return _named(b"builtin", value)
        return self._instance(value)

    def _code(self, code: types.CodeType) -> bytes:
        """What the code computes: not its file and line numbers."""
        return _hash(b"code", code.co_code, self.of(code.co_consts),
                     self.of(code.co_names), self.of(code.co_varnames),
                     self.of(code.co_freevars), self.of(code.co_cellvars),
                     self.of((code.co_argcount, code.co_posonlyargcount,
                              code.co_kwonlyargcount, code.co_flags, code.co_name)))

    def _function(self, fn: types.FunctionType) -> bytes:
        if is_library_file(fn.__code__.co_filename):
            return _named(b"function", fn)
        cells = tuple(_cell_value(cell) for cell in fn.__closure__ or ())
        names = sorted(_global_names(fn.__code__))
        scope = fn.__globals__
        used = tuple((name, scope[name]) for name in names if name in scope)
        return _hash(b"function", self.of(fn.__code__), self.of(fn.__defaults__),
                     self.of(fn.__kwdefaults__), self.of(cells), self.of(used))

    def _module(self, module: types.ModuleType) -> bytes:
        path = getattr(module, "__file__", None)
        if path is None or is_library_file(path):
            return _named(b"module", module)
        with open(path, "rb") as f:        # the job's own module: by its source
            return _hash(b"source", f.read())

    def _class(self, cls: type) -> bytes:
        if _library_class(cls):
            return _named(b"class", cls)
        members = tuple((name, value) for name, value in sorted(vars(cls).items())
                        if name not in _CLASS_BOOKKEEPING)
        return _hash(b"class", cls.__qualname__.encode(), self.of(cls.__bases__),
                     self.of(members))

    def _instance(self, value: Any) -> bytes:
        """Any other object: one of a class the job defined by its class and its state;
        else by its pickle (a compiled regex, an array, a logger by its name), in which
        the job's own functions, classes and objects are digested by value (a plain
        pickle names them, and would miss a change to their code); else, if it does not
        pickle, by its state."""
        kind = self.of(type(value))
        if not _library_class(type(value)) and hasattr(value, "__dict__"):
            return self._state(kind, value)
        out = io.BytesIO()
        try:
            _DigestingPickler(out, self, value).dump(value)
        except Exception:  # noqa: BLE001 - pickling runs arbitrary __reduce__ code
            return self._state(kind, value) if hasattr(value, "__dict__") else _NEVER()
        return _hash(b"pickle", kind, out.getvalue())

    def _state(self, kind: bytes, value: Any) -> bytes:
        try:
            state = value.__getstate__()
        except Exception:  # noqa: BLE001 - user code
            return _NEVER()
        return _NEVER() if state is None else _hash(b"object", kind, self.of(state))


def _NEVER() -> bytes:  # noqa: N802 - reads as a value
    """The digest of what cannot be read by value: equal to nothing, so never reused."""
    return _hash(b"unknown", os.urandom(16))


class _DigestingPickler(pickle.Pickler):
    """A pickle of a library's object in which what belongs to the job (its functions,
    classes, modules and objects of its classes, met anywhere inside) is replaced by its
    digest."""

    def __init__(self, out: io.BytesIO, digester: _Digester, top: Any) -> None:
        super().__init__(out, protocol=4)
        self.digester, self.top = digester, top

    def persistent_id(self, obj: Any) -> str | None:
        if isinstance(obj, str):       # a job module's name, as loaded in this process
            named = _JOB_MODULE_NAME.sub(r"\1", obj)
            return named if named != obj else None
        if obj is self.top or isinstance(obj, _SIMPLE) or not _owned_by_job(obj):
            return None
        return self.digester.of(obj).hex()


def _owned_by_job(obj: Any) -> bool:
    """Whether ``obj`` is the job's own code, or an object of a class the job defined."""
    if isinstance(obj, types.FunctionType):
        return not is_library_file(obj.__code__.co_filename)
    if isinstance(obj, (types.MethodType, functools.partial)):
        return True
    if isinstance(obj, types.ModuleType):
        path = getattr(obj, "__file__", None)
        return path is not None and not is_library_file(path)
    return not _library_class(obj if isinstance(obj, type) else type(obj))


def _library_class(cls: type) -> bool:
    """Whether ``cls`` comes from Python, an installed package or zmr: a class of a module
    without a file is built in, except in ``__main__`` (a notebook's, a session's)."""
    module = sys.modules.get(cls.__module__)
    if module is None or cls.__module__ == "__main__":
        return module is None
    path = getattr(module, "__file__", None)
    return path is None or is_library_file(path)


def _named(tag: bytes, value: Any) -> bytes:
    """A library's function, class or module: by its name and its package's version."""
    module = getattr(value, "__module__", None) or getattr(value, "__name__", "")
    top = sys.modules.get(str(module).split(".")[0])
    version = str(getattr(top, "__version__", "")) if top is not None else ""
    name = getattr(value, "__qualname__", None) or getattr(value, "__name__", "")
    return _hash(tag, str(module).encode(), str(name).encode(), version.encode())


def _cell_value(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:                 # an empty cell (a name assigned later)
        return _EMPTY_CELL


_EMPTY_CELL = ("<empty cell>",)


def _global_names(code: types.CodeType) -> set[str]:
    """Every name ``code`` and the code nested in it may look up as a global."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names
