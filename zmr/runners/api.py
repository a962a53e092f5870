"""``zmr.run``: run a job from Python, on an embedded local cluster unless told where.

    result = zmr.run(mapper=lambda _, line: ((w, 1) for w in line.split()),
                     reducer=lambda w, ones: [(w, sum(ones))],
                     input="data/*.txt", reducers=2)
    result.counters["zmr"]["MAP_INPUT_RECORDS"], result.read_pandas()

The job is a job file's path, an imported job module, or hook functions; ``cluster`` picks
where it runs (see :func:`run`). Every way ends in :meth:`zmr.Client.run` or
:func:`zmr.run_inline`, so results and errors are the same wherever it ran.
"""

from __future__ import annotations

import os
from typing import Any

from zmr.client import Client
from zmr.config import ClusterConfig
from zmr.core.errors import ConfigError
from zmr.job.functions import Job, job_and_options
from zmr.job.result import JobResult
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster
from zmr.storage.layout import fresh_output

INLINE = "inline"


def run(job: Job | None = None, *, input: Any = None, output: Any = None,
        mapper: Any = None, reducer: Any = None, combiner: Any = None,
        reducers: int | None = None, cluster: Any = None, params: dict[str, Any] | None = None,
        workers: int | None = None, progress: bool = True, **settings: Any) -> JobResult:
    """Run a job to completion and return its :class:`~zmr.JobResult`.

    The job is ``job`` (a job file's path, or an imported job module) or the hook
    functions ``mapper(key, value)``, ``reducer(key, values)``, ``combiner(key, values)``
    (``map_batch``, ``partitioner``, ``mapper_init``, ... and ``reduce="sum"`` too, as
    keywords): plain functions, lambdas and closures. ``input`` is a path, glob or list of
    them; ``output`` a directory that must not exist (a fresh temporary one when None).
    ``reducers``, ``params`` and every other keyword are job settings (``split_size="8MB"``,
    ``output_format="parquet"``, ``overwrite=True``, ...), by their Python names.

    ``cluster`` is where it runs:

    - None (the default): an embedded local cluster of ``workers`` processes (one per
      core unless given), started for this job and stopped after it;
    - a running :class:`~zmr.LocalCluster` or a :class:`~zmr.Client`: that cluster;
    - a config file path (or ``ClusterConfig``): the standalone cluster it names;
    - ``"inline"``: every task in this process, one after another (for debugging: your
      exceptions surface as themselves).

    Progress shows as a widget in Jupyter, bars on a terminal and plain lines in a log
    (``progress=False``: none). Raises ``JobFailedError`` with the failing task's
    traceback, ``JobDefinitionError``/``ConfigError``/``InputError``/``OutputError`` for
    a bad job, setting, input or output, all before any task runs."""
    settings.update(mapper=mapper, reducer=reducer, combiner=combiner, reducers=reducers,
                    params=params)
    if cluster == INLINE:
        return _run_inline(job, input, output, settings)
    if workers is not None and cluster is not None:
        raise ConfigError("workers= sizes the embedded cluster; it cannot be given with "
                          "cluster=")
    if cluster is None:
        if workers is not None and workers < 1:
            raise ConfigError(f"workers must be at least 1, got {workers}")
        with LocalCluster(workers=workers or os.cpu_count() or 1) as local:
            return local.client.run(job, input, output, progress=progress, **settings)
    if isinstance(cluster, LocalCluster):
        return cluster.run(job, input, output, progress=progress, **settings)
    if isinstance(cluster, Client):
        return cluster.run(job, input, output, progress=progress, **settings)
    if isinstance(cluster, (str, os.PathLike, ClusterConfig)):
        with Client(cluster if isinstance(cluster, ClusterConfig) else os.fspath(cluster)
                    ) as client:
            return client.run(job, input, output, progress=progress, **settings)
    raise ConfigError(f"cluster must be None, 'inline', a LocalCluster, a Client or a config "
                      f"file path; got {type(cluster).__name__}")


def _run_inline(job: Job | None, input: Any, output: Any, settings: dict[str, Any]
                ) -> JobResult:
    if input is None:
        raise ConfigError("input= is required: a path, a glob or a list of them")
    spec, options = job_and_options(job, None, settings)
    inputs = [os.fspath(input)] if isinstance(input, (str, os.PathLike)) else [
        os.fspath(i) for i in input]
    return run_inline(spec, inputs, fresh_output() if output is None else os.fspath(output),
                      options)
