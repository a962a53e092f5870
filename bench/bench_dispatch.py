"""Coordinator dispatch rate: many tiny tasks through a real coordinator process, completed
at once by simulated workers that speak the real protocol (DEALER for tasks, PUB for
heartbeats), so only the coordinator's own cost is measured. Targets (issue 13): at least
5,000 tasks per second with 2 workers, 3,000 with 100 workers heartbeating.

Besides wall-clock tasks/s, each row gives the coordinator's CPU time per task (from
/proc, over the same window) and the rate that CPU time alone would allow: on a shared
2-core machine the wall-clock figure moves with whatever else runs, the CPU cost much less.

    python3 bench/bench_dispatch.py [--tasks 5000] [--workers 2,100]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from zmr.client import Client  # noqa: E402
from zmr.config import write_config  # noqa: E402
from zmr.core.specs import MapManifest  # noqa: E402
from zmr.protocol.messages import (  # noqa: E402
    AssignTask,
    Heartbeat,
    Register,
    RequestTask,
    StatusReply,
    StatusRequest,
    TaskDone,
)
from zmr.transport.sockets import DEALER, PUB, Channel, free_port, make_socket, poll  # noqa: E402

NOOP_JOB = "def mapper(key, line):\n    return ()\n"
#: tasks/s asked for, by number of simulated workers (others: the 2-worker target)
TARGETS = {2: 5000, 100: 3000}
PREFETCH = 1          # a real worker's default ([worker] prefetch)


class SimulatedWorkers:
    """``count`` workers with one slot and the default prefetch credit of one each, that
    finish every map task the moment they get it, with a valid (empty, map-only) result
    whose report says how many more they take (as real workers do: the coordinator answers
    it with the next task, no request in between), and heartbeat once a second.

    What a worker reads in one go it holds at once (one running, the rest queued), so each
    report counts the assignments still queued behind it, as a real worker's would: saying
    "two free" for every one of a burst would have the coordinator hand out ever more."""

    def __init__(self, count: int, control: str, reports: str) -> None:
        self.ids = [f"sim-{i:03d}" for i in range(count)]
        self.channels = {w: Channel(make_socket(DEALER, connect=control, identity=w), w)
                         for w in self.ids}
        self.pub = Channel(make_socket(PUB, connect=reports), "beats")
        self.seq = 0
        self.done = 0
        for w, ch in self.channels.items():
            ch.send(Register(w, "sim", f"tcp://127.0.0.1:{free_port()}", 1, 1, 1024,
                             prefetch=PREFETCH))

    def beat(self) -> None:
        self.seq += 1
        for w in self.ids:
            self.pub.send(Heartbeat(w, self.seq))

    def serve_for(self, seconds: float) -> None:
        by_socket = list(self.channels.values())
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for ch in poll(by_socket, 0.05):
                burst = []
                while True:
                    received = ch.recv()
                    if received is not None:
                        burst.append(received[1])
                    if not ch.has_message():
                        break
                for queued, msg in zip(range(len(burst) - 1, -1, -1), burst):
                    self._handle(ch, msg, queued)

    def _handle(self, ch: Channel, msg: object, queued: int) -> None:
        w = ch.name
        if isinstance(msg, AssignTask):
            # the identity of the output it was asked for, as a real map's result carries
            result = MapManifest(msg.attempt.index, msg.attempt.attempt, "", (),
                                 identity=msg.spec.identity)
            free = max(0, 1 + PREFETCH - queued)
            ch.send(TaskDone(w, msg.attempt, result, 0.0, 0.0, free_slots=free))
            self.done += 1
        elif type(msg).__name__ == "Registered":
            ch.send(RequestTask(w, 1 + PREFETCH))


def brief_state(client: Client, job_id: str) -> str:
    reply = client.expect(StatusReply, StatusRequest(job_id, brief=True))
    return str(reply.jobs[0]["state"])


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(tasks: int, workers: int, scratch: str) -> tuple[float, float]:
    """(tasks/s, coordinator CPU seconds per task) for one run."""
    config = os.path.join(scratch, f"c{workers}.toml")
    ports = {k: free_port() for k in ("control_port", "heartbeat_port", "report_port")}
    write_config(config, {("coordinator", k): v for k, v in ports.items()} | {
        ("coordinator", "state_dir"): os.path.join(scratch, f"state{workers}"),
        ("dashboard", "port"): -1, ("heartbeat", "interval_s"): 1.0})
    coordinator = subprocess.Popen([sys.executable, "-m", "zmr.coordinator", config],
                                   stderr=subprocess.DEVNULL)
    try:
        data = os.path.join(scratch, "tiny.txt")
        with open(data, "w") as f:
            f.write("x\n" * tasks)
        job = os.path.join(scratch, "noop.py")
        with open(job, "w") as f:
            f.write(NOOP_JOB)
        sim = SimulatedWorkers(workers, f"tcp://127.0.0.1:{ports['control_port']}",
                               f"tcp://127.0.0.1:{ports['report_port']}")
        sim.serve_for(1.0)
        with Client(config) as client:
            handle = client.submit(job, [data], os.path.join(scratch, f"out{workers}"),
                                   reducers=0, split_size=2)      # one 2-byte split per line
            started, cpu_started = time.perf_counter(), cpu_s(coordinator.pid)
            while True:
                sim.beat()
                sim.serve_for(0.2)
                # brief: a full status lists every task (5,000 here), which is a cost of
                # asking for it, not of dispatching
                if brief_state(client, handle.job_id) in ("SUCCEEDED", "FAILED"):
                    break
            elapsed = time.perf_counter() - started
            cpu = cpu_s(coordinator.pid) - cpu_started
        assert handle.status()["state"] == "SUCCEEDED" and sim.done >= tasks
        return tasks / elapsed, cpu / tasks
    finally:
        coordinator.terminate()
        coordinator.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--workers", default="2,100")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zmr-dispatch-") as scratch:
        for n in (int(w) for w in args.workers.split(",")):
            rate, cpu_per_task = measure(args.tasks, n, scratch)
            target = TARGETS.get(n, TARGETS[2])
            verdict = "PASS" if rate >= target else f"MISS ({target / rate:.1f}x short)"
            print(f"| {args.tasks} no-op map tasks, {n} simulated workers | {rate:,.0f} "
                  f"tasks/s | coordinator {cpu_per_task * 1e6:,.0f} us CPU/task "
                  f"(<= {1 / cpu_per_task:,.0f}/s) | target >= {target:,} | {verdict} |",
                  flush=True)


if __name__ == "__main__":
    main()
