"""Live job progress for ``zmr run``, ``zmr submit --wait`` and ``zmr wait``: the display
shared with the Python API (:mod:`zmr.core.progress`)."""

from zmr.core.progress import PLAIN_EVERY_S, ProgressDisplay, wait_showing_progress

__all__ = ["PLAIN_EVERY_S", "ProgressDisplay", "wait_showing_progress"]
