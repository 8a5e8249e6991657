"""Flows for the host's end-to-end tests of the Python SDK: failures,
sandbox limits, secrets, timeouts and flow retries. Not an example."""

import time

from weft import Secret, flow, get_run_logger, task


@task
def explode(message: str) -> None:
    """Raises ValueError(message)."""
    raise ValueError(message)


@flow
def task_raises(message: str = "bad row 7") -> None:
    """Calls a task that raises: the task run fails with the traceback, and
    so does the flow."""
    explode(message)


@flow
def flow_raises() -> None:
    """Raises in the flow body."""
    raise RuntimeError("the flow body gave up")


@flow
def infinite_loop() -> None:
    """Never returns."""
    n = 0
    while True:
        n += 1


def _grow() -> int:
    chunks = []
    while True:
        chunks.append(bytearray(8 << 20))
        chunks[-1][0] = 1


@flow
def memory_bomb() -> int:
    """Allocates 8 MiB chunks until the instance's memory limit stops it."""
    return _grow()


@task
def hog() -> int:
    """Allocates without end, in a task."""
    return _grow()


@flow
def task_memory_bomb() -> str:
    """A task hits the memory limit; the flow reports how it ended."""
    state = hog(return_state=True)
    return f"{state.name}: {state.message}"


@task(timeout_seconds=0.3)
def slow() -> str:
    """Sleeps longer than its timeout."""
    time.sleep(30)
    return "woke up"


@flow
def task_timeout() -> str:
    """A task exceeds its timeout_seconds."""
    return slow()


@flow(retries=2)
def always_fails() -> None:
    """Fails on every attempt (three in all)."""
    raise RuntimeError("no luck")


@flow
def log_secret(name: str) -> str:
    """Logs a secret's value: the host must redact it."""
    get_run_logger().info("the secret is %s", Secret.load(name).get())
    print(f"printed: {Secret.load(name).get()}")
    return "done"


@flow
def echo(value=None):
    """Returns its parameter."""
    return value


@flow
def use_secret() -> bool:
    """Reads ``API_TOKEN`` (Prefect's ``Secret.load(...).get()``) and logs its
    length; fails with the host's message if it is not granted."""
    token = Secret.load("API_TOKEN").get()
    get_run_logger().info("got API_TOKEN (%d chars)", len(token))
    return True
