/**
 * Errors raised by the weft SDK. A task call that produced no result
 * rejects with a {@link TaskRunError}; which subclass says why (the WIT
 * `task-error`). Uncaught, it fails the flow run.
 * @module
 */

/** Base class of the SDK's errors. */
export class WeftError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}

/** Something that needs a flow or task run was used outside of one. */
export class MissingContextError extends WeftError {}

/** A flow's parameters (or a task's input) do not fit its definition. */
export class ParameterError extends WeftError {}

/** A value cannot cross the host boundary as JSON. */
export class SerializationError extends WeftError {}

/** A secret cannot be read: it does not exist or was not granted. */
export class SecretError extends WeftError {
  /**
   * @param {string} secretName the secret's name
   * @param {string} reason the host's reason
   */
  constructor(secretName, reason) {
    super(`cannot read the secret '${secretName}': ${reason}`);
    /** The secret's name. */
    this.secretName = secretName;
    /** The host's reason. */
    this.reason = reason;
  }
}

/** A task run ended without a result. */
export class TaskRunError extends WeftError {
  /**
   * @param {string} task the task's name
   * @param {string} [detail] the host's full message (for a failure: the
   *   error and its stack in the task)
   */
  constructor(task, detail = "") {
    super(TaskRunError.summary(new.target, task, detail));
    /** The task's name. */
    this.task = task;
    /** The host's full message. */
    this.detail = detail;
  }

  /** The state the task run ended in, as the host names it. */
  get stateName() {
    return "Failed";
  }

  /**
   * @param {Function} kind
   * @param {string} task
   * @param {string} detail
   * @returns {string}
   */
  static summary(kind, task, detail) {
    const first = detail.trim().split("\n")[0] || "";
    if (kind === TaskCancelled) return `task '${task}' was cancelled`;
    if (kind === TaskTimedOut) return `task '${task}' timed out`;
    if (kind === TaskCrashed) return `task '${task}' crashed: ${detail}`;
    return first ? `task '${task}' failed: ${first}` : `task '${task}' failed`;
  }
}

/** The task threw (its message and stack are in `detail`). */
export class TaskFailed extends TaskRunError {}

/** The run was cancelled before the task finished. */
export class TaskCancelled extends TaskRunError {
  get stateName() {
    return "Cancelled";
  }
}

/** The task exceeded its `timeoutSeconds` on its last attempt. */
export class TaskTimedOut extends TaskRunError {
  get stateName() {
    return "TimedOut";
  }
}

/** The task's instance trapped or hit a sandbox limit; `detail` says which. */
export class TaskCrashed extends TaskRunError {
  get stateName() {
    return "Crashed";
  }
}

/**
 * A stack with the bundle's frames mapped back to the user's files and
 * lines (through the line table the build appends to the bundle) and the
 * SDK's and the engine's own frames left out. Frames it cannot map stay.
 * @param {string} stack SpiderMonkey's `fn@file:line:column` lines (or V8's)
 * @returns {string}
 */
export function userStack(stack) {
  const table = globalThis.__weftLines;
  const kept = [];
  for (const frame of stack.split("\n")) {
    const match = /^(.*)@(.*):(\d+):(\d+)$/.exec(frame);
    if (!match) {
      kept.push(frame);
      continue;
    }
    const [, fn, file, line] = match;
    if (file.endsWith("initializer.js")) continue;
    if (table && file.endsWith("bundle.js")) {
      const entry = table.lines[Number(line) - 1];
      const source = entry ? table.sources[entry[0]] : undefined;
      if (source === null) continue;
      if (source !== undefined) {
        kept.push(`${fn.replace(/\/<$/, "")}@${source}:${entry[1]}`);
        continue;
      }
    }
    kept.push(frame);
  }
  return kept.join("\n");
}

/**
 * The message of a failed run for a thrown value: `"Name: message"`, then
 * the stack of the user's code.
 * @param {unknown} error
 * @returns {string}
 */
export function describeError(error) {
  if (error instanceof Error) {
    const summary = error.message ? `${error.name}: ${error.message}` : error.name;
    const stack = typeof error.stack === "string" ? userStack(error.stack.trim()).trim() : "";
    if (!stack) return summary;
    // V8 stacks start with the summary; SpiderMonkey's do not.
    return stack.startsWith(summary) ? stack : `${summary}\n${stack}`;
  }
  if (typeof error === "string") return error;
  try {
    return `thrown: ${JSON.stringify(error)}`;
  } catch {
    return `thrown: ${String(error)}`;
  }
}
