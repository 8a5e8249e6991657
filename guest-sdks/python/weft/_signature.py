"""Function signatures: task call arguments to a JSON object and back, flow
parameters to arguments, and the JSON Schema ``describe`` reports."""

from __future__ import annotations

import functools
import inspect
import typing
from typing import Any, Callable, Dict, List, Optional, Tuple

from weft.exceptions import ParameterBindError

_P = inspect.Parameter


@functools.lru_cache(maxsize=None)
def signature(fn: Callable) -> inspect.Signature:
    """``inspect.signature(fn)``, computed once. ``@flow`` and ``@task`` call
    it when the module is imported, at build time, so that a run (a fresh
    instance of the pre-initialized component) does not compute it again."""
    return inspect.signature(fn)


@functools.lru_cache(maxsize=None)
def _shape(fn: Callable) -> Tuple[tuple, frozenset, Optional[str]]:
    params = tuple(signature(fn).parameters.values())
    names = frozenset(p.name for p in params)
    var_kw = next((p.name for p in params if p.kind is _P.VAR_KEYWORD), None)
    return params, names, var_kw


def prepare(fn: Callable) -> None:
    """Computes what calls of ``fn`` need, ahead of the first call."""
    _shape(fn)


def bind_call(fn: Callable, args: tuple, kwargs: dict, what: str) -> Dict[str, Any]:
    """The arguments of a call of ``fn``, keyed by parameter name (defaults
    are left out: the callee applies them). ``*args`` are kept as a list
    and ``**kwargs`` as an object under their own names."""
    try:
        bound = signature(fn).bind(*args, **kwargs)
    except TypeError as e:
        raise ParameterBindError(f"cannot call {what}: {e}") from None
    return dict(bound.arguments)


def call_args(fn: Callable, values: Dict[str, Any], what: str) -> Tuple[list, dict]:
    """Positional and keyword arguments for ``fn`` from an object keyed by
    parameter name. Missing required parameters are an error; keys that
    match no parameter are ignored unless ``fn`` takes ``**kwargs``."""
    args: list = []
    kwargs: dict = {}
    missing: List[str] = []
    params, names, var_kw = _shape(fn)
    positional_ok = True
    for p in params:
        present = p.name in values
        if p.kind is _P.VAR_POSITIONAL:
            extra = values.get(p.name) or []
            if not isinstance(extra, list):
                raise ParameterBindError(f"invalid input for {what}: '{p.name}' must be a list")
            args.extend(extra)
            positional_ok = False
        elif p.kind is _P.VAR_KEYWORD:
            extra = values.get(p.name) if isinstance(values.get(p.name), dict) else {}
            kwargs.update(extra)
        elif not present:
            if p.default is _P.empty:
                missing.append(p.name)
            positional_ok = False
        elif p.kind is _P.POSITIONAL_ONLY or (p.kind is _P.POSITIONAL_OR_KEYWORD and positional_ok):
            args.append(values[p.name])
        else:
            kwargs[p.name] = values[p.name]
    if missing:
        listed = ", ".join(f"'{m}'" for m in missing)
        raise ParameterBindError(f"invalid parameters for {what}: missing {listed}")
    if var_kw is not None:
        for key, value in values.items():
            if key not in names and key != var_kw:
                kwargs[key] = value
    return args, kwargs


def parameter_names(fn: Callable) -> List[str]:
    """The names of ``fn``'s parameters, in order."""
    return list(signature(fn).parameters)


def _hints(fn: Callable) -> Dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001 - unresolvable annotations: no types
        return {}


def type_schema(hint: Any) -> Dict[str, Any]:
    """A JSON Schema for a type annotation (``{}`` when unknown)."""
    if hint is None or hint is type(None):
        return {"type": "null"}
    origin = typing.get_origin(hint)
    type_args = typing.get_args(hint)
    if origin is typing.Union or (origin is not None and getattr(origin, "__name__", "") == "UnionType"):
        return {"anyOf": [type_schema(a) for a in type_args]}
    simple = {bool: "boolean", int: "integer", float: "number", str: "string", dict: "object"}
    if hint in simple:
        return {"type": simple[hint]}
    if origin in (list, set, frozenset, tuple) or hint in (list, set, frozenset, tuple):
        schema: Dict[str, Any] = {"type": "array"}
        if type_args:
            schema["items"] = type_schema(type_args[0])
        return schema
    if origin is dict:
        return {"type": "object"}
    return {}


def parameter_schema(fn: Callable) -> Dict[str, Any]:
    """The JSON Schema of ``fn``'s parameters, as an object."""
    hints = _hints(fn)
    properties: Dict[str, Any] = {}
    required: List[str] = []
    for p in signature(fn).parameters.values():
        if p.kind in (_P.VAR_POSITIONAL, _P.VAR_KEYWORD):
            continue
        schema = type_schema(hints.get(p.name)) if p.name in hints else {}
        if p.default is _P.empty:
            required.append(p.name)
        elif isinstance(p.default, (bool, int, float, str, type(None), list, dict)):
            schema = dict(schema, default=p.default)
        properties[p.name] = schema
    result: Dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        result["required"] = required
    return result
