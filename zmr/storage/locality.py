"""Which machines hold an input file, for data-local scheduling (the MapReduce paper's
"schedule a map task on a machine that contains a replica of its input").

A file on a network or cluster filesystem (NFS, CIFS, Ceph, Lustre, GlusterFS, FUSE
mounts such as s3fs) is equally near every worker: no host. A file on a local disk is held
by the machine that planned the job, whose hostname is what workers on it report when they
register; workers elsewhere can only read it if the same path happens to exist there.
"""

from __future__ import annotations

import os
import socket
from functools import lru_cache

from zmr.storage.fs import is_uri

#: Filesystem types whose files every machine reads over the network.
SHARED_FS_TYPES = frozenset({"nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "lustre",
                             "glusterfs", "gpfs", "beegfs", "9p", "afs", "ocfs2", "gfs2"})


def hosts_holding(path: str, symlink: bool = True) -> tuple[str, ...]:
    """The hosts whose disks hold ``path``: this machine, unless it is on a shared mount
    or an object store (a URI), which are equally near every worker.

    ``symlink=False`` (the directory listing said ``path`` is no link) lets its directory
    decide, looked up once per directory: a realpath per file of 100,000 was most of the
    time of planning them.
    """
    if is_uri(path):
        return ()
    if symlink:
        return _hosts_of_real(os.path.realpath(path))
    return _hosts_of_directory(os.path.dirname(os.path.abspath(path)))


@lru_cache(maxsize=4096)
def _hosts_of_directory(directory: str) -> tuple[str, ...]:
    return _hosts_of_real(os.path.realpath(directory))


def _hosts_of_real(real_path: str) -> tuple[str, ...]:
    fs_type = _mount_type(real_path)
    if fs_type in SHARED_FS_TYPES or fs_type.startswith("fuse"):
        return ()
    return (socket.gethostname(),)


def _mount_type(path: str) -> str:
    """The type of the filesystem ``path`` is on (longest matching mount point)."""
    best, best_type = "", ""
    for mount_point, fs_type in _mounts():
        inside = path == mount_point or path.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) > len(best):
            best, best_type = mount_point, fs_type
    return best_type


@lru_cache(maxsize=1)
def _mounts() -> tuple[tuple[str, str], ...]:
    try:
        with open("/proc/self/mounts", encoding="utf-8") as f:
            fields = [line.split() for line in f]
    except OSError:                       # not Linux: no locality information
        return ()
    # octal escapes (\040 for a space) as /proc writes them
    return tuple((row[1].encode().decode("unicode_escape"), row[2]) for row in fields
                 if len(row) >= 3)
