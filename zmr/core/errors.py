"""The one exception hierarchy of zmr.

    ZmrError                      base of everything zmr raises on purpose
    ├── ConfigError               a bad setting: names the file/flag and the key
    ├── JobDefinitionError        a job module that cannot be used: names file and line
    ├── InputError                missing/unreadable input, invalid UTF-8 (names file, offset)
    │   └── BadInputError         content that cannot be read as asked: no retry can help
    ├── OutputError               output directory exists, commit failed
    ├── DataCorruptionError       an intermediate file whose checksum does not match
    ├── FetchFailedError          a reducer could not get one map's output (names the map)
    ├── ProtocolError             a malformed or unknown wire message (dropped, never fatal)
    ├── TaskError                 one attempt failed; carries the user's traceback text
    └── JobFailedError            a job gave up after retries; carries the last traceback
        └── JobInputError         a cluster job failed on a BadInputError (also an InputError)

    FatalError                    raised by *user code*: this input can never succeed, so
                                  the job fails at the first attempt (no retries)

Third-party exceptions are translated where zmr touches them (``raise X(...) from exc``) so
that callers only ever need to catch ``ZmrError``.
"""

from __future__ import annotations

import os
import traceback
from typing import ClassVar


class ZmrError(Exception):
    """Base class of every error zmr raises deliberately. ``exit_code`` is the status the
    command line exits with (docs/operations/command-line.md)."""

    exit_code: ClassVar[int] = 1


class ConfigError(ZmrError):
    """A setting is unknown, has the wrong type, or is out of range."""

    exit_code: ClassVar[int] = 2     # the job or its settings, inputs or output as given


class JobDefinitionError(ZmrError):
    """A job module failed to load or lacks a required hook."""

    exit_code: ClassVar[int] = 2     # the job or its settings, inputs or output as given


class InputError(ZmrError):
    """Input cannot be read as asked: missing path, unreadable file, invalid UTF-8."""

    exit_code: ClassVar[int] = 2     # the job or its settings, inputs or output as given


class BadInputError(InputError):
    """The input's bytes cannot be read as asked: invalid UTF-8, a line longer than
    ``MAX_LINE_LENGTH``, a malformed CSV/JSON record, a file changed since the job was
    planned. Every attempt would meet it again, so a cluster fails the job at the first
    one (no retries) and reports it as inline does, on one line, exit 2; an input that
    merely could not be read (an I/O error) stays an ``InputError``, retried."""


class OutputError(ZmrError):
    """Output cannot be written or committed (e.g. the directory already exists)."""

    exit_code: ClassVar[int] = 2     # the job or its settings, inputs or output as given


#: The refusals a coordinator names in its ErrorReply, raised again by the client as what
#: they are (an output among the inputs exits 2 from ``zmr submit`` as from ``zmr run``);
#: a name not listed here is a plain ZmrError (no class is looked up by a peer's string).
REFUSALS: dict[str, type[ZmrError]] = {
    cls.__name__: cls for cls in (ConfigError, JobDefinitionError, InputError, OutputError)}


def refused_as(exc: ZmrError) -> str:
    """The name :func:`refusal` raises ``exc`` again by: its nearest class in REFUSALS."""
    return next((cls.__name__ for cls in type(exc).__mro__ if cls.__name__ in REFUSALS
                 and REFUSALS[cls.__name__] is cls), "")


def refusal(message: str, error: str) -> ZmrError:
    """The exception for a coordinator's refusal named ``error`` (see :data:`REFUSALS`)."""
    return REFUSALS.get(error, ZmrError)(message)


class ClusterUnreachableError(ZmrError):
    """The coordinator did not answer (not running, wrong address, or this client's CURVE
    key is not authorized: an unauthorized peer gets no answer at all)."""

    exit_code: ClassVar[int] = 3


class DataCorruptionError(ZmrError):
    """Bytes read back do not match the checksum recorded when they were written."""


class FetchFailedError(ZmrError):
    """A reduce task could not obtain (or verify) the output of map ``map_index``."""

    def __init__(self, map_index: int, message: str) -> None:
        super().__init__(message)
        self.map_index = map_index


class ProtocolError(ZmrError):
    """A wire message could not be decoded or validated."""


class TaskError(ZmrError):
    """One task attempt failed. ``traceback`` holds the user's formatted traceback."""

    def __init__(self, message: str, traceback: str = "") -> None:
        super().__init__(message)
        self.traceback = traceback


class JobFailedError(ZmrError):
    """A job failed for good; the message says which task and shows its last traceback."""

    def __init__(self, message: str, traceback: str = "") -> None:
        super().__init__(message)
        self.traceback = traceback

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}\n{self.traceback}" if self.traceback else base


class JobInputError(InputError, JobFailedError):
    """A cluster job failed on a ``BadInputError`` in one of its tasks: the message is that
    error, on one line; exit 2, as the same error is inline. Both an ``InputError`` (what
    an inline run raises) and a ``JobFailedError`` (what a failed cluster job raises)."""


class JobCancelledError(JobFailedError):
    """The job was cancelled before it finished."""

    exit_code: ClassVar[int] = 4


class JobContractError(TypeError, ValueError):
    """What a hook handed zmr breaks the contract every hook keeps (a mapper yielding
    something that is not a ``(key, value)`` pair, a combiner changing its key, a
    partitioner returning no partition number). The bug is in the job and the message says
    what it is, so no traceback of zmr's own frames is shown with it (the attempt's log
    keeps them). A ``TypeError`` and a ``ValueError``, as Python's own errors for such
    mistakes are, so code that catches either still does."""


class FatalError(Exception):
    """Raise it (or a subclass) in a mapper, reducer, combiner or any other hook of a job to
    say that retrying cannot help (a malformed record that must not be skipped, a missing
    lookup table): the job fails at that attempt, with no retries, and the error shows
    your own frames. Not a ``ZmrError``: zmr never raises it, your job does, and it reaches
    you as itself in an inline run (as any exception of yours does) and inside
    ``JobFailedError`` from a cluster."""


#: zmr's own source folder: frames in it are the engine's, not the user's.
_ZMR_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def user_traceback(exc: BaseException) -> str:
    """``exc``'s traceback with zmr's own frames left out, so what a user reads starts in
    their job; all frames when none is the user's (then the bug is zmr's, and the whole
    story is what a report needs), unless zmr found the job breaking a hook's contract:
    then the message is the story, and this is empty."""
    frames = traceback.extract_tb(exc.__traceback__)
    theirs = [f for f in frames if not f.filename.startswith(_ZMR_DIR)]
    if not theirs and isinstance(exc, JobContractError):
        return ""
    if not theirs or len(theirs) == len(frames):
        return "".join(traceback.format_exception(exc))
    return ("Traceback (most recent call last; zmr's own frames left out):\n"
            + "".join(traceback.StackSummary.from_list(theirs).format())
            + "".join(traceback.format_exception_only(type(exc), exc)))
