"""Exceptions raised by the weft SDK.

A task call that produced no result raises a :class:`TaskRunError`; which
subclass says why (the WIT ``task-error``). Uncaught, it fails the flow run,
as an exception does in Prefect.
"""

from __future__ import annotations

from typing import Optional


class WeftException(Exception):
    """Base class of the SDK's exceptions."""


class MissingContextError(WeftException, RuntimeError):
    """Something that needs a flow or task run was used outside of one."""


class ParameterBindError(WeftException, TypeError):
    """A flow's parameters (or a task's input) do not fit its signature."""


class SerializationError(WeftException, TypeError):
    """A value cannot cross the host boundary as JSON."""


class SecretError(WeftException, ValueError):
    """A secret cannot be read: it does not exist or the run was not
    granted it."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"cannot read the secret '{name}': {reason}")
        #: The secret's name.
        self.name = name
        #: The host's reason.
        self.reason = reason


class TaskRunError(WeftException):
    """A task run ended without a result."""

    #: The state the task run ended in, as the host names it.
    state_name = "Failed"

    def __init__(self, task: str, message: Optional[str] = None) -> None:
        #: The task's name.
        self.task = task
        #: The host's full message (for a failure: the exception and its
        #: traceback in the task).
        self.message = message or ""
        super().__init__(self._summary())

    def _summary(self) -> str:
        first = self.message.strip().splitlines()[0] if self.message.strip() else ""
        return f"task '{self.task}' failed: {first}" if first else f"task '{self.task}' failed"


class TaskFailed(TaskRunError):
    """The task raised an exception (its message and traceback are in
    :attr:`message`)."""


class TaskCancelled(TaskRunError):
    """The run was cancelled before the task finished."""

    state_name = "Cancelled"

    def _summary(self) -> str:
        return f"task '{self.task}' was cancelled"


class TaskTimedOut(TaskRunError, TimeoutError):
    """The task exceeded its ``timeout_seconds`` on its last attempt."""

    state_name = "TimedOut"

    def _summary(self) -> str:
        return f"task '{self.task}' timed out"


class TaskCrashed(TaskRunError):
    """The task's instance trapped or hit a sandbox limit (fuel, memory);
    :attr:`message` names the reason."""

    state_name = "Crashed"

    def _summary(self) -> str:
        return f"task '{self.task}' crashed: {self.message}"
