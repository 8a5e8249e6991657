/**
 * The component's exports (`describe`, `run`, `run-task`). componentize-js
 * turns a thrown string into the export's error result and anything else
 * into a trap (which the host would report as a crash), so every export
 * converts what user code throws, with its stack, into a string.
 * @module
 */

import { describeError } from "./errors.js";
import * as host from "./host.js";
import { allFlows, allTasks, findFlow, findTask } from "./registry.js";

/** The SDK's name and version, as `describe` reports it. */
export const SDK = "weft-sdk-js 0.1.0";

/**
 * The `describe` export: the component's flows and tasks.
 * @returns {object} the WIT `component-info`
 */
export function describe() {
  return {
    sdk: SDK,
    flows: allFlows().map((f) => f.info()),
    tasks: allTasks().map((t) => ({ name: t.name, description: t.description })),
  };
}

/**
 * The `run` export: runs the flow `flowName` with the JSON object `params`.
 * @param {string} flowName
 * @param {string} params
 * @returns {Promise<string>} the result as JSON; rejects with a string
 */
export async function run(flowName, params) {
  const found = findFlow(flowName);
  if (!found) {
    const names = allFlows().map((f) => f.name).join(", ") || "none";
    throw `no flow named '${flowName}' in this component (flows: ${names})`;
  }
  try {
    return await found.runBody(params);
  } catch (error) {
    throw describeError(error);
  }
}

/**
 * The `run-task` export: runs the task `taskName` with the JSON `input`.
 * @param {string} taskName
 * @param {string} input
 * @returns {Promise<string>} the result as JSON; rejects with a string
 */
export async function runTask(taskName, input) {
  const found = findTask(taskName);
  if (!found) throw `no task named '${taskName}' in this component`;
  try {
    const parent = findFlow(host.ctx.flowName());
    return await found.runBody(input, Boolean(parent && parent.logPrints));
  } catch (error) {
    throw describeError(error);
  }
}
