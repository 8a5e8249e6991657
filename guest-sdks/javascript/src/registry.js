/**
 * The flows and tasks of the component, registered by `flow(...)` and
 * `task(...)` when the module is evaluated (at build time: componentize-js
 * pre-initializes the component with the module already evaluated).
 * @module
 */

/** @type {Map<string, any>} */
const flows = new Map();
/** @type {Map<string, any>} */
const tasks = new Map();

/**
 * @param {Map<string, any>} map
 * @param {string} kind
 * @param {any} def
 */
function add(map, kind, def) {
  const existing = map.get(def.name);
  if (existing && existing.fn !== def.fn) {
    throw new Error(`two ${kind}s are named '${def.name}': give one another name with { name: ... }`);
  }
  if (!existing) map.set(def.name, def);
}

/** @param {any} def a flow definition */
export function addFlow(def) {
  add(flows, "flow", def);
}

/** @param {any} def a task definition */
export function addTask(def) {
  add(tasks, "task", def);
}

const sorted = (map) => [...map.keys()].sort().map((name) => map.get(name));
const same = (a, b) => a.replace(/_/g, "-") === b.replace(/_/g, "-");

/** @returns {any[]} the flows, by name */
export function allFlows() {
  return sorted(flows);
}

/** @returns {any[]} the tasks, by name */
export function allTasks() {
  return sorted(tasks);
}

/**
 * The flow called `name` (or whose function is, or matching with `_` for `-`).
 * @param {string} name
 * @returns {any}
 */
export function findFlow(name) {
  if (flows.has(name)) return flows.get(name);
  const all = [...flows.values()];
  return all.find((f) => f.fn.name === name) ?? all.find((f) => same(f.name, name)) ?? null;
}

/**
 * The task called `name` (or whose function is).
 * @param {string} name
 * @returns {any}
 */
export function findTask(name) {
  if (tasks.has(name)) return tasks.get(name);
  return [...tasks.values()].find((t) => t.fn.name === name) ?? null;
}
