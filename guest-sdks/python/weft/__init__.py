"""weft: write weft flows and tasks in Python, the way Prefect does.

A module that uses ``@flow`` and ``@task`` is built into a WebAssembly
component with ``weft build DIR`` (componentize-py) and run with
``weft run DIR``::

    from weft import flow, task

    @task
    def get_data() -> str:
        return "Hello from weft!"

    @flow(log_prints=True)
    def my_first_flow():
        print(get_data())

Calling a task in a flow runs it as a task run on the host (in a fresh
instance, with the task's retries, cache and timeout); ``task.submit(...)``
starts it concurrently and returns a :class:`TaskFuture`.
"""

from weft import cache_policies, runtime
from weft.exceptions import (
    MissingContextError,
    ParameterBindError,
    SecretError,
    SerializationError,
    TaskCancelled,
    TaskCrashed,
    TaskFailed,
    TaskRunError,
    TaskTimedOut,
    WeftException,
)
from weft.flows import Flow, flow
from weft.futures import PrefectFuture, State, TaskFuture, TaskFutureList, wait
from weft.logging import get_run_logger
from weft.secrets import Secret
from weft.tasks import Task, exponential_backoff, tags, task, task_input_hash, unmapped

__version__ = "0.1.0"

__all__ = [
    "flow",
    "task",
    "Flow",
    "Task",
    "get_run_logger",
    "wait",
    "Secret",
    "TaskFuture",
    "PrefectFuture",
    "TaskFutureList",
    "State",
    "tags",
    "unmapped",
    "task_input_hash",
    "exponential_backoff",
    "cache_policies",
    "runtime",
    "WeftException",
    "MissingContextError",
    "ParameterBindError",
    "SerializationError",
    "SecretError",
    "TaskRunError",
    "TaskFailed",
    "TaskCancelled",
    "TaskTimedOut",
    "TaskCrashed",
]
