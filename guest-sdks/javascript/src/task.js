/**
 * `task(fn, options)`: a function whose calls run as task runs on the host
 * (cache lookup, a fresh instance, retries, timeout, recorded states).
 * @module
 */

import { currentScope, requireScope, setScope } from "./context.js";
import { TaskRunError } from "./errors.js";
import { State, TaskFuture, TaskFutureList, resolveFutures } from "./future.js";
import * as host from "./host.js";
import { dumps, loads } from "./json.js";
import { withLogPrints } from "./logger.js";
import * as opts from "./options.js";
import { addTask } from "./registry.js";

/** @type {string[][]} tags added by `withTags` blocks */
const tagStack = [];

/**
 * Runs `body` with `names` added to the tags of every task run it creates
 * (Prefect's `with tags(...)`).
 * @template T
 * @param {string[]} names
 * @param {() => T} body
 * @returns {Promise<Awaited<T>>}
 */
export async function withTags(names, body) {
  tagStack.push([...names]);
  try {
    return await body();
  } finally {
    tagStack.pop();
  }
}

/**
 * Retry delays growing exponentially: retry `n` waits
 * `backoffFactor * 2 ** (n - 1)` seconds (Prefect's `exponential_backoff`).
 * @param {number} backoffFactor
 * @returns {(retries: number) => number[]}
 */
export function exponentialBackoff(backoffFactor) {
  return (retries) => Array.from({ length: retries }, (_, r) => backoffFactor * 2 ** r);
}

/**
 * Prefect's `task_input_hash`. Passed as `cacheKeyFn`, the host derives the
 * key itself from the task's name, the component's digest (its code) and
 * the input. Called directly, it returns a key of the task name and args.
 * @param {{ task: { name: string } }} context
 * @param {any[]} args
 * @returns {string}
 */
export function taskInputHash(context, args) {
  return `${context.task.name}:${JSON.stringify(args)}`;
}

/** Marks an argument of `task.map` as the same for every call. */
export class Unmapped {
  /** @param {any} value */
  constructor(value) {
    this.value = value;
  }
}

/**
 * @param {any} value
 * @returns {Unmapped}
 */
export const unmapped = (value) => new Unmapped(value);

const OPTION_NAMES = new Set([
  "name", "description", "tags", "version", "retries", "retryDelaySeconds", "retryJitterFactor",
  "cacheKeyFn", "cacheKey", "cacheExpiration", "timeoutSeconds", "logPrints",
]);

/** A task's definition: its function and options. */
export class TaskDef {
  /**
   * @param {Function} fn
   * @param {object} options see `task`
   */
  constructor(fn, options = {}) {
    if (typeof fn !== "function") throw new TypeError("task(fn, options) needs a function");
    for (const key of Object.keys(options)) {
      if (!OPTION_NAMES.has(key)) throw new TypeError(`task: unknown option '${key}'`);
    }
    this.fn = fn;
    this.options = { ...options };
    this.name = options.name || fn.name;
    if (!this.name) throw new TypeError("task: an anonymous function needs { name: ... }");
    this.description = options.description ?? "";
    this.tags = [...(options.tags ?? [])];
    this.retries = opts.checkRetries(options.retries, `task '${this.name}'`);
    this.delays = opts.delaysMs(this.retries, options.retryDelaySeconds);
    this.jitter = opts.checkJitter(options.retryJitterFactor);
    this.timeoutMs = opts.timeoutMs(options.timeoutSeconds);
    this.expiration = opts.expirationSecs(options.cacheExpiration);
    this.logPrints = options.logPrints;
    if (options.cacheKey !== undefined && options.cacheKeyFn !== undefined) {
      throw new TypeError(`task '${this.name}': give cacheKey or cacheKeyFn, not both`);
    }
    addTask(this);
  }

  /**
   * The WIT `cache-policy` of a call, or undefined for none.
   * @param {any[]} args
   * @returns {object | undefined}
   */
  cache(args) {
    const { cacheKeyFn, cacheKey } = this.options;
    let key;
    if (cacheKeyFn === taskInputHash) {
      key = undefined;
    } else if (typeof cacheKeyFn === "function") {
      key = cacheKeyFn({ task: this }, args);
      if (key === undefined || key === null) return undefined;
      key = String(key);
    } else if (cacheKey !== undefined) {
      key = String(cacheKey);
    } else if (this.expiration === undefined) {
      return undefined;
    }
    return { key, expirationSecs: opts.u64(this.expiration) };
  }

  /**
   * The WIT `task-options` of a call.
   * @param {any[]} args
   * @returns {object}
   */
  callOptions(args) {
    const tags = [...this.tags];
    for (const extra of tagStack) for (const t of extra) if (!tags.includes(t)) tags.push(t);
    return {
      retries: opts.retryPolicy(this.retries, this.delays, this.jitter),
      cache: this.cache(args),
      timeoutMs: opts.u64(this.timeoutMs),
      tags,
    };
  }

  /**
   * @param {any[]} args
   * @returns {[string, any[]]} the JSON input and the resolved arguments
   */
  input(args) {
    const resolved = resolveFutures(args);
    return [dumps({ args: resolved }, `the input of task '${this.name}'`), resolved];
  }

  /**
   * Runs the task as a task run; resolves to its result.
   * @param {any[]} args
   * @param {boolean} returnState
   * @returns {Promise<any>}
   */
  async call(args, returnState = false) {
    if (currentScope() === null) return await this.fn(...args);
    const [text, resolved] = this.input(args);
    let result;
    try {
      result = loads(host.run(this.name, text, this.callOptions(resolved)), `the result of task '${this.name}'`);
    } catch (error) {
      if (returnState && error instanceof TaskRunError) return State.of(error);
      throw error;
    }
    return returnState ? new State("Completed", result) : result;
  }

  /**
   * Starts the task as a task run and returns its future at once.
   * @param {any[]} args
   * @returns {TaskFuture}
   */
  submit(args) {
    requireScope(`${this.name}.submit()`);
    const [text, resolved] = this.input(args);
    return new TaskFuture(this.name, host.submit(this.name, text, this.callOptions(resolved)));
  }

  /**
   * One task run per element of the array arguments (others, and
   * `unmapped(...)` ones, are passed to every call).
   * @param {any[]} args
   * @returns {TaskFutureList}
   */
  map(args) {
    const isMapped = (v) => !(v instanceof Unmapped) && typeof v !== "string" && v != null && typeof v[Symbol.iterator] === "function";
    const prepared = args.map((v) => (v instanceof Unmapped ? [false, v.value] : isMapped(v) ? [true, [...v]] : [false, v]));
    const lengths = new Set(prepared.filter(([m]) => m).map(([, v]) => v.length));
    if (lengths.size === 0) throw new TypeError(`${this.name}.map() needs at least one iterable argument`);
    if (lengths.size > 1) throw new RangeError(`${this.name}.map(): the iterable arguments have different lengths`);
    const [count] = lengths;
    const futures = new TaskFutureList();
    for (let i = 0; i < count; i++) {
      futures.push(this.submit(prepared.map(([m, v]) => (m ? v[i] : v))));
    }
    return futures;
  }

  /**
   * Runs the function with a task run's JSON input (the `run-task` export).
   * @param {string} inputJson
   * @param {boolean} flowLogPrints the calling flow's `logPrints`
   * @returns {Promise<string>}
   */
  async runBody(inputJson, flowLogPrints) {
    const input = loads(inputJson, `the input of task '${this.name}'`) ?? {};
    const args = Array.isArray(input.args) ? input.args : [];
    const logPrints = this.logPrints ?? flowLogPrints;
    setScope({ kind: "task", name: this.name, logPrints });
    try {
      const result = await withLogPrints(logPrints, () => this.fn(...args));
      return dumps(result, `the result of task '${this.name}'`);
    } finally {
      setScope(null);
    }
  }
}

/**
 * Makes `fn` a weft task (Prefect's `@task`). The returned function runs a
 * task run per call and resolves to its result; it also has `submit`,
 * `map`, `withOptions`, `callWithState`, `fn` and `taskName`.
 *
 * Options: `name` (default: the function's name), `description`, `tags`,
 * `version`, `retries`, `retryDelaySeconds` (a number, an array, or a
 * function such as `exponentialBackoff(10)`), `retryJitterFactor`,
 * `cacheKeyFn` (`(context, args) => string | undefined`, e.g.
 * `taskInputHash`), `cacheKey`, `cacheExpiration` (seconds),
 * `timeoutSeconds`, `logPrints`.
 *
 * @template {(...args: any[]) => any} F
 * @param {F | object} fn the function (or the options, for `task(options)(fn)`)
 * @param {object} [options]
 * @returns {any}
 */
export function task(fn, options = {}) {
  if (typeof fn !== "function") {
    const given = fn ?? {};
    return (f) => task(f, given);
  }
  const def = new TaskDef(fn, options);
  const call = (...args) => def.call(args);
  Object.defineProperty(call, "name", { value: fn.name });
  call.submit = (...args) => def.submit(args);
  call.map = (...args) => def.map(args);
  call.callWithState = (...args) => def.call(args, true);
  call.withOptions = (changes) => task(fn, { ...def.options, ...changes });
  call.fn = fn;
  call.taskName = def.name;
  call.definition = def;
  return call;
}
