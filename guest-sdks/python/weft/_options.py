"""Prefect-style options to the host's WIT records: retries and their
delays, cache expiry, timeouts."""

from __future__ import annotations

import datetime
import math
from typing import Any, Callable, List, Optional, Sequence, Union

Delay = Union[int, float, Sequence[Union[int, float]], Callable[[int], Sequence[Union[int, float]]]]


def _ms(seconds: Union[int, float], what: str) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0 or math.isnan(seconds):
        raise ValueError(f"{what} must be a non-negative number of seconds, not {seconds!r}")
    return int(round(seconds * 1000))


def delays_ms(retries: int, delay: Optional[Delay]) -> List[int]:
    """``retry_delay_seconds`` (a number, a list of numbers, or a callable
    taking ``retries`` and returning a list, like Prefect's
    ``exponential_backoff``) as a list of milliseconds."""
    if delay is None:
        return []
    if callable(delay):
        delay = delay(retries)
    if isinstance(delay, (int, float)) and not isinstance(delay, bool):
        return [_ms(delay, "retry_delay_seconds")]
    return [_ms(d, "retry_delay_seconds") for d in delay]


def check_retries(retries: Optional[int], what: str) -> int:
    """``retries`` as a count (0 when absent)."""
    if retries is None:
        return 0
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"{what}: retries must be a non-negative integer, not {retries!r}")
    return retries


def check_jitter(jitter: Optional[float]) -> float:
    """``retry_jitter_factor`` as a fraction (0 when absent)."""
    if jitter is None:
        return 0.0
    if isinstance(jitter, bool) or not isinstance(jitter, (int, float)) or jitter < 0:
        raise ValueError(f"retry_jitter_factor must be a non-negative number, not {jitter!r}")
    return float(jitter)


def timeout_ms(seconds: Optional[Union[int, float]]) -> Optional[int]:
    """``timeout_seconds`` in milliseconds (at least 1)."""
    if seconds is None:
        return None
    return max(1, _ms(seconds, "timeout_seconds"))


def expiration_secs(expiration: Optional[Union[datetime.timedelta, int, float]]) -> Optional[int]:
    """``cache_expiration`` (a ``timedelta`` or seconds) in whole seconds."""
    if expiration is None:
        return None
    if isinstance(expiration, datetime.timedelta):
        seconds = expiration.total_seconds()
    elif isinstance(expiration, (int, float)) and not isinstance(expiration, bool):
        seconds = float(expiration)
    else:
        raise ValueError(f"cache_expiration must be a timedelta or seconds, not {expiration!r}")
    if seconds < 0:
        raise ValueError("cache_expiration must not be negative")
    return int(math.ceil(seconds))


def retry_policy(types: Any, retries: int, delays: List[int], jitter: float) -> Any:
    """The WIT ``retry-policy``, or ``None`` without retries."""
    if retries <= 0:
        return None
    return types.RetryPolicy(retries=retries, delays_ms=delays, backoff_factor=1.0, jitter_factor=jitter)
