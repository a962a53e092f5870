"""Echo an embedded cluster's log files to stderr as they grow, each line prefixed with
the process that wrote it (``[coordinator]``, ``[local-1]``).

The cluster's processes keep writing their own log files (what :class:`LocalCluster`
quotes when one dies at start); ``zmr run --log-level LEVEL`` asks to see those lines too,
on the terminal, as they come. A thread polls the files (no inotify: the same code on
every platform, and a tenth of a second late is soon enough for a person reading), and a
last pass at :meth:`LogEcho.stop` copies what the processes wrote while stopping."""

from __future__ import annotations

import os
import threading
from typing import IO, TextIO

#: How often the thread looks for new lines.
POLL_S = 0.1


class LogEcho:
    """Copy every ``*.log`` file of ``logs_dir`` (those that appear later too) to ``out``
    line by line, prefixed with the file's name. ``start()`` then ``stop()``."""

    def __init__(self, logs_dir: str, out: TextIO) -> None:
        self.logs_dir = logs_dir
        self.out = out
        self._files: dict[str, IO[bytes]] = {}
        self._partial: dict[str, bytes] = {}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zmr-log-echo", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, copy what is left (a last line without its newline too) and
        close the files: call it once the processes have exited."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()
        self._copy_new_lines(final=True)
        for f in self._files.values():
            f.close()
        self._files.clear()

    def _run(self) -> None:
        while not self._stopping.wait(POLL_S):
            self._copy_new_lines()

    def _copy_new_lines(self, final: bool = False) -> None:
        try:
            names = sorted(n for n in os.listdir(self.logs_dir) if n.endswith(".log"))
        except OSError:          # not made yet, or removed: nothing to copy
            return
        for name in names:
            self._copy_file(name, final)
        self.out.flush()

    def _copy_file(self, name: str, final: bool) -> None:
        f = self._files.get(name)
        if f is None:
            try:
                f = self._files[name] = open(os.path.join(self.logs_dir, name), "rb")  # noqa: SIM115
            except OSError:
                return
        data = self._partial.pop(name, b"") + f.read()
        lines = data.split(b"\n")
        if not final:        # a line being written is copied once it is whole
            self._partial[name] = lines.pop()
        prefix = f"[{name[:-len('.log')]}] "
        for line in lines:
            if line:
                self.out.write(prefix + line.decode("utf-8", "replace") + "\n")
