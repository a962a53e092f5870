"""Finding the input files (Hadoop's FileInputFormat listing rules).

Inputs are files, directories (walked recursively) and globs. Hidden (``.``) and
``_``-prefixed files and directories are skipped, like Hadoop's hidden-file filter, so
``_SUCCESS``, ``_logs/`` and ``.git/`` never become input; a path named explicitly is always
taken. Each file comes with its size from the listing itself, so planning many small files
costs one pass over their directories.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import stat
import time
from collections.abc import Sequence
from typing import NamedTuple

from zmr.core.errors import BadInputError, InputError
from zmr.core.specs import FileStamp
from zmr.storage import fs

__all__ = ["InputFile", "check_unchanged", "discover_inputs", "file_stamp", "list_inputs"]


class InputFile(NamedTuple):
    """An input file as listed: its absolute path (or URI) and size in bytes. ``symlink``
    says whether the path itself is a link (then its own target decides its locality);
    ``mtime_ns`` when it was last modified (0: unknown, as for object-store listings)."""

    path: str
    size: int
    symlink: bool = False
    mtime_ns: int = 0

    @property
    def stamp(self) -> FileStamp:
        return FileStamp(self.size, self.mtime_ns)


def discover_inputs(paths: Sequence[str]) -> list[str]:
    """Every input file named by ``paths`` (files, directories, globs): absolute, sorted,
    without duplicates. Raises ``InputError`` naming a missing path, a glob that matches
    nothing, or an unreadable file or directory."""
    return [f.path for f in list_inputs(paths)]


def list_inputs(paths: Sequence[str]) -> list[InputFile]:
    """:func:`discover_inputs` with each file's size, taken from the listing itself
    (``os.scandir`` entries, object-store listings): planning 100,000 files is one pass
    over their directories with one ``stat`` per file, no open or realpath."""
    if isinstance(paths, str):      # a lone string is one path, not a sequence of letters
        paths = [paths]
    found: dict[str, InputFile] = {}
    for path in paths:
        found.update((f.path, f) for f in _expand(path))
    if not found:
        raise InputError(f"no input files found in: {', '.join(paths)}")
    return [found[p] for p in sorted(found)]


def _expand(path: str) -> list[InputFile]:
    """The files one input argument stands for."""
    if fs.is_uri(path):
        return _remote_files(path)
    path = fs.local_path(path)
    if not glob.has_magic(path):
        if not os.path.exists(path):
            raise InputError(f"input path {path} does not exist")
        return _files_under(path)       # named explicitly: taken even if hidden
    matches = [m for m in glob.glob(path, recursive=True) if not _hidden_match(m, path)]
    if not matches:
        raise InputError(f"input pattern {path} matches no files")
    return [f for match in matches for f in _files_under(match)]


def _remote_files(uri: str) -> list[InputFile]:
    """Files at or under a URI, skipping hidden names below it (as for directories)."""
    try:
        listed = fs.list_files(uri)
    except OSError as exc:
        raise InputError(f"cannot list input {uri}: {exc}") from None
    base = uri.rstrip("/")
    return [InputFile(u, size) for u, size in listed
            if u == uri or not any(_hidden(p) for p in u[len(base):].split("/"))]


def _hidden(name: str) -> bool:
    return name.startswith((".", "_")) and name not in (".", "..")


def _hidden_match(match: str, pattern: str) -> bool:
    """True when a wildcard matched a hidden name (file or directory on the way).

    Python's glob already keeps ``*`` off ``.``-names unless the pattern part starts with a
    dot; this extends the same rule to ``_``-names, so ``data/**/*.txt`` skips
    ``data/_tmp/x.txt`` but ``data/_tmp/*.txt`` and ``data/_*.txt`` mean what they say.
    """
    hidden_parts = [p for p in pattern.split(os.sep) if _hidden(p)]
    return any(_hidden(name) and not any(fnmatch.fnmatchcase(name, p) for p in hidden_parts)
               for name in match.split(os.sep))


def _files_under(path: str) -> list[InputFile]:
    """``path`` itself if it is a file, else the non-hidden regular files below it."""
    path = os.path.abspath(path)
    if not os.path.isdir(path):
        _check_readable(path)
        stamp = file_stamp(path)
        return [InputFile(path, stamp.size, os.path.islink(path), stamp.mtime_ns)]
    files: list[InputFile] = []
    todo, me = [path], os.geteuid()
    while todo:                     # a stack, not recursion: trees may be deep
        for entry in _entries(todo.pop()):
            if _hidden(entry.name):
                continue
            if entry.is_dir():
                if not entry.is_symlink():      # as os.walk: links to directories not followed
                    todo.append(entry.path)
            # is_file: FIFOs and sockets would block or fail a map task much later. It and
            # is_symlink come from the directory listing; stat() is the one call per file.
            elif entry.is_file():
                st = entry.stat()
                _check_readable(entry.path, st.st_mode, st.st_uid == me)
                files.append(InputFile(entry.path, st.st_size, entry.is_symlink(),
                                       st.st_mtime_ns))
    return files


def _check_readable(path: str, mode: int = 0, ours: bool = False) -> None:
    """Refuse an unreadable file now rather than in a map task. Mode bits that let anyone
    (or us, the owner) read settle it without a second system call per file."""
    if mode & stat.S_IROTH or (ours and mode & stat.S_IRUSR):
        return
    if not os.access(path, os.R_OK):
        raise InputError(f"input file {path} is not readable")


def _entries(directory: str) -> list[os.DirEntry[str]]:
    # an unlistable directory must not silently drop part of the input
    try:
        with os.scandir(directory) as entries:
            return list(entries)
    except OSError as exc:
        raise InputError(f"cannot list input directory {directory}: {exc.strerror}") from exc


def file_stamp(path: str) -> FileStamp:
    """A file's size and modification time in ns (0 where a store keeps none); InputError
    naming it if it cannot be read."""
    try:
        if fs.is_uri(path):
            found = fs.info(path)
            return FileStamp(int(found.size or 0), int(found.mtime_ns or 0))
        st = os.stat(path)
    except OSError as exc:
        raise InputError(f"cannot read input {path}: {exc.strerror or exc}") from exc
    return FileStamp(st.st_size, st.st_mtime_ns)


def check_unchanged(path: str, planned: FileStamp | None) -> None:
    """Refuse to read a file that changed since the job was planned (``InputError``): its
    splits were cut from the old contents, and outputs of both versions would be mixed
    into one answer. Nothing to check without a stamp (a plan from an older zmr), nor on
    an object store, where each check would be a request per file and listings give no
    modification time."""
    if planned is None or fs.is_uri(path):
        return
    now = file_stamp(path)
    if now.size == planned.size and (not planned.mtime_ns or now.mtime_ns == planned.mtime_ns):
        return
    raise BadInputError(f"input {path} changed after the job was planned (size "
                     f"{planned.size:,} -> {now.size:,} bytes, modified {_when(planned)} -> "
                     f"{_when(now)}): its splits no longer match it; run the job again on "
                     "input that stays put while it runs")


def _when(stamp: FileStamp) -> str:
    if not stamp.mtime_ns:
        return "?"
    seconds, ns = divmod(stamp.mtime_ns, 10**9)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds)) + f".{ns:09d} UTC"
