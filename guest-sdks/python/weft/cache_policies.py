"""Cache policies (Prefect 3's ``prefect.cache_policies``), in the subset the
host supports.

- ``INPUTS``: cache by the task's input. The host derives the key from the
  task's name, the component's digest (so a change of code is a new key, like
  Prefect's ``TASK_SOURCE``) and the input JSON.
- ``NO_CACHE`` (also ``NONE``): do not cache.
"""

from __future__ import annotations


class CachePolicy:
    """A named cache policy."""

    def __init__(self, name: str, caches: bool) -> None:
        #: The policy's name.
        self.name = name
        #: Whether task runs with this policy are cached.
        self.caches = caches

    def __repr__(self) -> str:
        return self.name


#: Cache by the task's input (and code).
INPUTS = CachePolicy("INPUTS", True)
#: Do not cache.
NO_CACHE = CachePolicy("NO_CACHE", False)
#: Do not cache (Prefect's other name).
NONE = NO_CACHE

__all__ = ["CachePolicy", "INPUTS", "NO_CACHE", "NONE"]
