"""The run logger (Prefect's ``get_run_logger``) and ``log_prints``.

Records go to the host's ``logging`` interface: they are stored with the
run, streamed live, and have secret values redacted. Anything a flow or
task prints to stdout or stderr is captured by the host as well.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import logging as _stdlib_logging
import sys
from typing import Any, Iterator

from weft import _context

__all__ = ["get_run_logger", "print_as_log", "HostHandler"]


class HostHandler(_stdlib_logging.Handler):
    """A :mod:`logging` handler that writes records to the run's log."""

    def emit(self, record: _stdlib_logging.LogRecord) -> None:
        """Formats ``record`` (with its traceback, if any) and sends it."""
        from weft import _host

        try:
            message = self.format(record)
        except Exception:  # noqa: BLE001 - a bad format string must not fail the run
            message = f"{record.msg!r} (could not format the log message with {record.args!r})"
        _host.log(record.levelno, message)


def _logger(name: str) -> _stdlib_logging.Logger:
    logger = _stdlib_logging.getLogger(name)
    if not any(isinstance(h, HostHandler) for h in logger.handlers):
        handler = HostHandler()
        handler.setFormatter(_stdlib_logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(_stdlib_logging.DEBUG)
        logger.propagate = False
    return logger


# Created at import, so they are part of the pre-initialized snapshot.
_FLOW_LOGGER = _logger("weft.flow_runs")
_TASK_LOGGER = _logger("weft.task_runs")


def get_run_logger() -> _stdlib_logging.Logger:
    """The logger of the current flow or task run: a standard
    :class:`logging.Logger` whose records go to the run's log.

    Raises :class:`~weft.exceptions.MissingContextError` outside a run.
    """
    scope = _context.require("get_run_logger()")
    return _TASK_LOGGER if scope.kind == "task" else _FLOW_LOGGER


def _log_print(*args: Any, sep: str = " ", end: str = "\n", file: Any = None, flush: bool = False) -> None:
    """``print`` for ``log_prints=True``: output meant for stdout becomes an
    INFO record of the run logger; other files are written as usual."""
    if file is not None and file is not sys.stdout and file is not sys.stderr:
        _ORIGINAL_PRINT(*args, sep=sep, end=end, file=file, flush=flush)
        return
    buffer = io.StringIO()
    _ORIGINAL_PRINT(*args, sep=sep, end="", file=buffer)
    get_run_logger().info(buffer.getvalue())


_ORIGINAL_PRINT = builtins.print


@contextlib.contextmanager
def print_as_log(enabled: bool) -> Iterator[None]:
    """While active, ``print(...)`` logs to the run logger if ``enabled``
    (Prefect's ``log_prints``) and writes to stdout if not."""
    previous = builtins.print
    builtins.print = _log_print if enabled else _ORIGINAL_PRINT
    try:
        yield
    finally:
        builtins.print = previous
