"""The current task run, inside a task: ``id``, ``task_name``, ``run_count``
(the attempt, from 1). ``None`` (``run_count``: the flow's) in a flow body."""

from typing import Any

from weft import _context

__all__ = ["id", "task_name", "run_count"]


def __getattr__(attr: str) -> Any:
    from weft import _host

    getters = {
        "id": _host.task_run_id,
        "task_name": _host.task_name,
        "run_count": _host.attempt,
    }
    if attr not in getters:
        raise AttributeError(f"weft.runtime.task_run has no attribute {attr!r}")
    _context.require(f"task_run.{attr}")
    return getters[attr]()
