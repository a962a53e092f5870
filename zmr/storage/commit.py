"""Output commit: attempts write to staging, commit by atomic link, first commit wins.

Like Hadoop's FileOutputCommitter: a task attempt writes ``part-NNNNN`` under
``<output>/_temporary/<task>-a<N>/`` and commits it with ``os.link`` to ``<output>/part-NNNNN``.
``link`` fails if the name exists, so when a retried or speculative attempt of the same task
also finishes, exactly one commit wins and the loser is discarded; a reader never sees a half
written part file. ``_SUCCESS`` is written last, when every task has committed.
"""

from __future__ import annotations

import errno
import os
import shutil

from zmr.errors import OutputError
from zmr.storage import layout


def prepare_output(output_dir: str, overwrite: bool = False) -> None:
    """Create the job's output directory; refuse an existing one unless ``overwrite``. A
    directory holding only ``_steps`` is the last step's of a multi-step job: it is taken."""
    if not _only_steps(output_dir):
        clear_output(output_dir, overwrite)
    try:
        os.makedirs(os.path.join(output_dir, layout.TEMPORARY))
    except OSError as exc:
        raise OutputError(f"cannot create output directory {output_dir}: {exc}") from exc


def clear_output(output_dir: str, overwrite: bool = False) -> None:
    """Refuse an existing output directory, or remove it with ``overwrite``."""
    if os.path.lexists(output_dir):
        if not overwrite:
            raise OutputError(f"output directory {output_dir} already exists "
                              "(remove it or pass --overwrite)")
        _remove(output_dir)


def _only_steps(output_dir: str) -> bool:
    return os.path.isdir(output_dir) and os.listdir(output_dir) == [layout.STEPS]


def commit_file(staged: str, final: str) -> bool:
    """Promote a staged file; False if another attempt already committed ``final``."""
    try:
        os.link(staged, final)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno == errno.EXDEV:   # staging on another filesystem: rename is still atomic
            return _rename_if_absent(staged, final)
        raise OutputError(f"cannot commit {final}: {exc}") from exc
    finally:
        if os.path.exists(staged):
            os.unlink(staged)
    return True


def _rename_if_absent(staged: str, final: str) -> bool:
    if os.path.exists(final):
        return False
    os.replace(staged, final)
    return True


def mark_success(output_dir: str) -> None:
    """Write ``_SUCCESS`` (atomically) and drop the staging area."""
    shutil.rmtree(os.path.join(output_dir, layout.TEMPORARY), ignore_errors=True)
    marker = layout.success_path(output_dir)
    with open(marker + ".tmp", "w"):
        pass
    os.replace(marker + ".tmp", marker)


def abort_output(output_dir: str) -> None:
    """Remove a failed job's partial output: committed parts, staging and any marker."""
    if not os.path.isdir(output_dir):
        return
    for name in os.listdir(output_dir):
        if name.startswith("part-") or name in (layout.TEMPORARY, layout.SUCCESS):
            _remove(os.path.join(output_dir, name))
    if not os.listdir(output_dir):
        os.rmdir(output_dir)


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)
