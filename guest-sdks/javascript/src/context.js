/**
 * Which run the instance executes, as the SDK's exports set it. The host
 * starts every flow body and task attempt in a fresh instance, so this is
 * set once per instance, and is `null` while the component is built or
 * described.
 * @module
 */

import { MissingContextError } from "./errors.js";

/** @typedef {{ kind: "flow" | "task", name: string, logPrints: boolean }} RunScope */

/** @type {RunScope | null} */
let current = null;

/** @returns {RunScope | null} the active run scope */
export function currentScope() {
  return current;
}

/** @param {RunScope | null} scope the scope to make active */
export function setScope(scope) {
  current = scope;
}

/**
 * The active scope; throws MissingContextError outside a run.
 * @param {string} what
 * @returns {RunScope}
 */
export function requireScope(what) {
  if (current === null) {
    throw new MissingContextError(`${what} needs an active flow or task run (it was used outside of one, e.g. at module load)`);
  }
  return current;
}
