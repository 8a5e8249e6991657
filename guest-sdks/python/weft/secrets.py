"""Secrets granted to the run (Prefect's ``Secret`` block):
``Secret.load("NAME").get()``.

A run can read only the secrets its deployment (or ``weft run
--allow-secret NAME``) grants. The host redacts secret values from logs and
output, but do not log them on purpose.
"""

from __future__ import annotations

from weft import _context

__all__ = ["Secret"]


class Secret:
    """A secret's value, read from the host."""

    def __init__(self, name: str, value: str) -> None:
        #: The secret's name.
        self.name = name
        self._value = value

    @classmethod
    def load(cls, name: str) -> "Secret":
        """Reads the secret ``name``. Raises
        :class:`~weft.exceptions.SecretError` (a ``ValueError``) if it does
        not exist or the run was not granted it."""
        _context.require(f"Secret.load({name!r})")
        from weft import _host

        return cls(name, _host.secret(name))

    def get(self) -> str:
        """The secret's value."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret(name={self.name!r}, value='********')"
