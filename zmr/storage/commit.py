"""Output commit: attempts write to staging, commit by atomic link, first commit wins,
and the job commit makes the parts visible.

Like Hadoop's FileOutputCommitter (algorithm 1): a task attempt writes ``part-NNNNN`` under
``<output>/_temporary/<task>-a<N>/`` and commits it with ``os.link`` to
``<output>/_temporary/committed/part-NNNNN``. ``link`` fails if the name exists, so when a
retried or speculative attempt of the same task also finishes, exactly one commit wins and
the loser is discarded. The job commit, once every task has committed, moves the parts up
into ``<output>/`` and writes ``_SUCCESS`` last: a reader never sees a half-written part
file, nor the parts of a job that has not finished (or that failed).

Object stores (``s3://``) have no rename and no link, so there a task commits by uploading
its complete part file to ``<output>/_temporary/<task>-a<N>/part-NNNNN`` (an S3 PUT makes
an object appear whole or not at all), and the job commit, done once by the coordinator
when every task has finished, copies one of each part's uploads to ``<output>/part-NNNNN``
(server-side copy), writes ``_SUCCESS`` last and deletes ``_temporary/``. Attempts of a task
are interchangeable (the assumption speculative execution already makes), so which
complete upload is promoted does not matter; it is the lowest attempt, for determinism.
"""

from __future__ import annotations

import errno
import os
import shutil

from zmr.core.errors import OutputError
from zmr.storage import fs, layout, output_safety
from zmr.storage.parquet_parts import check_parquet_parts


#: What the steps of a multi-step job leave in its output before the last one runs.
STEPS_ENTRIES = frozenset({layout.STEPS, layout.QUARANTINE})


def prepare_output(output_dir: str, overwrite: bool = False) -> None:
    """Create the job's output directory; refuse an existing one unless ``overwrite``, and
    even then unless zmr wrote it (:mod:`zmr.storage.output_safety`). A directory holding
    only ``_steps`` is the last step's of a multi-step job: it is taken."""
    if fs.is_uri(output_dir):
        clear_output(output_dir, overwrite)     # no directories to make on an object store
        return
    if not _only_steps(output_dir):
        clear_output(output_dir, overwrite)
    try:
        os.makedirs(os.path.join(output_dir, layout.TEMPORARY))
    except OSError as exc:
        raise OutputError(f"cannot create output directory {output_dir}: {exc}") from exc


def clear_output(output: str, overwrite: bool = False) -> None:
    """Refuse an existing output, or remove it with ``overwrite`` if zmr wrote it."""
    try:
        if output_safety.check_existing(output, overwrite):
            _remove(output)
    except OSError as exc:
        raise OutputError(f"cannot prepare output {output}: {exc}") from exc


def _only_steps(output_dir: str) -> bool:
    """Whether the directory holds only ``_steps`` (and the earlier steps' quarantine)."""
    return os.path.isdir(output_dir) and layout.STEPS in os.listdir(output_dir) and \
        set(os.listdir(output_dir)) <= STEPS_ENTRIES


def staging_dir(output_dir: str, task: str, attempt: int, work_dir: str) -> str:
    """Where an attempt writes its part file before committing it: next to the output
    (same filesystem, so the commit is a link), or in the task's local work directory
    when the output is on an object store."""
    if fs.is_uri(output_dir):
        return layout.object_store_staging_dir(work_dir, task, attempt)
    return layout.staging_dir(output_dir, task, attempt)


def commit_file(staged: str, final: str) -> bool:
    """Commit a task's staged part, meant for ``final`` once the job commits; False if
    another attempt of the task already committed it."""
    if fs.is_uri(final):
        return _upload_attempt(staged, final)
    committed = layout.committed_path(final)
    try:
        os.makedirs(os.path.dirname(committed), exist_ok=True)
        os.link(staged, committed)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno == errno.EXDEV:   # staging on another filesystem: rename is still atomic
            return _rename_if_absent(staged, committed)
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


def _upload_attempt(staged: str, final: str) -> bool:
    """Object store: upload to this attempt's place under ``_temporary/`` (the job commit
    promotes it)."""
    output, name = final.rsplit("/", 1)
    attempt_dir = os.path.basename(os.path.dirname(staged))
    try:
        fs.upload(staged, fs.join(output, layout.TEMPORARY, attempt_dir, name))
    except OSError as exc:
        raise OutputError(f"cannot upload {final}: {exc}") from exc
    finally:
        os.unlink(staged)
    return True


def mark_success(output_dir: str) -> None:
    """The job commit: move the committed parts into the output, drop the staging area and
    write ``_SUCCESS`` (atomically)."""
    if fs.is_uri(output_dir):
        _commit_remote_job(output_dir)
        return
    committed = layout.committed_dir(output_dir)
    names = sorted(os.listdir(committed)) if os.path.isdir(committed) else []
    _check_parts(output_dir, [os.path.join(committed, n) for n in names
                              if n.endswith(".parquet")], None)
    for name in names:                 # each rename is atomic; _SUCCESS comes after all
        os.replace(os.path.join(committed, name), os.path.join(output_dir, name))
    shutil.rmtree(os.path.join(output_dir, layout.TEMPORARY), ignore_errors=True)
    marker = layout.success_path(output_dir)
    with open(marker + ".tmp", "w"):
        pass
    os.replace(marker + ".tmp", marker)


def _commit_remote_job(output: str) -> None:
    """Promote one upload per part file, then ``_SUCCESS``, then drop ``_temporary/``."""
    temporary = fs.join(output, layout.TEMPORARY)
    uploads = sorted(fs.list_files(temporary), key=lambda u: _attempt_order(u[0])) \
        if fs.exists(temporary) else []
    promoted: set[str] = set()
    for uri, _ in uploads:
        name = uri.rsplit("/", 1)[1]
        if name not in promoted:
            fs.copy(uri, fs.join(output, name))
            promoted.add(name)
    parquet = sorted(name for name in promoted if name.endswith(".parquet"))
    filesystem, path = fs.resolve(output)
    _check_parts(output, [f"{path}/{name}" for name in parquet], filesystem)
    fs.write_bytes(layout.success_path(output), b"")
    fs.delete_tree(temporary)


def _check_parts(output: str, parquet_parts: list[str], filesystem: object) -> None:
    """Parquet parts must agree on their column types before the output is declared good."""
    if not parquet_parts:
        return
    try:
        check_parquet_parts(parquet_parts, filesystem)
    except (ValueError, OSError) as exc:
        raise OutputError(f"{output}: {exc}") from None


def _attempt_order(uri: str) -> tuple[str, int, str]:
    """``.../_temporary/reduce-00003-a2/part-00003`` -> (task, attempt, name)."""
    attempt_dir, name = uri.rsplit("/", 2)[-2:]
    task, _, number = attempt_dir.rpartition("-a")
    return task, int(number) if number.isdigit() else 0, name


def abort_output(output_dir: str, keep: frozenset[str] = frozenset({layout.STEPS})) -> None:
    """Remove a failed job's partial output: committed parts, staging and any marker
    (``keep``: a multi-step job's last step, about to start, keeps what the steps before
    it wrote there, ``STEPS_ENTRIES``)."""
    if fs.is_uri(output_dir):
        fs.delete_tree(output_dir)          # prepare_output made sure it was all ours
        return
    if not os.path.isdir(output_dir):
        return
    for name in os.listdir(output_dir):
        if name not in keep and output_safety.is_zmr_entry(output_dir, name):
            _remove(os.path.join(output_dir, name))
    if not os.listdir(output_dir):
        os.rmdir(output_dir)


def _remove(path: str) -> None:
    if fs.is_uri(path):
        fs.delete_tree(path)
    elif os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)
