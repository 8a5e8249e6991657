"""The SDK benchmark's trivial flows: ``noop`` returns its parameter,
``one-task`` calls one task."""

from weft import flow, task


@task
def greet(name: str) -> str:
    """Returns a greeting."""
    return f"hello {name}"


@flow
def noop(value=None):
    """Returns its parameter."""
    return value


@flow
def one_task() -> str:
    """Calls one task."""
    return greet("weft")
