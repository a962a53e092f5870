"""Every on-disk name zmr uses, built from ids in one place.

Job output directory (Hadoop FileOutputCommitter layout)::

    <output>/part-00000 ...               committed task outputs
    <output>/_SUCCESS                     written last, when the whole job succeeded
    <output>/_temporary/<task>-a<N>/...   an attempt's staging area, removed at job end
    <output>/_steps/step-1/part-00000 ... a multi-step job's intermediate output (Arrow pair
                                          files), removed when the whole job ends

Task work directory (one per attempt, on the worker's disk)::

    <work>/map-00017-a1.arrow             map output: one IPC stream per reduce partition
    <work>/map-00017-a1.index.json        its manifest: partition offsets, lengths, CRCs
    <work>/map-00017-a1.spill/run-0003.arrow   sorted runs spilled while mapping
    <work>/reduce-00003-a2/               fetched segments and intermediate merge runs
"""

from __future__ import annotations

import os

SUCCESS = "_SUCCESS"
TEMPORARY = "_temporary"
STEPS = "_steps"


def part_name(index: int) -> str:
    return f"part-{index:05d}"


def part_path(output_dir: str, index: int) -> str:
    return os.path.join(output_dir, part_name(index))


def staging_dir(output_dir: str, task: str, attempt: int) -> str:
    return os.path.join(output_dir, TEMPORARY, f"{task}-a{attempt}")


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


def fetched_segment_path(scratch: str, map_index: int) -> str:
    return os.path.join(scratch, f"segment-{map_index:05d}.arrow")
