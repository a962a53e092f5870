"""Paths that are URIs (``s3://bucket/prefix``, ``hdfs://...``) go through ``pyarrow.fs``;
plain paths stay on the local filesystem with Python's own calls.

S3 and S3-compatible stores take their endpoint and credentials the usual AWS ways
(``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``~/.aws``, instance
roles), which pyarrow's S3 filesystem reads; ``hdfs://`` works where pyarrow finds
libhdfs. Everything here names the URI in its errors.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import pyarrow.fs as pafs

from zmr.core.errors import InputError


def is_uri(path: str) -> bool:
    """``scheme://...`` other than ``file://`` (which is just a local path)."""
    scheme, sep, _ = path.partition("://")
    return bool(sep) and scheme.isalnum() and scheme.lower() != "file"


def local_path(path: str) -> str:
    """``file:///x`` -> ``/x``; anything else unchanged."""
    return path[len("file://"):] if path.startswith("file://") else path


def resolve(uri: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem of ``uri`` and the path inside it."""
    scheme, _, rest = uri.partition("://")
    try:
        return _filesystem(scheme.lower(), rest.split("/", 1)[0]), rest
    except (OSError, ValueError) as exc:       # pyarrow's ArrowInvalid is a ValueError
        raise InputError(f"cannot open {uri}: {exc}") from None


@lru_cache(maxsize=16)
def _filesystem(scheme: str, authority: str) -> pafs.FileSystem:
    """One filesystem object per scheme and bucket/namenode (they hold connection pools)."""
    fs, _ = pafs.FileSystem.from_uri(f"{scheme}://{authority}")
    return fs


def join(base: str, *names: str) -> str:
    return "/".join([base.rstrip("/"), *names])


def uri_of(uri: str, inner_path: str) -> str:
    """The URI of ``inner_path`` on the same filesystem as ``uri``."""
    return f"{uri.partition('://')[0]}://{inner_path}"


def info(uri: str) -> Any:
    fs, path = resolve(uri)
    return fs.get_file_info(path)


def exists(uri: str) -> bool:
    """A file, or a "directory" (a prefix with anything under it)."""
    found = info(uri)
    if found.type == pafs.FileType.NotFound:
        return False
    if found.type == pafs.FileType.Directory:
        fs, path = resolve(uri)
        return bool(fs.get_file_info(pafs.FileSelector(path, recursive=False,
                                                       allow_not_found=True)))
    return True


def list_files(uri: str) -> list[tuple[str, int]]:
    """(URI, size) of every file at or under ``uri``, sorted."""
    fs, path = resolve(uri)
    found = fs.get_file_info(path)
    if found.type == pafs.FileType.File:
        return [(uri, found.size)]
    if found.type == pafs.FileType.NotFound:
        raise InputError(f"input path {uri} does not exist")
    entries = fs.get_file_info(pafs.FileSelector(path, recursive=True))
    return sorted((uri_of(uri, e.path), e.size) for e in entries
                  if e.type == pafs.FileType.File)


def size(uri: str) -> int:
    found = info(uri)
    if found.type != pafs.FileType.File:
        raise InputError(f"input {uri} is not a file")
    return int(found.size)


def open_input(uri: str) -> Any:
    """A seekable binary file (ranged reads on object stores)."""
    fs, path = resolve(uri)
    return fs.open_input_file(path)


def open_binary(path: str) -> Any:
    """A local path or a URI, opened for binary reading (seekable)."""
    return open_input(path) if is_uri(path) else open(path, "rb")


def file_size(path: str) -> int:
    """The size of a local file or of the object a URI names."""
    return size(path) if is_uri(path) else os.path.getsize(path)


def upload(local_file: str, uri: str) -> None:
    """Copy a local file to ``uri`` (one PUT, or a multipart upload for large files): on
    S3 an object appears whole or not at all."""
    fs, path = resolve(uri)
    pafs.copy_files(local_file, path, destination_filesystem=fs)


def copy(src_uri: str, dest_uri: str) -> None:
    """Server-side copy within one filesystem (S3 CopyObject)."""
    fs, src = resolve(src_uri)
    fs.copy_file(src, resolve(dest_uri)[1])


def write_bytes(uri: str, data: bytes) -> None:
    fs, path = resolve(uri)
    with fs.open_output_stream(path) as out:
        out.write(data)


def delete_tree(uri: str) -> None:
    """Remove ``uri`` and everything under it (nothing if absent)."""
    fs, path = resolve(uri)
    found = fs.get_file_info(path)
    if found.type == pafs.FileType.File:
        fs.delete_file(path)
    elif found.type == pafs.FileType.Directory:
        fs.delete_dir_contents(path, missing_dir_ok=True)
        try:
            fs.delete_dir(path)
        except OSError:
            pass                    # object stores: an emptied prefix is already gone
