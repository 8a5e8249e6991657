/**
 * The run logger (Prefect's `get_run_logger`) and `logPrints`. Records go
 * to the host's `logging` interface: stored with the run, streamed live,
 * secrets redacted. What a flow writes with `console` goes to stdout or
 * stderr, which the host captures too.
 * @module
 */

import { requireScope } from "./context.js";
import { describeError } from "./errors.js";
import * as host from "./host.js";

/**
 * Formats log arguments the way `console.log` does: strings as they are,
 * errors with their stack, other values as JSON.
 * @param {any[]} args
 * @returns {string}
 */
export function format(args) {
  return args
    .map((arg) => {
      if (typeof arg === "string") return arg;
      if (arg instanceof Error) return describeError(arg);
      if (arg === undefined) return "undefined";
      if (typeof arg === "bigint") return arg.toString();
      try {
        return typeof arg === "object" ? JSON.stringify(arg) : String(arg);
      } catch {
        return String(arg);
      }
    })
    .join(" ");
}

/**
 * @typedef {object} RunLogger
 * @property {(...args: any[]) => void} debug
 * @property {(...args: any[]) => void} info
 * @property {(...args: any[]) => void} warning
 * @property {(...args: any[]) => void} warn same as warning
 * @property {(...args: any[]) => void} error
 * @property {(...args: any[]) => void} critical
 */

/** @type {RunLogger} */
const RUN_LOGGER = Object.freeze({
  debug: (...args) => host.log("debug", format(args)),
  info: (...args) => host.log("info", format(args)),
  warning: (...args) => host.log("warning", format(args)),
  warn: (...args) => host.log("warning", format(args)),
  error: (...args) => host.log("error", format(args)),
  critical: (...args) => host.log("critical", format(args)),
});

/**
 * The logger of the current flow or task run. Throws MissingContextError
 * outside a run.
 * @returns {RunLogger}
 */
export function getRunLogger() {
  requireScope("getRunLogger()");
  return RUN_LOGGER;
}

const CONSOLE_LEVELS = { log: "info", info: "info", debug: "debug", warn: "warning", error: "error" };

/**
 * Runs `body` with `console.log/info/debug/warn/error` sent to the run
 * logger when `enabled` (Prefect's `log_prints`); restores them after.
 * @template T
 * @param {boolean} enabled
 * @param {() => T} body
 * @returns {Promise<Awaited<T>>}
 */
export async function withLogPrints(enabled, body) {
  if (!enabled) return await body();
  const saved = {};
  for (const [method, level] of Object.entries(CONSOLE_LEVELS)) {
    saved[method] = console[method];
    console[method] = (...args) => host.log(level, format(args));
  }
  try {
    return await body();
  } finally {
    Object.assign(console, saved);
  }
}
