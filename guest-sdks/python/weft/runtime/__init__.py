"""Facts about the current run (Prefect's ``prefect.runtime``):
``from weft.runtime import flow_run, task_run, deployment``.

Attributes are read from the host when accessed, e.g. ``flow_run.id``,
``flow_run.name``, ``flow_run.flow_name``, ``flow_run.parameters``,
``flow_run.run_count``; ``task_run.id``, ``task_run.task_name``,
``task_run.run_count``; ``deployment.name``.
"""

from weft.runtime import deployment, flow_run, task_run

__all__ = ["flow_run", "task_run", "deployment"]
