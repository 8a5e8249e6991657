"""``@flow`` (Prefect's decorator) and the :class:`Flow` it makes.

A flow is an entry point of the component: the host calls its body through
the ``run`` export, in a fresh instance, with the flow run's parameters.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Optional, Union

from weft import _context, _json, _options, _registry, _signature
from weft._signature import call_args, parameter_names, parameter_schema
from weft.logging import print_as_log

__all__ = ["flow", "Flow"]


class Flow:
    """A flow: a function the host runs as a flow run.

    Made by :func:`flow`; see it for the options. ``flow.fn`` is the plain
    function.
    """

    def __init__(
        self,
        fn: Callable,
        name: Optional[str] = None,
        description: Optional[str] = None,
        version: Optional[str] = None,
        retries: Optional[int] = None,
        retry_delay_seconds: Optional[_options.Delay] = None,
        retry_jitter_factor: Optional[float] = None,
        timeout_seconds: Optional[Union[int, float]] = None,
        log_prints: Optional[bool] = None,
    ) -> None:
        if not callable(fn):
            raise TypeError("@flow decorates a function")
        if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
            raise TypeError(f"flow '{fn.__name__}': async flows are not supported by weft's Python SDK yet; use def")
        #: The plain function.
        self.fn = fn
        #: The flow's name (default: the function's name with ``_`` as ``-``).
        self.name = name or fn.__name__.replace("_", "-")
        #: Its description (default: the docstring).
        self.description = description if description is not None else (inspect.getdoc(fn) or "")
        #: Its version (informational).
        self.version = version
        #: Retries of the whole flow run after an attempt fails.
        self.retries = _options.check_retries(retries, f"flow '{self.name}'")
        #: Delay before each retry, as given.
        self.retry_delay_seconds = retry_delay_seconds
        #: Random jitter as a fraction of each delay.
        self.retry_jitter_factor = retry_jitter_factor
        #: Time limit of one attempt, in seconds.
        self.timeout_seconds = timeout_seconds
        #: Whether ``print`` logs to the run logger (also in its tasks).
        self.log_prints = bool(log_prints)
        self._delays = _options.delays_ms(self.retries, retry_delay_seconds)
        self._jitter = _options.check_jitter(retry_jitter_factor)
        self._timeout_ms = _options.timeout_ms(timeout_seconds)
        self.__doc__ = fn.__doc__
        self.__name__ = getattr(fn, "__name__", self.name)
        self.__wrapped__ = fn
        _signature.prepare(fn)
        _registry.add_flow(self)

    def with_options(self, **changes: Any) -> "Flow":
        """A copy of the flow with some options changed (Prefect's
        ``Flow.with_options``)."""
        options = dict(
            name=self.name,
            description=self.description,
            version=self.version,
            retries=self.retries,
            retry_delay_seconds=self.retry_delay_seconds,
            retry_jitter_factor=self.retry_jitter_factor,
            timeout_seconds=self.timeout_seconds,
            log_prints=self.log_prints,
        )
        options.update(changes)
        return Flow(self.fn, **options)

    def info(self, types: Any) -> Any:
        """The WIT ``flow-info`` that ``describe`` reports."""
        return types.FlowInfo(
            name=self.name,
            parameters=[p for p in parameter_names(self.fn)],
            parameter_schema=_json.dumps(parameter_schema(self.fn), f"the parameter schema of flow '{self.name}'"),
            description=self.description,
            options=types.FlowOptions(
                retries=_options.retry_policy(types, self.retries, self._delays, self._jitter),
                timeout_ms=self._timeout_ms,
            ),
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Runs the flow's body in the calling run (a subflow runs inline, as
        part of the calling flow run)."""
        scope = _context.current()
        if scope is None:
            return self.fn(*args, **kwargs)
        with print_as_log(self.log_prints or scope.log_prints):
            return self.fn(*args, **kwargs)

    def run_body(self, params_json: str) -> str:
        """Runs the body with the JSON parameters of a flow run and returns
        its JSON result (the ``run`` export)."""
        values = _json.loads(params_json, f"the parameters of flow '{self.name}'") or {}
        if not isinstance(values, dict):
            raise TypeError(f"the parameters of flow '{self.name}' must be a JSON object")
        args, kwargs = call_args(self.fn, values, f"flow '{self.name}'")
        _context.enter(_context.RunScope("flow", self.name, self.log_prints))
        try:
            with print_as_log(self.log_prints):
                result = self.fn(*args, **kwargs)
        finally:
            _context.leave()
        return _json.dumps(result, f"the result of flow '{self.name}'")

    def __repr__(self) -> str:
        return f"Flow(name={self.name!r})"


def flow(__fn: Optional[Callable] = None, **options: Any) -> Any:
    """Makes a function a weft flow, like Prefect's ``@flow``; use it bare
    (``@flow``) or with options (``@flow(name="etl", retries=2)``).

    Options: ``name`` (default: the function's name, ``_`` as ``-``),
    ``description`` (default: the docstring), ``version``, ``retries``,
    ``retry_delay_seconds`` (a number or a list), ``retry_jitter_factor``,
    ``timeout_seconds``, ``log_prints``.
    """
    if __fn is not None:
        return Flow(__fn, **options)
    return lambda fn: Flow(fn, **options)
