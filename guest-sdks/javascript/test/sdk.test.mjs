// Unit tests of the JavaScript SDK on Node, against the fake host in
// fakehost/. The end-to-end tests (real components on the real host) are in
// host/cli/tests/js_sdk.rs.
import assert from "node:assert/strict";
import { beforeEach, describe as group, test } from "node:test";

import {
  MissingContextError,
  Secret,
  exponentialBackoff,
  flow,
  getRunLogger,
  runtime,
  task,
  taskInputHash,
  unmapped,
  wait,
  withTags,
} from "weft";
import { describe, run, runTask } from "../src/component.js";
import { HOST } from "./fakehost/state.mjs";

const double = task(function double(x) {
  return 2 * x;
}, { retries: 2, retryDelaySeconds: [1, 2.5], retryJitterFactor: 0.5, timeoutSeconds: 10, tags: ["io"] });

const boom = task(function boom(message) {
  throw new TypeError(message);
});

const flaky = task(function flaky() {
  if (runtime.taskRun.runCount < 3) throw new Error(`attempt ${runtime.taskRun.runCount}`);
  return `ok on ${runtime.taskRun.runCount}`;
}, { retries: 3, retryDelaySeconds: exponentialBackoff(10) });

const cached = task(function cached(n) {
  getRunLogger().info("computing", n);
  return n * n;
}, { cacheKeyFn: taskInputHash, cacheExpiration: 3600 });

const byParity = task(function byParity(n) {
  return n;
}, { cacheKeyFn: (ctx, [n]) => `${ctx.task.name}-${n % 2}` });

const fixed = task(() => "fixed", { name: "fixed", cacheKey: "fixed", cacheExpiration: 60 });

flow(async function etl({ n, label = "x" }) {
  const futures = Array.from({ length: n }, (_, i) => double.submit(i));
  const { done, notDone } = await wait(futures);
  const values = await Promise.all(futures.map((f) => f.result()));
  return { values, done: done.size, notDone: notDone.size, label };
}, {
  name: "etl",
  description: "Runs the ETL.",
  parameters: { n: { type: "integer" }, label: { type: "string", default: "x" } },
  retries: 1,
  retryDelaySeconds: 5,
  timeoutSeconds: 60,
});

flow(async function failsInTask() {
  await boom("bad input");
});

flow(async function catchesFailure() {
  const state = await boom.callWithState("soft");
  const future = boom.submit("later");
  const error = await future.result({ raiseOnFailure: false });
  return [state.isFailed(), state.message.split("\n")[0], error.name, (await future.state()).name];
});

flow(async function retried() {
  return await flaky();
});

flow(async function useCache() {
  return [await cached(3), await cached(3), await byParity(1), await byParity(3), await fixed()];
});

flow(async function mapping() {
  const squares = double.map([1, 2, 3]);
  const add = task(function add(a, b) {
    return a + b;
  });
  const sums = add.map([1, 2], unmapped(100));
  const chained = double.submit(squares[0]);
  return [await squares.result(), await sums.result(), await chained.result()];
});

flow(async function printing() {
  console.log("hello", "world", { a: 1 });
  console.error("oops");
}, { logPrints: true });

flow(async function loggingFlow() {
  const logger = getRunLogger();
  logger.debug("d");
  logger.warning("careful", 42);
  logger.error(new RangeError("bad"));
});

flow(async function secretFlow({ name }) {
  return Secret.load(name).get().length;
}, { parameters: { name: { type: "string" } } });

flow(async function contextFlow() {
  return [runtime.flowRun.id, runtime.flowRun.name, runtime.flowRun.flowName, runtime.flowRun.parameters, runtime.taskRun.id];
});

flow(async function notJson() {
  return 10n ** 30n;
});

flow(async function badNumber() {
  return NaN;
});

const inner = flow(async function inner({ x }) {
  return await double(x);
});

flow(async function subflowCaller() {
  return (await inner({ x: 4 })) + 1;
});

flow(async function tagged() {
  await withTags(["batch"], () => double(1));
});

flow(function throwsNonError() {
  throw { code: 7 };
});

async function runFlow(name, params = {}) {
  HOST.flow = name;
  return JSON.parse(await run(name, JSON.stringify(params)));
}

async function runErr(name, params = {}) {
  HOST.flow = name;
  try {
    await run(name, JSON.stringify(params));
  } catch (e) {
    assert.equal(typeof e, "string", "exports throw strings");
    return e;
  }
  assert.fail("the flow should have failed");
}

beforeEach(() => HOST.reset());

group("describe", () => {
  test("reports flows, tasks and options", () => {
    const info = describe();
    assert.equal(info.sdk, "weft-sdk-js 0.1.0");
    const flows = Object.fromEntries(info.flows.map((f) => [f.name, f]));
    assert.ok(flows["fails-in-task"], "camelCase names are kebab-cased");
    const etl = flows.etl;
    assert.deepEqual(etl.parameters, ["n", "label"]);
    assert.equal(etl.description, "Runs the ETL.");
    assert.deepEqual(JSON.parse(etl.parameterSchema).required, ["n"]);
    assert.equal(etl.options.retries.retries, 1);
    assert.deepEqual(etl.options.retries.delaysMs, [5000n]);
    assert.equal(etl.options.timeoutMs, 60000n);
    assert.ok(info.tasks.some((t) => t.name === "double"));
  });

  test("bad options fail when the module is evaluated", () => {
    assert.throws(() => task(() => 1, { name: "neg", retries: -1 }), RangeError);
    assert.throws(() => task(() => 1, { name: "x", retrys: 1 }), /unknown option 'retrys'/);
    assert.throws(() => task(function double() {}), /two tasks are named 'double'/);
    assert.throws(() => flow(() => 1), /anonymous/);
  });
});

group("runs", () => {
  test("submit, wait and results; task options", async () => {
    assert.deepEqual(await runFlow("etl", { n: 3 }), { values: [0, 2, 4], done: 3, notDone: 0, label: "x" });
    const { input, options } = HOST.calls[0];
    assert.deepEqual(input, { args: [0] });
    assert.deepEqual(options.retries, { retries: 2, delaysMs: [1000n, 2500n], backoffFactor: 1, jitterFactor: 0.5 });
    assert.equal(options.timeoutMs, 10000n);
    assert.deepEqual(options.tags, ["io"]);
    assert.equal(options.cache, undefined);
  });

  test("a missing parameter fails before the body", async () => {
    assert.match(await runErr("etl", {}), /invalid parameters for flow 'etl': missing 'n'/);
    assert.equal(HOST.calls.length, 0);
  });

  test("an unknown flow lists the flows", async () => {
    const message = await runErr("nope");
    assert.match(message, /no flow named 'nope'/);
    assert.match(message, /etl/);
  });

  test("a task's error is its message and stack", async () => {
    HOST.flow = "fails-in-task";
    const message = await runTask("boom", '{"args": ["bad input"]}').then(
      () => assert.fail("should fail"),
      (e) => e,
    );
    assert.equal(typeof message, "string");
    assert.ok(message.startsWith("TypeError: bad input\n"), message);
    assert.match(message, /boom.*sdk\.test\.mjs:\d+/);
    const flowMessage = await runErr("failsInTask");
    assert.ok(flowMessage.startsWith("TaskFailed: task 'boom' failed: TypeError: bad input"), flowMessage);
  });

  test("failures can be inspected", async () => {
    assert.deepEqual(await runFlow("catches-failure"), [true, "TypeError: soft", "TaskFailed", "Failed"]);
  });

  test("retries are the host's", async () => {
    assert.equal(await runFlow("retried"), "ok on 3");
    assert.deepEqual(HOST.calls[0].options.retries.delaysMs, [10000n, 20000n, 40000n]);
  });

  test("cache keys", async () => {
    assert.deepEqual(await runFlow("use-cache"), [9, 9, 1, 1, "fixed"]);
    const caches = HOST.calls.map((c) => c.options.cache);
    assert.deepEqual(caches[0], { key: undefined, expirationSecs: 3600n });
    assert.equal(caches[2].key, "byParity-1");
    assert.equal(caches[3].key, "byParity-1");
    assert.deepEqual(caches[4], { key: "fixed", expirationSecs: 60n });
    assert.deepEqual(HOST.logs.filter(([, m]) => m.startsWith("computing")), [["info", "computing 3"]]);
  });

  test("map, unmapped and futures as arguments", async () => {
    assert.deepEqual(await runFlow("mapping"), [[2, 4, 6], [101, 102], 4]);
  });

  test("console goes to the run logger with logPrints", async () => {
    await runFlow("printing");
    assert.deepEqual(HOST.logs, [["info", 'hello world {"a":1}'], ["error", "oops"]]);
  });

  test("run logger levels and errors", async () => {
    await runFlow("logging-flow");
    assert.deepEqual(HOST.logs.slice(0, 2), [["debug", "d"], ["warning", "careful 42"]]);
    assert.equal(HOST.logs[2][0], "error");
    assert.match(HOST.logs[2][1], /^RangeError: bad\n/);
  });

  test("secrets", async () => {
    assert.equal(await runFlow("secret-flow", { name: "API_TOKEN" }), 7);
    assert.match(await runErr("secret-flow", { name: "OTHER" }), /SecretError: cannot read the secret 'OTHER': the secret 'OTHER' is not granted/);
  });

  test("runtime context", async () => {
    assert.deepEqual(await runFlow("context-flow"), ["11111111-1111-1111-1111-111111111111", "crimson-fox", "context-flow", { n: 3 }, null]);
  });

  test("results must be JSON", async () => {
    assert.equal(await runFlow("not-json"), "1000000000000000000000000000000");
    assert.match(await runErr("bad-number"), /cannot encode the result of flow 'bad-number' as JSON/);
  });

  test("subflows run inline", async () => {
    assert.equal(await runFlow("subflow-caller"), 9);
    assert.deepEqual(HOST.calls.map((c) => c.task), ["double"]);
  });

  test("tags blocks", async () => {
    await runFlow("tagged");
    assert.deepEqual(HOST.calls[0].options.tags, ["io", "batch"]);
  });

  test("a thrown non-error is reported", async () => {
    assert.equal(await runErr("throws-non-error"), 'thrown: {"code":7}');
  });

  test("outside a run", async () => {
    assert.equal(await double(4), 8);
    assert.throws(() => getRunLogger(), MissingContextError);
    assert.throws(() => Secret.load("API_TOKEN"), MissingContextError);
    assert.throws(() => double.submit(1), MissingContextError);
  });
});

group("stacks", () => {
  test("bundle frames map to the user's files; SDK frames are left out", async () => {
    const { userStack } = await import("../src/errors.js");
    globalThis.__weftLines = { sources: ["flow.js", null], lines: [[0, 7], [1, 40], null] };
    try {
      const stack = ["explode@bundle.js:1:9", "runBody/<@bundle.js:2:3", "other@bundle.js:3:1", "export_runTask@/tmp/x/sources/initializer.js:9:2", "lib@lib.js:4:4"].join("\n");
      assert.equal(userStack(stack), ["explode@flow.js:7", "other@bundle.js:3:1", "lib@lib.js:4:4"].join("\n"));
    } finally {
      delete globalThis.__weftLines;
    }
  });

  test("the VLQ line table", async () => {
    const { decodeVlq, lineTable } = await import("../bin/sourcemap.mjs");
    assert.deepEqual(decodeVlq("AAgBC"), [0, 0, 16, 1]);
    assert.deepEqual(lineTable("AAAA;AACA,EAAE;;ACAA"), [[0, 1], [0, 2], null, [1, 2]]);
  });
});
