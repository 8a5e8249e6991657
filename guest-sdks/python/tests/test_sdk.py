"""Unit tests of the Python SDK on plain CPython, against the fake host in
``fakehost.py``. The end-to-end tests (real components on the real host)
are in host/cli/tests/python_sdk.rs."""

from __future__ import annotations

import datetime
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import fakehost  # noqa: E402

HOST = fakehost.install()

from componentize_py_types import Err  # noqa: E402

import weft  # noqa: E402
from weft import Secret, flow, get_run_logger, task, unmapped, wait  # noqa: E402
from weft._component import WitWorld  # noqa: E402
from weft.runtime import flow_run, task_run  # noqa: E402
from weft.tasks import exponential_backoff, task_input_hash  # noqa: E402


@task(retries=2, retry_delay_seconds=[1, 2.5], retry_jitter_factor=0.5, timeout_seconds=10, tags=["io"])
def double(x: int) -> int:
    """Doubles x."""
    return 2 * x


@task
def boom(message: str):
    raise ValueError(message)


@task(retries=3, retry_delay_seconds=exponential_backoff(10))
def flaky() -> str:
    if task_run.run_count < 3:
        raise RuntimeError(f"attempt {task_run.run_count}")
    return f"ok on {task_run.run_count}"


@task(cache_key_fn=task_input_hash, cache_expiration=datetime.timedelta(hours=1))
def cached(n: int) -> int:
    get_run_logger().info("computing %d", n)
    return n * n


@task(cache_key_fn=lambda ctx, params: f"{ctx.task.name}-{params['n'] % 2}")
def by_parity(n: int) -> int:
    return n


@task(cache_key="fixed", cache_expiration=60)
def fixed() -> str:
    return "fixed"


@task
def add(a: int, b: int = 10, *rest: int, **extra: int) -> int:
    return a + b + sum(rest) + sum(extra.values())


@task(log_prints=False)
def quiet_print():
    print("to stdout")


@task
def loud_print():
    print("printed", 42)


@flow(name="etl", retries=1, retry_delay_seconds=5, timeout_seconds=60)
def etl(n: int, label: str = "x", scale: float | None = None) -> dict:
    """Runs the ETL."""
    futures = [double.submit(i) for i in range(n)]
    done, not_done = wait(futures)
    return {"values": [f.result() for f in futures], "done": len(done), "not_done": len(not_done), "label": label}


@flow
def fails_in_task():
    boom("bad input")


@flow
def catches_failure():
    state = boom("soft", return_state=True)
    future = boom.submit("later")
    error = future.result(raise_on_failure=False)
    return [state.is_failed(), state.message.splitlines()[0], type(error).__name__, future.state.name]


@flow
def retried() -> str:
    return flaky()


@flow
def use_cache() -> list:
    return [cached(3), cached(3), by_parity(1), by_parity(3), fixed()]


@flow
def mapping() -> list:
    squares = double.map([1, 2, 3])
    sums = add.map([1, 2], b=unmapped(100))
    chained = double.submit(squares[0])
    return [squares.result(), sums.result(), chained.result()]


@flow
def arguments() -> list:
    return [add(1), add(1, 2, 3, 4), add(a=1, b=2, c=3)]


@flow(log_prints=True)
def printing() -> None:
    print("hello", "world")
    loud_print()
    quiet_print()


@flow
def logging_flow() -> None:
    logger = get_run_logger()
    logger.debug("d")
    logger.warning("careful %s", "now")
    try:
        raise KeyError("k")
    except KeyError:
        logger.exception("caught")


@flow
def secret_flow(name: str) -> int:
    return len(Secret.load(name).get())


@flow
def context_flow() -> list:
    return [flow_run.id, flow_run.name, flow_run.flow_name, flow_run.parameters, task_run.id]


@flow
def not_json():
    return object()


@flow
def subflow_caller() -> int:
    return inner(4) + 1


@flow
def inner(x: int) -> int:
    return double(x)


@flow
def tagged() -> None:
    with weft.tags("batch"):
        double(1)


def run(flow_name: str, params: dict | None = None):
    HOST.flow = flow_name
    return json.loads(WitWorld().run(flow_name, json.dumps(params or {})))


def run_err(flow_name: str, params: dict | None = None) -> str:
    HOST.flow = flow_name
    try:
        WitWorld().run(flow_name, json.dumps(params or {}))
    except Err as e:
        return e.value
    raise AssertionError("the flow should have failed")


class DescribeTest(unittest.TestCase):
    def test_reports_flows_tasks_and_options(self):
        info = WitWorld().describe()
        self.assertEqual(info.sdk, "weft-sdk-python 0.1.0")
        flows = {f.name: f for f in info.flows}
        self.assertIn("fails-in-task", flows)
        etl_info = flows["etl"]
        self.assertEqual(etl_info.parameters, ["n", "label", "scale"])
        self.assertEqual(etl_info.description, "Runs the ETL.")
        schema = json.loads(etl_info.parameter_schema)
        self.assertEqual(schema["required"], ["n"])
        self.assertEqual(schema["properties"]["n"], {"type": "integer"})
        self.assertEqual(schema["properties"]["label"], {"type": "string", "default": "x"})
        self.assertEqual(schema["properties"]["scale"]["anyOf"], [{"type": "number"}, {"type": "null"}])
        self.assertEqual(etl_info.options.retries.retries, 1)
        self.assertEqual(etl_info.options.retries.delays_ms, [5000])
        self.assertEqual(etl_info.options.timeout_ms, 60000)
        tasks = {t.name: t for t in info.tasks}
        self.assertEqual(tasks["double"].description, "Doubles x.")

    def test_bad_options_fail_at_decoration(self):
        with self.assertRaises(ValueError):
            task(retries=-1)(lambda: None)
        with self.assertRaises(ValueError):
            task(name="neg-delay", retries=1, retry_delay_seconds=-1)(lambda: None)
        with self.assertRaises(TypeError):

            @task
            async def nope():
                pass

        with self.assertRaises(ValueError):

            @task(name="double")
            def another():
                pass


class RunTest(unittest.TestCase):
    def setUp(self):
        HOST.logs.clear()
        HOST.calls.clear()
        HOST.cache.clear()

    def test_submit_wait_and_results(self):
        self.assertEqual(run("etl", {"n": 3}), {"values": [0, 2, 4], "done": 3, "not_done": 0, "label": "x"})
        _, input_, options = HOST.calls[0]
        self.assertEqual(input_, {"x": 0})
        self.assertEqual(options.retries.retries, 2)
        self.assertEqual(options.retries.delays_ms, [1000, 2500])
        self.assertEqual(options.retries.jitter_factor, 0.5)
        self.assertEqual(options.retries.backoff_factor, 1.0)
        self.assertEqual(options.timeout_ms, 10000)
        self.assertEqual(options.tags, ["io"])
        self.assertIsNone(options.cache)

    def test_flow_names_match_with_underscores(self):
        self.assertEqual(run("arguments"), [11, 10, 6])
        self.assertIn("task 'boom' failed", run_err("fails_in_task"))

    def test_missing_parameter_fails_before_the_body(self):
        message = run_err("etl", {})
        self.assertIn("invalid parameters for flow 'etl': missing 'n'", message)
        self.assertEqual(HOST.calls, [])

    def test_unknown_flow_lists_the_flows(self):
        message = run_err("no-such-flow")
        self.assertIn("no flow named 'no-such-flow'", message)
        self.assertIn("etl", message)

    def test_task_exception_is_message_and_traceback(self):
        HOST.flow = "fails-in-task"
        try:
            WitWorld().run_task("boom", '{"message": "bad input"}')
        except Err as e:
            message = e.value
        self.assertTrue(message.startswith("ValueError: bad input\n"), message)
        self.assertIn("Traceback (most recent call last):", message)
        self.assertIn('raise ValueError(message)', message)
        flow_message = run_err("fails-in-task")
        self.assertTrue(flow_message.startswith("TaskFailed: task 'boom' failed: ValueError: bad input"), flow_message)

    def test_failures_can_be_inspected(self):
        self.assertEqual(run("catches-failure"), [True, "ValueError: soft", "TaskFailed", "Failed"])

    def test_retries_are_the_hosts(self):
        self.assertEqual(run("retried"), "ok on 3")
        self.assertEqual(HOST.calls[0][2].retries.delays_ms, [10000, 20000, 40000])

    def test_cache_keys(self):
        self.assertEqual(run("use-cache"), [9, 9, 1, 1, "fixed"])
        options = [c[2].cache for c in HOST.calls]
        self.assertEqual(options[0], fakehost.CachePolicy(key=None, expiration_secs=3600))
        self.assertEqual(options[2].key, "by_parity-1")
        self.assertEqual(options[3].key, "by_parity-1")
        self.assertEqual(options[4], fakehost.CachePolicy(key="fixed", expiration_secs=60))
        computed = [m for _, m in HOST.logs if m.startswith("computing")]
        self.assertEqual(computed, ["computing 3"])

    def test_map_unmapped_and_futures_as_arguments(self):
        self.assertEqual(run("mapping"), [[2, 4, 6], [101, 102], 4])

    def test_print_goes_to_the_run_logger_with_log_prints(self):
        run("printing")
        self.assertIn(("INFO", "hello world"), HOST.logs)
        self.assertIn(("INFO", "printed 42"), HOST.logs)
        self.assertNotIn(("INFO", "to stdout"), HOST.logs)

    def test_run_logger_levels_and_tracebacks(self):
        run("logging-flow")
        self.assertIn(("DEBUG", "d"), HOST.logs)
        self.assertIn(("WARNING", "careful now"), HOST.logs)
        level, message = HOST.logs[-1]
        self.assertEqual(level, "ERROR")
        self.assertIn("caught\nTraceback", message)
        self.assertIn("KeyError: 'k'", message)

    def test_secrets(self):
        self.assertEqual(run("secret-flow", {"name": "API_TOKEN"}), 7)
        message = run_err("secret-flow", {"name": "OTHER"})
        self.assertIn("SecretError: cannot read the secret 'OTHER': the secret 'OTHER' is not granted", message)

    def test_runtime_context(self):
        self.assertEqual(
            run("context-flow"),
            ["11111111-1111-1111-1111-111111111111", "crimson-fox", "context-flow", {"n": 3}, None],
        )

    def test_results_must_be_json(self):
        self.assertIn("cannot encode the result of flow 'not-json' as JSON", run_err("not-json"))

    def test_subflows_run_inline(self):
        self.assertEqual(run("subflow-caller"), 9)
        self.assertEqual([c[0] for c in HOST.calls], ["double"])

    def test_tags_context(self):
        run("tagged")
        self.assertEqual(HOST.calls[0][2].tags, ["io", "batch"])

    def test_prefect_style_import_paths(self):
        from weft import cache_policies
        from weft.blocks.system import Secret as BlockSecret
        from weft.futures import PrefectFuture, wait as futures_wait

        self.assertIs(BlockSecret, Secret)
        self.assertIs(futures_wait, wait)
        self.assertIs(PrefectFuture, weft.TaskFuture)
        policy_task = task(name="policy-task", cache_policy=cache_policies.INPUTS)(lambda: 1)
        self.assertEqual(policy_task._cache(fakehost, {}), fakehost.CachePolicy(key=None, expiration_secs=None))
        never = task(name="never-cached", cache_policy=cache_policies.NO_CACHE, cache_expiration=60)(lambda: 1)
        self.assertIsNone(never._cache(fakehost, {}))

    def test_outside_a_run(self):
        self.assertEqual(double(4), 8)
        with self.assertRaises(weft.MissingContextError):
            get_run_logger()
        with self.assertRaises(weft.MissingContextError):
            Secret.load("API_TOKEN")
        with self.assertRaises(weft.MissingContextError):
            double.submit(1)


if __name__ == "__main__":
    unittest.main()
