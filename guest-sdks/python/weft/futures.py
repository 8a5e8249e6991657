"""Futures of submitted task runs (Prefect's ``PrefectFuture``) and waiting
for many (``wait``)."""

from __future__ import annotations

from typing import Any, Iterable, List, NamedTuple, Optional, Set

from weft import _json
from weft.exceptions import TaskRunError

__all__ = ["TaskFuture", "PrefectFuture", "TaskFutureList", "State", "wait", "DoneAndNotDoneFutures", "resolve_futures"]

_UNSET = object()


class State:
    """The final state of a task run, as a future knows it."""

    def __init__(self, name: str, type_: str, message: str = "", error: Optional[TaskRunError] = None, data: Any = None):
        #: Prefect's state name: "Completed", "Failed", "Crashed", ...
        self.name = name
        #: Prefect's state type: "COMPLETED", "FAILED", "CRASHED", "CANCELLED".
        self.type = type_
        #: The host's message (for a failure: the exception and traceback).
        self.message = message
        self._error = error
        self._data = data

    def is_completed(self) -> bool:
        """Whether the task run completed."""
        return self.type == "COMPLETED"

    def is_failed(self) -> bool:
        """Whether the task run failed (including timeouts)."""
        return self.type == "FAILED"

    def is_crashed(self) -> bool:
        """Whether the task run's instance crashed (a trap or a limit)."""
        return self.type == "CRASHED"

    def is_cancelled(self) -> bool:
        """Whether the task run was cancelled."""
        return self.type == "CANCELLED"

    def result(self, raise_on_failure: bool = True) -> Any:
        """The result, or the error (raised unless ``raise_on_failure`` is
        false, then returned)."""
        if self._error is not None:
            if raise_on_failure:
                raise self._error
            return self._error
        return self._data

    def __repr__(self) -> str:
        return f"{self.name}({self.message!r})" if self.message else f"{self.name}()"


_STATE_TYPES = {"Failed": "FAILED", "TimedOut": "FAILED", "Crashed": "CRASHED", "Cancelled": "CANCELLED"}


class TaskFuture:
    """A task run started with ``task.submit(...)``, running concurrently
    with the caller. ``result()`` waits for it."""

    def __init__(self, task: str, handle: Any) -> None:
        self._task = task
        self._handle = handle
        self._value: Any = _UNSET
        self._error: Optional[TaskRunError] = None

    @property
    def task_name(self) -> str:
        """The name of the task this future runs."""
        return self._task

    @property
    def task_run_id(self) -> str:
        """The id of the task run (a UUID)."""
        from weft import _host

        return _host.future_task_run_id(self._handle)

    def done(self) -> bool:
        """Whether the result has been waited for already."""
        return self._value is not _UNSET or self._error is not None

    def wait(self, timeout: None = None) -> None:
        """Waits for the task run to finish (``timeout`` is not supported:
        passing one raises ``NotImplementedError``)."""
        if timeout is not None:
            raise NotImplementedError("weft futures cannot wait with a timeout; set timeout_seconds on the task")
        if self.done():
            return
        from weft import _host

        try:
            text = _host.get(self._task, self._handle)
        except TaskRunError as e:
            self._error = e
            return
        try:
            self._value = _json.loads(text, f"the result of task '{self._task}'")
        except Exception as e:  # noqa: BLE001 - reported as the task's error
            self._error = TaskRunError(self._task, str(e))

    def result(self, timeout: None = None, raise_on_failure: bool = True) -> Any:
        """Waits for the task run and returns its result. If it ended without
        one, raises the :class:`~weft.exceptions.TaskRunError` (or returns it,
        with ``raise_on_failure=False``)."""
        self.wait(timeout)
        if self._error is not None:
            if raise_on_failure:
                raise self._error
            return self._error
        return self._value

    @property
    def state(self) -> State:
        """The task run's final state (waits for it to finish)."""
        self.wait()
        if self._error is None:
            return State("Completed", "COMPLETED", data=self._value)
        name = self._error.state_name
        return State(name, _STATE_TYPES.get(name, "FAILED"), self._error.message, error=self._error)

    def __repr__(self) -> str:
        return f"TaskFuture(task={self._task!r}, done={self.done()})"


#: Prefect's name for a task future.
PrefectFuture = TaskFuture


class TaskFutureList(list):
    """A list of futures (what ``task.map`` returns), with ``wait`` and
    ``result`` over all of them."""

    def wait(self, timeout: None = None) -> None:
        """Waits for every future."""
        for future in self:
            future.wait(timeout)

    def result(self, timeout: None = None, raise_on_failure: bool = True) -> List[Any]:
        """The results, in order. Waits for every future first; then raises
        the first error unless ``raise_on_failure`` is false."""
        self.wait(timeout)
        return [future.result(raise_on_failure=raise_on_failure) for future in self]


class DoneAndNotDoneFutures(NamedTuple):
    """What :func:`wait` returns: the finished futures and the rest."""

    done: Set[TaskFuture]
    not_done: Set[TaskFuture]


def wait(futures: Iterable[TaskFuture], timeout: None = None) -> DoneAndNotDoneFutures:
    """Waits for all ``futures`` (Prefect's ``prefect.futures.wait``) and
    returns ``(done, not_done)``; ``not_done`` is always empty, since
    ``timeout`` is not supported."""
    futures = list(futures)
    for future in futures:
        future.wait(timeout)
    return DoneAndNotDoneFutures(set(futures), set())


def resolve_futures(value: Any) -> Any:
    """``value`` with every future in it (also inside lists, tuples and
    dicts) replaced by its result, as Prefect does for task arguments."""
    if isinstance(value, TaskFuture):
        return value.result()
    if isinstance(value, list):
        return [resolve_futures(v) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve_futures(v) for v in value)
    if isinstance(value, dict):
        return {k: resolve_futures(v) for k, v in value.items()}
    return value
