"""Caching, in Prefect style: the task's result is cached for an hour under
a key derived from its inputs; a second run of the flow is a cache hit and
does not run the task again."""

from datetime import timedelta

from weft import flow, get_run_logger, task
from weft.tasks import task_input_hash


@task(cache_key_fn=task_input_hash, cache_expiration=timedelta(hours=1))
def expensive(n: int) -> int:
    """An expensive computation: the sum of the squares below ``n``."""
    get_run_logger().info("computing (not cached)")
    return sum(i * i for i in range(n))


@flow
def cached_flow() -> int:
    """Calls the cached task with a fixed input and returns its result."""
    return expensive(1000)


if __name__ == "__main__":
    cached_flow()
