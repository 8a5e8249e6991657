"""The deployment the run came from: ``name`` (``None`` for ``weft run``)."""

from typing import Any

from weft import _context

__all__ = ["name"]


def __getattr__(attr: str) -> Any:
    from weft import _host

    if attr != "name":
        raise AttributeError(f"weft.runtime.deployment has no attribute {attr!r}")
    _context.require("deployment.name")
    return _host.deployment_name()
