/**
 * Futures of submitted task runs (Prefect's `PrefectFuture`) and waiting
 * for many.
 * @module
 */

import { TaskRunError } from "./errors.js";
import * as host from "./host.js";
import { loads } from "./json.js";

const STATE_TYPES = { Failed: "FAILED", TimedOut: "FAILED", Crashed: "CRASHED", Cancelled: "CANCELLED" };

/** The final state of a task run. */
export class State {
  /**
   * @param {string} name "Completed", "Failed", "Crashed", ...
   * @param {any} [data] the result
   * @param {TaskRunError | null} [error] why it has none
   */
  constructor(name, data = null, error = null) {
    /** Prefect's state name. */
    this.name = name;
    /** Prefect's state type: "COMPLETED", "FAILED", "CRASHED", "CANCELLED". */
    this.type = error ? STATE_TYPES[name] ?? "FAILED" : "COMPLETED";
    /** The host's message (for a failure: the error and its stack). */
    this.message = error ? error.detail : "";
    this.data = data;
    this.error = error;
  }

  /** @returns {boolean} */
  isCompleted() {
    return this.type === "COMPLETED";
  }

  /** @returns {boolean} whether it failed (timeouts included) */
  isFailed() {
    return this.type === "FAILED";
  }

  /** @returns {boolean} */
  isCrashed() {
    return this.type === "CRASHED";
  }

  /** @returns {boolean} */
  isCancelled() {
    return this.type === "CANCELLED";
  }

  /**
   * @param {TaskRunError} error
   * @returns {State}
   */
  static of(error) {
    return new State(error.stateName, null, error);
  }
}

const UNSET = Symbol("unset");

/**
 * A task run started with `task.submit(...)`, running concurrently with the
 * caller; `await future.result()` waits for it.
 */
export class TaskFuture {
  /**
   * @param {string} task
   * @param {any} handle the host's `task-future`
   */
  constructor(task, handle) {
    /** The task's name. */
    this.taskName = task;
    this._handle = handle;
    this._value = UNSET;
    /** @type {TaskRunError | null} */
    this._error = null;
  }

  /** The task run's id (a UUID). */
  get taskRunId() {
    return host.futureTaskRunId(this._handle);
  }

  /** @returns {boolean} whether the outcome is known already */
  done() {
    return this._value !== UNSET || this._error !== null;
  }

  /** Waits for the outcome (the host call blocks until the run ends). */
  waitSync() {
    if (this.done()) return;
    let text;
    try {
      text = host.get(this.taskName, this._handle);
    } catch (error) {
      this._error = error instanceof TaskRunError ? error : new TaskRunError(this.taskName, String(error));
      return;
    }
    try {
      this._value = loads(text, `the result of task '${this.taskName}'`);
    } catch (error) {
      this._error = new TaskRunError(this.taskName, error.message);
    }
  }

  /** The result now, or the error thrown (after waiting). */
  resultSync({ raiseOnFailure = true } = {}) {
    this.waitSync();
    if (this._error) {
      if (raiseOnFailure) throw this._error;
      return this._error;
    }
    return this._value;
  }

  /** @returns {Promise<void>} resolves when the task run has ended */
  async wait() {
    this.waitSync();
  }

  /**
   * Resolves to the task run's result; rejects with its TaskRunError (or
   * resolves to it, with `{ raiseOnFailure: false }`).
   * @param {{ raiseOnFailure?: boolean }} [options]
   * @returns {Promise<any>}
   */
  async result(options = {}) {
    return this.resultSync(options);
  }

  /** @returns {Promise<State>} the final state (waits for it) */
  async state() {
    this.waitSync();
    return this._error ? State.of(this._error) : new State("Completed", this._value);
  }
}

/** A list of futures (what `task.map` returns), awaitable as a whole. */
export class TaskFutureList extends Array {
  /** @returns {Promise<void>} resolves when every task run has ended */
  async wait() {
    for (const future of this) future.waitSync();
  }

  /**
   * The results in order; waits for all, then rejects with the first error
   * unless `raiseOnFailure` is false.
   * @param {{ raiseOnFailure?: boolean }} [options]
   * @returns {Promise<any[]>}
   */
  async result(options = {}) {
    for (const future of this) future.waitSync();
    return Array.from(this, (future) => future.resultSync(options));
  }

  static get [Symbol.species]() {
    return Array;
  }
}

/**
 * Waits for every future (Prefect's `wait`); resolves to `{ done, notDone }`
 * (`notDone` is always empty: there is no timeout).
 * @param {Iterable<TaskFuture>} futures
 * @returns {Promise<{ done: Set<TaskFuture>, notDone: Set<TaskFuture> }>}
 */
export async function wait(futures) {
  const all = [...futures];
  for (const future of all) future.waitSync();
  return { done: new Set(all), notDone: new Set() };
}

/**
 * `value` with every future in it (also in arrays and plain objects)
 * replaced by its result, as Prefect does for task arguments.
 * @param {any} value
 * @returns {any}
 */
export function resolveFutures(value) {
  if (value instanceof TaskFuture) return value.resultSync();
  if (Array.isArray(value)) return value.map(resolveFutures);
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveFutures(v)]));
  }
  return value;
}
