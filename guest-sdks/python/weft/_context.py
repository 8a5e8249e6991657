"""Which run the instance is executing, as the SDK's exports set it.

The host starts every flow body and every task attempt in a fresh instance,
so this is set once per instance, by ``run`` or ``run-task``, and is
``None`` while the component is being built or described.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from weft.exceptions import MissingContextError


@dataclass
class RunScope:
    """The run this instance executes."""

    #: "flow" in a flow body, "task" in a task.
    kind: str
    #: The flow's or task's name.
    name: str
    #: Whether ``print`` goes to the run logger (``log_prints``).
    log_prints: bool = False


_current: Optional[RunScope] = None


def current() -> Optional[RunScope]:
    """The active run scope, or ``None`` outside a run."""
    return _current


def enter(scope: RunScope) -> None:
    """Marks the start of a flow body or task attempt."""
    global _current
    _current = scope


def leave() -> None:
    """Marks its end."""
    global _current
    _current = None


def require(what: str) -> RunScope:
    """The active scope; raises :class:`MissingContextError` outside a run."""
    if _current is None:
        raise MissingContextError(
            f"{what} needs an active flow or task run (it was used outside of one, "
            "e.g. at import time)"
        )
    return _current
