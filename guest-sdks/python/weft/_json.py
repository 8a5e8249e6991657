"""Values crossing the host boundary: parameters, task inputs and results
travel as JSON text."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import uuid
from typing import Any

from weft.exceptions import SerializationError


def _default(value: Any) -> Any:
    """JSON for the common types ``json`` does not know."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return model_dump(mode="json")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# One encoder, made at import (build) time: json.dumps with options would
# build a new one per call.
_ENCODER = json.JSONEncoder(default=_default, allow_nan=False, separators=(",", ":"))


def dumps(value: Any, what: str) -> str:
    """Encodes ``value`` as compact JSON; ``what`` names it in errors
    ("the result of task 'x'")."""
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as e:
        raise SerializationError(f"cannot encode {what} as JSON: {e}") from None


def loads(text: str, what: str) -> Any:
    """Decodes JSON text; empty text is ``None``."""
    if not text or not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError as e:
        raise SerializationError(f"{what} is not valid JSON: {e}") from None
