"""Several "hosts" on this machine: Linux network namespaces joined by veth pairs to a
bridge, each host with its own IP in a private subnet. The bridge lives in a namespace of
its own, so nothing is added to (or can disturb) the machine's real network; deleting the
namespaces removes everything. Needs root and iproute2."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

SUBNET = "10.213.0"


def netns_unavailable() -> str:
    """Why namespaces cannot be built here ("" if they can)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 (ip) is not installed"
    probe = f"zmrprobe{uuid.uuid4().hex[:6]}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return ""


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


class NetLab:
    """``with NetLab(4) as lab: lab.popen(1, [...]); lab.cut(2)``. Host i has address
    ``lab.address(i)`` (10.213.0.i+1)."""

    def __init__(self, hosts: int) -> None:
        self.tag = uuid.uuid4().hex[:5]
        self.switch = f"zsw{self.tag}"
        self.hosts = [f"zh{self.tag}{i}" for i in range(hosts)]
        self.procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> NetLab:
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _build(self) -> None:
        _ip("netns", "add", self.switch)
        _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.switch, "link", "set", "br0", "up")
        for i, host in enumerate(self.hosts):
            _ip("netns", "add", host)
            _ip("-n", host, "link", "set", "lo", "up")
            # created inside the host namespace, the switch end is then moved out
            _ip("-n", host, "link", "add", "eth0", "type", "veth", "peer", "name", f"p{i}")
            _ip("-n", host, "link", "set", f"p{i}", "netns", self.switch)
            _ip("-n", self.switch, "link", "set", f"p{i}", "master", "br0")
            _ip("-n", self.switch, "link", "set", f"p{i}", "up")
            _ip("-n", host, "addr", "add", f"{self.address(i)}/24", "dev", "eth0")
            _ip("-n", host, "link", "set", "eth0", "up")

    def address(self, i: int) -> str:
        return f"{SUBNET}.{i + 1}"

    def command(self, i: int, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.hosts[i], *argv]

    def popen(self, i: int, argv: list[str], log_path: str) -> subprocess.Popen[bytes]:
        """Start a process on host i (``ip netns exec`` execs it: the Popen is the process)."""
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(self.command(i, argv), stdout=log, stderr=log,
                                    stdin=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def run(self, i: int, argv: list[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(i, argv), capture_output=True, text=True,
                              timeout=timeout_s)

    def cut(self, i: int) -> None:
        """Pull host i's cable: its switch port goes down."""
        _ip("-n", self.switch, "link", "set", f"p{i}", "down")

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        for ns in [*self.hosts, self.switch]:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
