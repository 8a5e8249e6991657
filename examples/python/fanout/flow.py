"""A dynamic fan-out ETL, in Prefect style: the number of extract tasks is
known only at run time (the ``n`` parameter).

A run of ``etl`` with parameter ``n`` creates exactly ``n`` task runs (one
``extract`` per row); transform and load run in the flow body, so
``weft run examples/python/fanout --param n=100`` yields 100 task runs.
"""

from weft import flow, get_run_logger, task


@task(tags=["etl", "extract"])
def extract(i: int) -> int:
    """Extracts row ``i`` of the source: its value is ``i * i``."""
    return i * i


def transform(values: list[int]) -> list[int]:
    """Transforms the extracted values (here: doubles them)."""
    return [value * 2 for value in values]


def load(rows: list[int]) -> dict:
    """Loads the transformed rows and returns the summary."""
    return {"rows": len(rows), "total": sum(rows)}


@flow(name="etl")
def etl(n: int = 10) -> dict:
    """Extracts ``n`` rows concurrently, transforms and loads them; returns
    ``{"rows": n, "total": 2 * sum(i * i for i in range(n))}``."""
    logger = get_run_logger()
    futures = extract.map(range(n))
    values = futures.result()
    logger.info("extracted %d rows", len(values))
    summary = load(transform(values))
    logger.info("loaded: %s", summary)
    return summary


if __name__ == "__main__":
    etl(5)
