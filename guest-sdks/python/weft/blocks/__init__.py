"""Prefect's ``prefect.blocks`` namespace: only ``system.Secret``."""
