/**
 * weft: write weft flows and tasks in JavaScript or TypeScript.
 *
 * ```js
 * import { flow, task, getRunLogger } from "weft";
 *
 * const getData = task(function getData() {
 *   return "Hello from weft!";
 * });
 *
 * export const myFirstFlow = flow(async function myFirstFlow() {
 *   getRunLogger().info(await getData());
 * });
 * ```
 *
 * `weft build DIR` bundles the module with this SDK and builds a
 * WebAssembly component with componentize-js; `weft run DIR` runs it.
 * Calling a task in a flow runs it as a task run on the host; `submit`
 * starts it concurrently and returns a `TaskFuture`.
 * @module
 */

export {
  MissingContextError,
  ParameterError,
  SecretError,
  SerializationError,
  TaskCancelled,
  TaskCrashed,
  TaskFailed,
  TaskRunError,
  TaskTimedOut,
  WeftError,
} from "./errors.js";
export { flow } from "./flow.js";
export { State, TaskFuture, TaskFutureList, wait } from "./future.js";
export { getRunLogger } from "./logger.js";
export * as runtime from "./runtime.js";
export { Secret } from "./secrets.js";
export { exponentialBackoff, task, taskInputHash, unmapped, withTags } from "./task.js";
