"""``from weft.blocks.system import Secret``, as ``prefect.blocks.system``."""

from weft.secrets import Secret

__all__ = ["Secret"]
