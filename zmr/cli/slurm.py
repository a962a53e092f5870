"""``zmr slurm script`` / ``run`` / ``worker``: zmr as a batch job under Slurm
(zmr.runners.slurm). ``script`` prints an sbatch script; the script calls ``run`` on the
allocation's first node, which starts ``worker`` on every node through srun."""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
from typing import Any

from zmr.runners.slurm import STARTUP_TIMEOUT_S, Allocation, SlurmSession, node_worker_command

#: The batch script ``zmr slurm script`` prints; ``{python}`` is the interpreter zmr runs
#: on (a venv's, so the same path must exist on every node, as with any sbatch script).
SCRIPT = """\
#!/bin/bash
# zmr under Slurm: a coordinator on the first node of the allocation, {wpn} worker(s) on
# every node (srun), scratch data on node-local $TMPDIR (or /tmp), all stopped at the end,
# on scancel and at the time limit (USR1 {warn} s before it: a clean teardown first).
#   sbatch {name} JOB.py --input /shared/in --output /shared/out [zmr submit options]
# Inputs and output must be on a filesystem all nodes mount. Docs: docs/operations/slurm.md
#SBATCH --job-name=zmr
#SBATCH --nodes={nodes}
#SBATCH --exclusive
#SBATCH --time={time}
#SBATCH --signal=B:USR1@{warn}
#SBATCH --output=zmr-%j.out
set -euo pipefail
exec {python} -m zmr slurm run --workers-per-node {wpn} "$@"
"""


def add_slurm_commands(sub: Any) -> None:
    slurm = sub.add_parser("slurm", help="run a job as a Slurm batch job (coordinator on the "
                                         "first node, workers on all)")
    actions = slurm.add_subparsers(dest="slurm_action", required=True, metavar="ACTION")
    script = actions.add_parser("script", help="print an sbatch script that runs a job "
                                               "through `zmr slurm run`")
    script.add_argument("--nodes", type=int, default=2, help="#SBATCH --nodes (default: 2)")
    script.add_argument("--time", default="01:00:00", help="#SBATCH --time (default: 1 h)")
    script.add_argument("--workers-per-node", type=int, default=1, metavar="N")
    script.add_argument("--name", default="zmr-job.sh",
                        help="the file name the usage line shows")
    script.set_defaults(handler=cmd_script)
    run = actions.add_parser("run", help="inside an allocation: start the cluster, submit "
                                         "the job (zmr submit arguments), wait, tear down")
    run.add_argument("--workers-per-node", type=int, default=1, metavar="N",
                     help="workers per node, each with CPUs-on-node/N slots (default: 1)")
    run.add_argument("--keep-scratch", action="store_true",
                     help="leave $TMPDIR/zmr-$SLURM_JOB_ID in place (debugging)")
    run.add_argument("--startup-timeout", type=float, default=STARTUP_TIMEOUT_S, metavar="S",
                     help=f"seconds for the cluster to come up (default: "
                          f"{STARTUP_TIMEOUT_S:.0f})")
    run.add_argument("--config", default=None,
                     help="cluster config for every process (default: $ZMR_CONFIG); "
                          "zmr slurm sets the addresses, ports and scratch folders itself")
    run.add_argument("submit", nargs=argparse.REMAINDER, metavar="JOB ...",
                     help="the job and its `zmr submit` options")
    run.set_defaults(handler=cmd_run)
    worker = actions.add_parser("worker", help="one node's worker (srun runs it for "
                                               "`zmr slurm run`)")
    worker.set_defaults(handler=cmd_worker)


def cmd_script(args: argparse.Namespace) -> int:
    print(SCRIPT.format(python=shlex.quote(sys.executable), nodes=args.nodes, time=args.time,
                        wpn=args.workers_per_node, warn=120, name=args.name), end="")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    if not args.submit:
        from zmr.core.errors import ConfigError
        raise ConfigError("zmr slurm run: name the job: zmr slurm run JOB.py --input ... "
                          "--output ...")
    if args.config:
        os.environ["ZMR_CONFIG"] = os.path.abspath(args.config)
    # scancel and the time limit send SIGTERM (main raises Terminated for it); --signal=
    # B:USR1@S and a lost terminal come as USR1 and HUP: all of them end in the teardown
    on_term = signal.getsignal(signal.SIGTERM)
    for signum in (signal.SIGUSR1, signal.SIGHUP):
        signal.signal(signum, on_term)
    session = SlurmSession(Allocation.from_environment(), args.workers_per_node,
                           args.keep_scratch, args.startup_timeout,
                           args.log_level or "warning")
    return session.run(args.submit)


def cmd_worker(args: argparse.Namespace) -> int:
    command = node_worker_command(args.log_level or "warning")
    sys.stdout.flush()
    os.execv(command[0], command)   # srun signals the worker itself, not a wrapper
