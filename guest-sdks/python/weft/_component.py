"""The component's exports (``describe``, ``run``, ``run-task``): the class
componentize-py looks for in the entry module.

Nothing raised by user code may escape an export as anything but
``componentize_py_types.Err`` (anything else traps the instance, which the
host would report as a crash), so every export converts exceptions, with
their tracebacks, into error strings.
"""

from __future__ import annotations

from weft import _errors, _host, _registry

SDK = "weft-sdk-python 0.1.0"


def _guard(call):  # type: ignore[no-untyped-def]
    try:
        return call()
    except _host.Err:
        raise
    except BaseException as error:  # noqa: BLE001 - SystemExit, KeyboardInterrupt too
        raise _host.Err(_errors.describe(error)) from None


def _flow_log_prints() -> bool:
    flow = _registry.find_flow(_host.flow_name())
    return bool(flow and flow.log_prints)


class WitWorld:
    """The ``weft:flow/flow`` world's exports."""

    def describe(self):  # type: ignore[no-untyped-def]
        """The component's flows and tasks."""
        types = _host.types
        return types.ComponentInfo(
            sdk=SDK,
            flows=[flow.info(types) for flow in _registry.flows()],
            tasks=[types.TaskInfo(name=task.name, description=task.description) for task in _registry.tasks()],
        )

    def run(self, flow: str, params: str) -> str:
        """Runs the flow ``flow`` with the JSON object ``params``."""
        found = _registry.find_flow(flow)
        if found is None:
            names = ", ".join(_registry.flow_names()) or "none"
            raise _host.Err(f"no flow named '{flow}' in this component (flows: {names})")
        return _guard(lambda: found.run_body(params))

    def run_task(self, task: str, input: str) -> str:  # noqa: A002 - the WIT name
        """Runs the task ``task`` with the JSON ``input``."""
        found = _registry.find_task(task)
        if found is None:
            raise _host.Err(f"no task named '{task}' in this component")
        return _guard(lambda: found.run_body(input, _flow_log_prints()))
