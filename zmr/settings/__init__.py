"""Every setting of zmr, each described once (mrjob's runner-options table, in dataclasses).

* :mod:`zmr.settings.job`: :class:`JobOptions`, the options of a run of a job (flags of
  ``zmr run``/``zmr submit``, keyword arguments of ``run_inline``/``Client.submit``, job-module
  settings, ``zmr.Step`` keywords), and the hook-choosing module settings.
* :mod:`zmr.settings.cluster`: :class:`ClusterConfig`, ``conf/cluster.toml`` as one typed
  dataclass per section.

The package sits with ``zmr.core`` in the layers: it imports nothing else of zmr, so every
layer may read the table.
"""

from __future__ import annotations

from zmr.settings.cluster import CLUSTER_SETTINGS, ClusterConfig
from zmr.settings.job import JOB_SETTINGS, JobOptions
from zmr.settings.setting import Setting

__all__ = ["CLUSTER_SETTINGS", "JOB_SETTINGS", "ClusterConfig", "JobOptions", "Setting"]
