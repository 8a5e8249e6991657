"""The first flow, written exactly as in Prefect: only the import line
differs (``from prefect import flow, task``)."""

from weft import flow, task


@task
def get_data() -> str:
    """Returns the greeting."""
    return "Hello from weft!"


@flow(log_prints=True)
def my_first_flow():
    """Gets the greeting from a task and prints it (printed lines are logs)."""
    data = get_data()
    print(data)


if __name__ == "__main__":
    my_first_flow()
