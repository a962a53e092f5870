"""Live job progress for ``zmr run``, ``zmr submit --wait``, ``zmr wait`` and the Python
API's ``run``: a display fed job statuses (plain dicts), so every layer that waits may use it.

With ``tqdm.auto``: in Jupyter, two progress widgets (map and reduce tasks); on a terminal,
two bars redrawn in place. Elsewhere (a log, a CI job, an Airflow task): a plain line when
progress or state changes, plus one every ``PLAIN_EVERY_S`` as a sign of life, like
Hadoop's ``map 25% reduce 0%`` lines. Without ipywidgets a notebook gets the plain lines.
"""

from __future__ import annotations

import re
import sys
from typing import Any, TextIO

_STEP = re.compile(r"\[(step \d+/\d+)\]$")
#: Off a terminal, a line is printed when progress changes, or after this long.
PLAIN_EVERY_S = 10.0


def _job_label(status: dict[str, Any]) -> str:
    """The job id, and "step i/n" for a multi-step job (its status has ``step`` and
    ``steps``; a step job asked for by id is named "name[step i/n]")."""
    if "steps" in status:
        return f"{status['job_id']} step {status['step']}/{status['steps']}"
    step = _STEP.search(status.get("name", ""))
    return f"{status['job_id']} {step.group(1)}" if step else str(status["job_id"])


def _tasks_done(status: dict[str, Any], kind: str) -> float:
    """Tasks done; for maps with the share of their input that running maps have read, so
    the bar moves during long map tasks (whole numbers stay ints: tqdm prints "4/4")."""
    done = float(status[f"{kind}s_done"])
    if kind == "map" and "map_progress" in status:
        done = round(status["map_progress"] * status["maps_total"], 2)
    return int(done) if done.is_integer() else done


def _map_percent(status: dict[str, Any]) -> str:
    """`` (37%)`` while maps are running and their bytes read say more than the count."""
    fraction = status.get("map_progress")
    if fraction is None or status["maps_done"] == status["maps_total"]:
        return ""
    return f" ({fraction * 100:.0f}%)"


class ProgressDisplay:
    """Feed it job statuses (``__call__``); ``close()`` when the job is over."""

    def __init__(self, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.notebook = stream is None and _in_notebook()
        self.tty = self.notebook or self.stream.isatty()
        self._bars: dict[str, Any] = {}
        self._job = ""
        self._last_line = ""
        self._last_at = float("-inf")

    def __call__(self, status: dict[str, Any]) -> None:
        if self.quiet:
            return
        if self.tty:
            self._draw_bars(status)
        else:
            self._print_line(status)

    def _draw_bars(self, status: dict[str, Any]) -> None:
        # imported only for bars: keeps plain runs' imports light
        from tqdm.auto import tqdm

        if self._bars and self._job != _job_label(status):
            self.close()            # the next step of a multi-step job: new bars
        self._job = _job_label(status)
        for position, kind in enumerate(("map", "reduce")):
            total = status[f"{kind}s_total"]
            bar = self._bars.get(kind)
            if bar is None:
                try:
                    bar = self._bars[kind] = tqdm(
                        total=total, desc=f"{_job_label(status)} {kind:<6}", unit="task",
                        position=position, leave=True, file=self.stream, dynamic_ncols=True)
                except ImportError:     # a notebook without ipywidgets: lines instead
                    self.tty = False
                    self._print_line(status)
                    return
            bar.set_postfix_str(status["state"], refresh=False)
            bar.update(_tasks_done(status, kind) - bar.n)

    def _print_line(self, status: dict[str, Any]) -> None:
        progress = (f"{_job_label(status)} {status['state']}: map {status['maps_done']}/"
                    f"{status['maps_total']}{_map_percent(status)}  reduce "
                    f"{status['reduces_done']}/"
                    f"{status['reduces_total']}")
        elapsed = status["elapsed_s"]
        if progress == self._last_line and elapsed - self._last_at < PLAIN_EVERY_S:
            return
        self._last_line, self._last_at = progress, elapsed
        print(f"{progress}  {elapsed:.1f}s", file=self.stream, flush=True)

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()


def _in_notebook() -> bool:
    """Running in a Jupyter kernel (where ``tqdm.auto`` draws widgets): tqdm's own test."""
    ipython = sys.modules.get("IPython")
    try:
        shell = ipython.get_ipython() if ipython is not None else None
        return shell is not None and "IPKernelApp" in shell.config
    except AttributeError:
        return False


def wait_showing_progress(wait: Any, quiet: bool) -> dict[str, Any]:
    display = ProgressDisplay(quiet)
    try:
        return wait(on_progress=display)
    finally:
        display.close()
