"""``@task`` (Prefect's decorator) and the :class:`Task` it makes.

Calling a task inside a flow run is a task run on the host: the host looks
up the cache, runs the task in a fresh instance of the component, retries it
by its policy, enforces its timeout and records every state.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import inspect
import json
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Union

from weft import _context, _json, _options, _registry, _signature
from weft._signature import bind_call, call_args
from weft.cache_policies import CachePolicy
from weft.futures import State, TaskFuture, TaskFutureList, resolve_futures
from weft.exceptions import TaskRunError
from weft.logging import print_as_log

__all__ = ["task", "Task", "task_input_hash", "exponential_backoff", "unmapped", "tags", "CacheKeyContext"]

_tag_stack: List[List[str]] = []


@contextlib.contextmanager
def tags(*names: str) -> Iterator[None]:
    """Adds tags to every task run created inside the block (Prefect's
    ``with tags("a", "b"):``)."""
    _tag_stack.append(list(names))
    try:
        yield
    finally:
        _tag_stack.pop()


def exponential_backoff(backoff_factor: float) -> Callable[[int], List[float]]:
    """Delays for ``retry_delay_seconds`` growing exponentially: retry ``n``
    waits ``backoff_factor * 2 ** (n - 1)`` seconds (Prefect's
    ``exponential_backoff``)."""

    def delays(retries: int) -> List[float]:
        return [backoff_factor * 2**r for r in range(retries)]

    return delays


class CacheKeyContext:
    """What a ``cache_key_fn`` gets as its first argument (Prefect passes a
    ``TaskRunContext``): the task and the run it is called in."""

    def __init__(self, task: "Task") -> None:
        #: The task being called.
        self.task = task

    @property
    def flow_run_id(self) -> str:
        """The id of the calling flow run."""
        from weft import _host

        return _host.flow_run_id()

    @property
    def flow_name(self) -> str:
        """The name of the calling flow."""
        from weft import _host

        return _host.flow_name()


def task_input_hash(context: CacheKeyContext, arguments: Dict[str, Any]) -> str:
    """Prefect's ``task_input_hash``: a key from the task and its inputs.

    Passed as ``cache_key_fn``, the host derives the key itself from the
    task's name, the component's digest (its code) and the input, so a
    change of code is a cache miss, as in Prefect. Called directly, it
    returns a hash of the task's name and the arguments.
    """
    text = json.dumps([context.task.name, arguments], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class unmapped:  # noqa: N801 - Prefect's name
    """Marks an argument of ``task.map`` as the same for every call."""

    def __init__(self, value: Any) -> None:
        #: The value passed to every call.
        self.value = value


def _is_mapped(value: Any) -> bool:
    return not isinstance(value, (unmapped, str, bytes, dict)) and isinstance(value, Iterable)


class Task:
    """A task: a function whose calls run as task runs on the host.

    Made by :func:`task`; see it for the options. ``task.fn`` is the plain
    function.
    """

    def __init__(
        self,
        fn: Callable,
        name: Optional[str] = None,
        description: Optional[str] = None,
        tags: Optional[Iterable[str]] = None,
        version: Optional[str] = None,
        retries: Optional[int] = None,
        retry_delay_seconds: Optional[_options.Delay] = None,
        retry_jitter_factor: Optional[float] = None,
        cache_key_fn: Optional[Callable[[CacheKeyContext, Dict[str, Any]], Optional[str]]] = None,
        cache_key: Optional[str] = None,
        cache_policy: Optional[CachePolicy] = None,
        cache_expiration: Optional[Union[datetime.timedelta, int, float]] = None,
        timeout_seconds: Optional[Union[int, float]] = None,
        log_prints: Optional[bool] = None,
    ) -> None:
        if not callable(fn):
            raise TypeError("@task decorates a function")
        if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
            raise TypeError(f"task '{fn.__name__}': async tasks are not supported by weft's Python SDK yet; use def")
        #: The plain function.
        self.fn = fn
        #: The task's name (default: the function's name).
        self.name = name or fn.__name__
        #: Its description (default: the docstring).
        self.description = description if description is not None else (inspect.getdoc(fn) or "")
        #: Its version (informational).
        self.version = version
        #: Tags recorded on its task runs.
        self.tags = list(tags or [])
        #: Retries after a failed attempt.
        self.retries = _options.check_retries(retries, f"task '{self.name}'")
        #: Delay before each retry, as given.
        self.retry_delay_seconds = retry_delay_seconds
        #: Random jitter as a fraction of each delay.
        self.retry_jitter_factor = retry_jitter_factor
        #: Computes the cache key of a call.
        self.cache_key_fn = cache_key_fn
        #: A literal cache key.
        self.cache_key = cache_key
        #: A cache policy (``INPUTS`` or ``NO_CACHE``).
        self.cache_policy = cache_policy
        #: How long a cached result stays valid.
        self.cache_expiration = cache_expiration
        #: Time limit of one attempt, in seconds.
        self.timeout_seconds = timeout_seconds
        #: Whether ``print`` logs to the run logger (``None``: as the flow).
        self.log_prints = log_prints
        # Check the options now (at build time), not at the first call.
        self._delays = _options.delays_ms(self.retries, retry_delay_seconds)
        self._jitter = _options.check_jitter(retry_jitter_factor)
        self._timeout_ms = _options.timeout_ms(timeout_seconds)
        self._expiration = _options.expiration_secs(cache_expiration)
        if cache_policy is not None and not isinstance(cache_policy, CachePolicy):
            raise TypeError(f"task '{self.name}': cache_policy must be one of weft.cache_policies (INPUTS, NO_CACHE)")
        if cache_key is not None and cache_key_fn is not None:
            raise ValueError(f"task '{self.name}': give cache_key or cache_key_fn, not both")
        self.__doc__ = fn.__doc__
        self.__name__ = getattr(fn, "__name__", self.name)
        self.__wrapped__ = fn
        _signature.prepare(fn)
        _registry.add_task(self)

    def with_options(self, **changes: Any) -> "Task":
        """A copy of the task with some options changed (Prefect's
        ``Task.with_options``). A new ``name`` must be given at module level,
        so that the task is registered in every instance."""
        options = dict(
            name=self.name,
            description=self.description,
            tags=self.tags,
            version=self.version,
            retries=self.retries,
            retry_delay_seconds=self.retry_delay_seconds,
            retry_jitter_factor=self.retry_jitter_factor,
            cache_key_fn=self.cache_key_fn,
            cache_key=self.cache_key,
            cache_policy=self.cache_policy,
            cache_expiration=self.cache_expiration,
            timeout_seconds=self.timeout_seconds,
            log_prints=self.log_prints,
        )
        options.update(changes)
        return Task(self.fn, **options)

    # -- calling ---------------------------------------------------------

    def _cache(self, types: Any, arguments: Dict[str, Any]) -> Any:
        if self.cache_policy is not None and not self.cache_policy.caches:
            return None
        key: Optional[str] = None
        if self.cache_key_fn is task_input_hash:
            pass  # the host's own key: task name, component digest, input
        elif self.cache_key_fn is not None:
            parameters = dict(arguments)
            try:
                bound = _signature.signature(self.fn).bind_partial(**arguments)
                bound.apply_defaults()
                parameters = dict(bound.arguments)
            except TypeError:  # positional-only parameters: keep them as given
                pass
            key = self.cache_key_fn(CacheKeyContext(self), parameters)
            if key is None:
                return None
            key = str(key)
        elif self.cache_key is not None:
            key = self.cache_key
        elif self.cache_policy is None and self._expiration is None:
            return None
        return types.CachePolicy(key=key, expiration_secs=self._expiration)

    def _call_options(self, arguments: Dict[str, Any]) -> Any:
        from weft import _host

        all_tags = list(self.tags)
        for extra in _tag_stack:
            all_tags.extend(t for t in extra if t not in all_tags)
        return _host.types.TaskOptions(
            retries=_options.retry_policy(_host.types, self.retries, self._delays, self._jitter),
            cache=self._cache(_host.types, arguments),
            timeout_ms=self._timeout_ms,
            tags=all_tags,
        )

    def _input(self, args: tuple, kwargs: dict) -> tuple:
        args = resolve_futures(args)
        kwargs = resolve_futures(kwargs)
        arguments = bind_call(self.fn, args, kwargs, f"task '{self.name}'")
        text = _json.dumps(arguments, f"the input of task '{self.name}'")
        return text, arguments

    def __call__(self, *args: Any, return_state: bool = False, **kwargs: Any) -> Any:
        """Runs the task as a task run and returns its result; raises a
        :class:`~weft.exceptions.TaskRunError` if it ended without one
        (with ``return_state=True``, returns its :class:`~weft.futures.State`
        instead). Outside a run, calls the function directly."""
        if _context.current() is None:
            return self.fn(*args, **kwargs)
        from weft import _host

        text, arguments = self._input(args, kwargs)
        try:
            result = _json.loads(_host.run(self.name, text, self._call_options(arguments)), f"the result of task '{self.name}'")
        except TaskRunError as e:
            if return_state:
                return State(e.state_name, {"Crashed": "CRASHED", "Cancelled": "CANCELLED"}.get(e.state_name, "FAILED"), e.message, error=e)
            raise
        if return_state:
            return State("Completed", "COMPLETED", data=result)
        return result

    def submit(self, *args: Any, wait_for: Optional[Sequence[TaskFuture]] = None, **kwargs: Any) -> TaskFuture:
        """Starts the task as a task run and returns a
        :class:`~weft.futures.TaskFuture` at once; the task runs concurrently
        with the caller. Futures among the arguments are replaced by their
        results; ``wait_for`` futures are waited for first."""
        _context.require(f"{self.name}.submit()")
        from weft import _host

        for future in wait_for or ():
            future.wait()
        text, arguments = self._input(args, kwargs)
        handle = _host.submit(self.name, text, self._call_options(arguments))
        return TaskFuture(self.name, handle)

    def map(self, *args: Any, wait_for: Optional[Sequence[TaskFuture]] = None, **kwargs: Any) -> TaskFutureList:
        """Submits one task run per element of the iterable arguments
        (Prefect's ``Task.map``); wrap an iterable that is the same for every
        call in :class:`unmapped`. Returns the futures, in order."""
        def prepare(value: Any) -> tuple:
            if isinstance(value, unmapped):
                return (False, value.value)
            if _is_mapped(value):
                return (True, list(value))
            return (False, value)

        def pick(prepared: tuple, i: int) -> Any:
            mapped, value = prepared
            return value[i] if mapped else value

        pos = [prepare(v) for v in args]
        kw = {k: prepare(v) for k, v in kwargs.items()}
        lengths = {len(value) for mapped, value in [*pos, *kw.values()] if mapped}
        if not lengths:
            raise ValueError(f"{self.name}.map() needs at least one iterable argument")
        if len(lengths) > 1:
            raise ValueError(f"{self.name}.map(): the iterable arguments have different lengths {sorted(lengths)}")
        futures = TaskFutureList()
        for i in range(lengths.pop()):
            futures.append(
                self.submit(*[pick(p, i) for p in pos], wait_for=wait_for, **{k: pick(p, i) for k, p in kw.items()})
            )
        return futures

    # -- running (in the task's own instance) ----------------------------

    def run_body(self, input_json: str, flow_log_prints: bool) -> str:
        """Runs the function with the JSON input of a task run and returns its
        JSON result (the ``run-task`` export)."""
        values = _json.loads(input_json, f"the input of task '{self.name}'") or {}
        if not isinstance(values, dict):
            raise TypeError(f"the input of task '{self.name}' must be a JSON object")
        args, kwargs = call_args(self.fn, values, f"task '{self.name}'")
        log_prints = flow_log_prints if self.log_prints is None else self.log_prints
        _context.enter(_context.RunScope("task", self.name, log_prints))
        try:
            with print_as_log(log_prints):
                result = self.fn(*args, **kwargs)
        finally:
            _context.leave()
        return _json.dumps(result, f"the result of task '{self.name}'")

    def __repr__(self) -> str:
        return f"Task(name={self.name!r})"


def task(__fn: Optional[Callable] = None, **options: Any) -> Any:
    """Makes a function a weft task, like Prefect's ``@task``; use it bare
    (``@task``) or with options (``@task(retries=3)``).

    Options: ``name``, ``description``, ``tags``, ``version``, ``retries``,
    ``retry_delay_seconds`` (a number, a list, or a callable such as
    :func:`exponential_backoff`), ``retry_jitter_factor``, ``cache_key_fn``
    (``fn(context, parameters) -> str | None``, e.g. :func:`task_input_hash`),
    ``cache_key`` (a literal key), ``cache_policy``, ``cache_expiration`` (a
    ``timedelta`` or seconds), ``timeout_seconds``, ``log_prints``.
    """
    if __fn is not None:
        return Task(__fn, **options)
    return lambda fn: Task(fn, **options)
