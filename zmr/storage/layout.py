"""Every on-disk name zmr uses, built from ids in one place.

Job output directory (Hadoop FileOutputCommitter layout)::

    <output>/part-00000 ...               committed task outputs
    <output>/_SUCCESS                     written last, when the whole job succeeded
    <output>/_temporary/<task>-a<N>/...   an attempt's staging area, removed at job end
    <output>/_temporary/committed/part-00000   a committed task's part, moved up by the
                                          job commit (FileOutputCommitter v1)
    <output>/_steps/step-1/part-00000 ... a multi-step job's intermediate output (Arrow pair
                                          files), removed when the whole job ends

Task work directory (one per attempt, on the worker's disk)::

    <work>/map-00017-a1.arrow             map output: one IPC stream per reduce partition
    <work>/map-00017-a1.index.json        its manifest: partition offsets, lengths, CRCs
    <work>/map-00017-a1.spill/run-0003.arrow   sorted runs spilled while mapping
    <work>/reduce-00003-a2/               fetched segments and intermediate merge runs

A worker's data directory (``[worker] data_dir``, one subdirectory per worker)::

    <data>/<worker>/<job>/                a job's task work directory (above)
    <data>/<worker>/<job>/logs/map-00017-a1.log   what an attempt printed
    <data>/<worker>/.executor-<id>.out    a task process's scratch output

The coordinator's state directory (``[coordinator] state_dir``)::

    <state>/journal.sqlite                jobs, tasks and attempts, for restarts
    <state>/events/job-0007.jsonl         a job's event log (``zmr.storage.events``)

``zmr run`` (inline, or on its embedded cluster, whose state goes with it) keeps its runs'
event logs under ``LOCAL_RUNS`` (``.zmr/runs/events/run-...jsonl``) in the directory it
runs from.
"""

from __future__ import annotations

import os

SUCCESS = "_SUCCESS"
TEMPORARY = "_temporary"
STEPS = "_steps"
QUARANTINE = "_quarantine"


def part_name(index: int) -> str:
    return f"part-{index:05d}"


def staged_part_path(staging: str, index: int) -> str:
    """A task's part file in its attempt's staging directory, before the commit."""
    return os.path.join(staging, part_name(index))


def part_path(output_dir: str, index: int) -> str:
    return os.path.join(output_dir, part_name(index))


def staging_dir(output_dir: str, task: str, attempt: int) -> str:
    return os.path.join(output_dir, TEMPORARY, f"{task}-a{attempt}")


def object_store_staging_dir(work_dir: str, task: str, attempt: int) -> str:
    """Staging in the task's local work directory, for an output on an object store."""
    return os.path.join(work_dir, TEMPORARY, f"{task}-a{attempt}")


COMMITTED = "committed"


def committed_path(final: str) -> str:
    """Where a task's committed part waits for the job commit: ``final`` is the part's
    place in the output, ``<output>/part-00003``."""
    output_dir, name = os.path.split(final)
    return os.path.join(output_dir, TEMPORARY, COMMITTED, name)


def committed_dir(output_dir: str) -> str:
    return os.path.join(output_dir, TEMPORARY, COMMITTED)


def steps_dir(output_dir: str) -> str:
    return os.path.join(output_dir, STEPS)


def step_output_dir(output_dir: str, step: int) -> str:
    """Where step ``step`` (1-based) of a multi-step job writes, if it is not the last."""
    return os.path.join(steps_dir(output_dir), f"step-{step}")


def success_path(output_dir: str) -> str:
    return os.path.join(output_dir, SUCCESS)


def map_task_name(map_index: int) -> str:
    return f"map-{map_index:05d}"


def reduce_task_name(partition: int) -> str:
    return f"reduce-{partition:05d}"


def map_output_path(work_dir: str, map_index: int, attempt: int) -> str:
    return os.path.join(work_dir, f"{map_task_name(map_index)}-a{attempt}.arrow")


def map_index_path(map_output: str) -> str:
    """The manifest written beside a finished map output (Hadoop's ``file.out.index``)."""
    return map_output[:-len(".arrow")] + ".index.json"


def spill_dir(map_output: str) -> str:
    """Where the sorted runs of the map attempt writing ``map_output`` are spilled."""
    return map_output[:-len(".arrow")] + ".spill"


def run_path(directory: str, run: int) -> str:
    return os.path.join(directory, f"run-{run:04d}.arrow")


def reduce_scratch_dir(work_dir: str, partition: int, attempt: int) -> str:
    return os.path.join(work_dir, f"{reduce_task_name(partition)}-a{attempt}")


def fetched_segment_path(scratch: str, map_index: int, partition: int) -> str:
    # a coalesced reduce fetches several partitions of one map output
    return os.path.join(scratch, f"segment-{map_index:05d}-{partition:05d}.arrow")


#: The file name pattern of finished map manifests, in a job's work directory.
MAP_INDEX_PATTERN = "map-*.index.json"
LOGS = "logs"


def worker_dir(data_dir: str, worker_id: str) -> str:
    return os.path.abspath(os.path.join(data_dir, worker_id))


def job_work_dir(worker_dir: str, job_id: str) -> str:
    return os.path.join(worker_dir, job_id)


def job_code_dir(job_work_dir: str, digest: str) -> str:
    """Where a worker unpacks a job's code and side files (zmr.job.shipping), named by the
    archive's checksum (a job id reused after a wiped coordinator never finds another
    job's code); deleted with the job's other data when it ends."""
    return os.path.join(job_work_dir, f"code-{digest[:16]}")


def job_files_dir(code_dir: str) -> str:
    """The job's side files under their names: the working directory of its tasks."""
    return os.path.join(code_dir, "files")


def map_index_glob(worker_dir: str) -> str:
    """Every finished map manifest of every job a worker holds data for."""
    return os.path.join(worker_dir, "*", MAP_INDEX_PATTERN)


def attempt_log_path(worker_dir: str, job_id: str, task: str, index: int, attempt: int) -> str:
    """Where an attempt's stdout/stderr (and logging output) go on the worker."""
    return os.path.join(worker_dir, job_id, LOGS, f"{task}-{index:05d}-a{attempt}.log")


def executor_scratch_path(worker_dir: str, token: str) -> str:
    """A task process's output file (a file, not a directory: a worker's directories are
    its jobs' data)."""
    return os.path.join(worker_dir, f".executor-{token}.out")


def journal_path(state_dir: str) -> str:
    return os.path.join(state_dir, "journal.sqlite")


#: The history directory of ``zmr run``'s runs (relative to where it runs).
LOCAL_RUNS = os.path.join(".zmr", "runs")
EVENTS_SUFFIX = ".jsonl"


def events_dir(history_dir: str) -> str:
    return os.path.join(history_dir, "events")


def event_log_path(history_dir: str, job_id: str) -> str:
    """A job's event log in a history directory (a coordinator's ``state_dir``)."""
    return os.path.join(events_dir(history_dir), job_id + EVENTS_SUFFIX)


def fresh_output() -> str:
    """An output directory for a Python API job given none: ``output`` inside a new
    temporary directory (kept: the result names it; remove it when done)."""
    import tempfile

    return os.path.join(tempfile.mkdtemp(prefix="zmr-output-"), "output")
