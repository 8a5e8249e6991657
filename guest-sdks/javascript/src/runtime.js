/**
 * Facts about the current run (Prefect's `prefect.runtime`), read from the
 * host when accessed: `flowRun.id`, `.name`, `.flowName`, `.parameters`,
 * `.runCount`; `taskRun.id`, `.taskName`, `.runCount` (null in a flow
 * body); `deployment.name` (null for `weft run`).
 * @module
 */

import { requireScope } from "./context.js";
import * as host from "./host.js";

/**
 * An object whose properties call the getters, in a run only.
 * @param {string} what
 * @param {Record<string, () => any>} getters
 * @returns {any}
 */
function facts(what, getters) {
  const object = {};
  for (const [key, getter] of Object.entries(getters)) {
    Object.defineProperty(object, key, {
      enumerable: true,
      get() {
        requireScope(`${what}.${key}`);
        return getter();
      },
    });
  }
  return Object.freeze(object);
}

/** The current flow run. */
export const flowRun = facts("flowRun", {
  id: () => host.ctx.flowRunId(),
  name: () => host.ctx.flowRunName(),
  flowName: () => host.ctx.flowName(),
  parameters: () => host.ctx.parameters(),
  runCount: () => host.ctx.attempt(),
});

/** The current task run, inside a task. */
export const taskRun = facts("taskRun", {
  id: () => host.ctx.taskRunId(),
  taskName: () => host.ctx.taskName(),
  runCount: () => host.ctx.attempt(),
});

/** The deployment the run came from. */
export const deployment = facts("deployment", {
  name: () => host.ctx.deploymentName(),
});
