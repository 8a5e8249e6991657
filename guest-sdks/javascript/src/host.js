/**
 * The host's side of the `weft:flow` world, in one place: every call into
 * the host (tasks, logging, secrets, run context) goes through this module.
 * componentize-js binds these imports in the component; the SDK's unit
 * tests map them to a fake host.
 * @module
 */

import * as context from "weft:flow/context@0.1.0";
import { log as hostLog } from "weft:flow/logging@0.1.0";
import { get as hostSecret } from "weft:flow/secrets@0.1.0";
import { run as hostRun, submit as hostSubmit } from "weft:flow/tasks@0.1.0";

import { SecretError, TaskCancelled, TaskCrashed, TaskFailed, TaskTimedOut } from "./errors.js";

/**
 * The payload of an error result thrown by an import.
 * @param {any} thrown
 * @returns {any}
 */
function payload(thrown) {
  return thrown && typeof thrown === "object" && "payload" in thrown ? thrown.payload : thrown;
}

/**
 * The exception for a WIT `task-error`.
 * @param {string} task
 * @param {any} error `{ tag, val }`
 * @returns {Error}
 */
export function taskError(task, error) {
  switch (error && error.tag) {
    case "failed":
      return new TaskFailed(task, String(error.val));
    case "cancelled":
      return new TaskCancelled(task);
    case "timed-out":
      return new TaskTimedOut(task);
    case "crashed":
      return new TaskCrashed(task, String(error.val));
    default:
      return new TaskCrashed(task, `unknown task error ${JSON.stringify(error)}`);
  }
}

/**
 * Starts a task run; returns the host's future handle.
 * @param {string} task
 * @param {string} input JSON
 * @param {object} options WIT `task-options`
 * @returns {any}
 */
export function submit(task, input, options) {
  return hostSubmit(task, input, options);
}

/**
 * Runs a task and waits; returns its JSON result or throws a TaskRunError.
 * @param {string} task
 * @param {string} input
 * @param {object} options
 * @returns {string}
 */
export function run(task, input, options) {
  try {
    return hostRun(task, input, options);
  } catch (thrown) {
    throw taskError(task, payload(thrown));
  }
}

/**
 * Waits for a submitted task run; returns its JSON result or throws.
 * @param {string} task
 * @param {any} handle
 * @returns {string}
 */
export function get(task, handle) {
  try {
    return handle.get();
  } catch (thrown) {
    throw taskError(task, payload(thrown));
  }
}

/**
 * The task run id of a submitted task run.
 * @param {any} handle
 * @returns {string}
 */
export function futureTaskRunId(handle) {
  return handle.taskRunId();
}

/**
 * Writes one line to the run's log.
 * @param {"debug"|"info"|"warning"|"error"|"critical"} level
 * @param {string} message
 */
export function log(level, message) {
  hostLog(level, message);
}

/**
 * The value of a secret; throws SecretError.
 * @param {string} name
 * @returns {string}
 */
export function secret(name) {
  try {
    return hostSecret(name);
  } catch (thrown) {
    throw new SecretError(name, String(payload(thrown)));
  }
}

/** The run context (`weft:flow/context`). */
export const ctx = {
  flowRunId: () => context.flowRunId(),
  flowRunName: () => context.flowRunName(),
  flowName: () => context.flowName(),
  taskRunId: () => context.taskRunId() ?? null,
  taskName: () => context.taskName() ?? null,
  attempt: () => Number(context.attempt()),
  deploymentName: () => context.deploymentName() ?? null,
  parameters: () => JSON.parse(context.parameters() || "{}"),
};
