"""Retries, in Prefect style: a flaky task fails on its first two attempts
and succeeds on the third; the host retries it after 0.1 s and then 0.2 s."""

from weft import flow, get_run_logger, task
from weft.runtime import task_run


@task(retries=2, retry_delay_seconds=[0.1, 0.2])
def flaky_fetch() -> str:
    """Fails on attempts 1 and 2, succeeds on attempt 3."""
    logger = get_run_logger()
    attempt = task_run.run_count
    if attempt < 3:
        logger.warning("attempt %d failed", attempt)
        raise ConnectionError(f"attempt {attempt}: the service is unavailable")
    logger.info("attempt %d succeeded", attempt)
    return f"fetched on attempt {attempt}"


@flow
def retry_flow() -> str:
    """Calls the flaky task (which needs three attempts) and returns its value."""
    return flaky_fetch()


if __name__ == "__main__":
    retry_flow()
