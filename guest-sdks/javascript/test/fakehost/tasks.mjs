// A fake `weft:flow/tasks`: runs task bodies in process (synchronous bodies
// only), with the policy's retries and a cache keyed like the host's.
import { currentScope, setScope } from "../../src/context.js";
import { describeError } from "../../src/errors.js";
import { findTask } from "../../src/registry.js";
import { HOST } from "./state.mjs";

class ComponentError extends Error {
  constructor(payload) {
    super("component error");
    this.payload = payload;
  }
}

function runNow(task, input, options) {
  HOST.calls.push({ task, input: JSON.parse(input), options });
  let key;
  if (options.cache) {
    key = options.cache.key ?? `${task}:${input}`;
    if (HOST.cache.has(key)) return HOST.cache.get(key);
  }
  const def = findTask(task);
  if (!def) throw new ComponentError({ tag: "failed", val: `no task named '${task}'` });
  const attempts = 1 + (options.retries ? options.retries.retries : 0);
  const saved = [currentScope(), HOST.task, HOST.attempt];
  let error;
  try {
    for (let attempt = 1; attempt <= attempts; attempt++) {
      HOST.task = [`task-${HOST.calls.length}`, task];
      HOST.attempt = attempt;
      setScope({ kind: "task", name: task, logPrints: false });
      try {
        const value = def.fn(...JSON.parse(input).args);
        if (value && typeof value.then === "function") throw new Error("the fake host runs synchronous tasks only");
        const text = JSON.stringify(value === undefined ? null : value);
        if (key !== undefined) HOST.cache.set(key, text);
        return text;
      } catch (e) {
        error = { tag: "failed", val: describeError(e) };
      }
    }
  } finally {
    setScope(saved[0]);
    HOST.task = saved[1];
    HOST.attempt = saved[2];
  }
  throw new ComponentError(error);
}

export function run(task, input, options) {
  return runNow(task, input, options);
}

export function submit(task, input, options) {
  let outcome;
  try {
    outcome = { ok: runNow(task, input, options) };
  } catch (e) {
    outcome = { err: e };
  }
  const id = `00000000-0000-0000-0000-${String(++HOST.nextId).padStart(12, "0")}`;
  return {
    get() {
      if (outcome.err) throw outcome.err;
      return outcome.ok;
    },
    taskRunId: () => id,
  };
}
