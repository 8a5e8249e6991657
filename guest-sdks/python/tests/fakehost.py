"""A fake ``weft:flow`` host for the SDK's unit tests: installs stand-ins for
the componentize-py bindings (``wit_world``, ``componentize_py_types``) in
``sys.modules``, so the SDK runs on plain CPython.

Task calls run in process through the SDK's own ``run-task`` export, with
the policy's retries and a cache keyed like the host's, and everything the
SDK sends (logs, task options) is recorded for the tests to check.
"""

from __future__ import annotations

import enum
import json
import sys
import types as pytypes
from dataclasses import dataclass
from typing import Any, List, Optional


@dataclass(frozen=True)
class Err(Exception):
    """``componentize_py_types.Err``."""

    value: Any


@dataclass
class RetryPolicy:
    retries: int
    delays_ms: List[int]
    backoff_factor: float
    jitter_factor: float


@dataclass
class CachePolicy:
    key: Optional[str]
    expiration_secs: Optional[int]


@dataclass
class TaskOptions:
    retries: Optional[RetryPolicy]
    cache: Optional[CachePolicy]
    timeout_ms: Optional[int]
    tags: List[str]


@dataclass
class TaskError_Failed:  # noqa: N801 - the bindings' name
    value: str


@dataclass
class TaskError_Cancelled:  # noqa: N801
    pass


@dataclass
class TaskError_TimedOut:  # noqa: N801
    pass


@dataclass
class TaskError_Crashed:  # noqa: N801
    value: str


@dataclass
class FlowOptions:
    retries: Optional[RetryPolicy]
    timeout_ms: Optional[int]


@dataclass
class FlowInfo:
    name: str
    parameters: List[str]
    parameter_schema: str
    description: str
    options: FlowOptions


@dataclass
class TaskInfo:
    name: str
    description: str


@dataclass
class ComponentInfo:
    sdk: str
    flows: List[FlowInfo]
    tasks: List[TaskInfo]


class Level(enum.Enum):
    DEBUG = 0
    INFO = 1
    WARNING = 2
    ERROR = 3
    CRITICAL = 4


class Host:
    """The fake host's state."""

    def __init__(self) -> None:
        self.logs: List[tuple] = []
        self.calls: List[tuple] = []
        self.secrets = {"API_TOKEN": "tok-123"}
        self.cache: dict = {}
        self.flow = "flow"
        self.task_scope: Optional[tuple] = None
        self.attempt = 1
        self.next_id = 0

    def run_task(self, task: str, input_json: str, options: TaskOptions) -> Any:
        """Runs a task like the host does; returns the result text or raises
        ``Err(task-error)``."""
        from weft import _component, _context

        self.calls.append((task, json.loads(input_json), options))
        key = None
        if options.cache is not None:
            key = options.cache.key or f"{task}:{input_json}"
            if key in self.cache:
                return self.cache[key]
        attempts = 1 + (options.retries.retries if options.retries else 0)
        saved_scope, saved_task, saved_attempt = _context._current, self.task_scope, self.attempt
        error: Any = None
        try:
            for attempt in range(1, attempts + 1):
                self.task_scope, self.attempt = (f"task-{len(self.calls)}", task), attempt
                try:
                    result = _component.WitWorld().run_task(task, input_json)
                except Err as e:
                    error = TaskError_Failed(e.value)
                    continue
                if key is not None:
                    self.cache[key] = result
                return result
        finally:
            _context._current, self.task_scope, self.attempt = saved_scope, saved_task, saved_attempt
        raise Err(error)


HOST = Host()


class _Future:
    def __init__(self, outcome: Any, task_run_id: str) -> None:
        self.outcome = outcome
        self.id = task_run_id

    def get(self) -> str:
        if isinstance(self.outcome, Err):
            raise self.outcome
        return self.outcome

    def task_run_id(self) -> str:
        return self.id


def _submit(task: str, input_json: str, options: TaskOptions) -> _Future:
    try:
        outcome: Any = HOST.run_task(task, input_json, options)
    except Err as e:
        outcome = e
    HOST.next_id += 1
    return _Future(outcome, f"00000000-0000-0000-0000-{HOST.next_id:012d}")


def _secret(name: str) -> str:
    if name not in HOST.secrets:
        raise Err(f"the secret '{name}' is not granted to this run")
    return HOST.secrets[name]


def install() -> Host:
    """Installs the fake bindings (once) and returns the host."""
    if "wit_world" in sys.modules:
        return HOST
    cpt = pytypes.ModuleType("componentize_py_types")
    cpt.Err = Err
    world = pytypes.ModuleType("wit_world")
    imports = pytypes.ModuleType("wit_world.imports")
    types_mod = pytypes.ModuleType("wit_world.imports.types")
    for cls in (RetryPolicy, CachePolicy, TaskOptions, TaskError_Failed, TaskError_Cancelled,
                TaskError_TimedOut, TaskError_Crashed, FlowOptions, FlowInfo, TaskInfo, ComponentInfo):
        setattr(types_mod, cls.__name__, cls)
    tasks_mod = pytypes.ModuleType("wit_world.imports.tasks")
    tasks_mod.submit = _submit
    tasks_mod.run = HOST.run_task
    logging_mod = pytypes.ModuleType("wit_world.imports.logging")
    logging_mod.Level = Level
    logging_mod.log = lambda level, message: HOST.logs.append((level.name, message))
    secrets_mod = pytypes.ModuleType("wit_world.imports.secrets")
    secrets_mod.get = _secret
    context_mod = pytypes.ModuleType("wit_world.imports.context")
    context_mod.flow_run_id = lambda: "11111111-1111-1111-1111-111111111111"
    context_mod.flow_run_name = lambda: "crimson-fox"
    context_mod.flow_name = lambda: HOST.flow
    context_mod.task_run_id = lambda: HOST.task_scope[0] if HOST.task_scope else None
    context_mod.task_name = lambda: HOST.task_scope[1] if HOST.task_scope else None
    context_mod.attempt = lambda: HOST.attempt
    context_mod.deployment_name = lambda: None
    context_mod.parameters = lambda: '{"n": 3}'
    for name, module in (("types", types_mod), ("tasks", tasks_mod), ("logging", logging_mod),
                         ("secrets", secrets_mod), ("context", context_mod)):
        setattr(imports, name, module)
        sys.modules[f"wit_world.imports.{name}"] = module
    world.imports = imports
    sys.modules["componentize_py_types"] = cpt
    sys.modules["wit_world"] = world
    sys.modules["wit_world.imports"] = imports
    return HOST
