"""The flows and tasks of the component, registered by ``@flow`` and
``@task`` when the flow module is imported (at build time: componentize-py
pre-initializes the component with the module already imported)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional

if TYPE_CHECKING:
    from weft.flows import Flow
    from weft.tasks import Task

_flows: Dict[str, "Flow"] = {}
_tasks: Dict[str, "Task"] = {}


def _same(a: str, b: str) -> bool:
    return a.replace("_", "-") == b.replace("_", "-")


def add_flow(flow: "Flow") -> None:
    """Registers ``flow`` under its name; a second, different flow of the same
    name is an error."""
    existing = _flows.get(flow.name)
    if existing is not None and existing.fn is not flow.fn:
        raise ValueError(f"two flows are named '{flow.name}': give one another name with @flow(name=...)")
    if existing is None:
        _flows[flow.name] = flow


def add_task(task: "Task") -> None:
    """Registers ``task`` under its name; a second, different task of the same
    name is an error."""
    existing = _tasks.get(task.name)
    if existing is not None and existing.fn is not task.fn:
        raise ValueError(f"two tasks are named '{task.name}': give one another name with @task(name=...)")
    if existing is None:
        _tasks[task.name] = task


def flows() -> List["Flow"]:
    """The registered flows, by name."""
    return [_flows[name] for name in sorted(_flows)]


def tasks() -> List["Task"]:
    """The registered tasks, by name."""
    return [_tasks[name] for name in sorted(_tasks)]


def find_flow(name: str) -> Optional["Flow"]:
    """The flow called ``name`` (or whose function is, or whose name matches
    with ``_`` for ``-``)."""
    if name in _flows:
        return _flows[name]
    for flow in _flows.values():
        if flow.fn.__name__ == name:
            return flow
    for flow in _flows.values():
        if _same(flow.name, name):
            return flow
    return None


def find_task(name: str) -> Optional["Task"]:
    """The task called ``name`` (or whose function is)."""
    if name in _tasks:
        return _tasks[name]
    for task in _tasks.values():
        if task.fn.__name__ == name:
            return task
    return None


def flow_names() -> List[str]:
    """The names of the registered flows."""
    return sorted(_flows)


def clear() -> None:
    """Forgets every flow and task (for the SDK's own tests)."""
    _flows.clear()
    _tasks.clear()
