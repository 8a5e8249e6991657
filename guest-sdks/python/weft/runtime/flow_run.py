"""The current flow run: ``id``, ``name``, ``flow_name``, ``parameters``,
``run_count`` (the flow run's attempt, in the flow body)."""

from typing import Any

from weft import _context

__all__ = ["id", "name", "flow_name", "parameters", "run_count"]


def __getattr__(attr: str) -> Any:
    from weft import _host

    getters = {
        "id": _host.flow_run_id,
        "name": _host.flow_run_name,
        "flow_name": _host.flow_name,
        "parameters": _host.parameters,
        "run_count": _host.attempt,
    }
    if attr not in getters:
        raise AttributeError(f"weft.runtime.flow_run has no attribute {attr!r}")
    _context.require(f"flow_run.{attr}")
    return getters[attr]()
