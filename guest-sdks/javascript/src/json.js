/**
 * Values crossing the host boundary: parameters, task inputs and results
 * travel as JSON text.
 * @module
 */

import { SerializationError } from "./errors.js";

/**
 * JSON for values `JSON.stringify` does not handle: BigInt (a number when
 * safe, else a string), Map (an object), Set (an array).
 * @param {string} _key
 * @param {any} value
 * @returns {any}
 */
function replacer(_key, value) {
  if (typeof value === "bigint") {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  }
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new SerializationError(`${value} is not a JSON number`);
  }
  return value;
}

/**
 * Encodes `value` as JSON (`undefined` as `null`); `what` names it in errors.
 * @param {any} value
 * @param {string} what
 * @returns {string}
 */
export function dumps(value, what) {
  try {
    const text = JSON.stringify(value === undefined ? null : value, replacer);
    return text === undefined ? "null" : text;
  } catch (error) {
    throw new SerializationError(`cannot encode ${what} as JSON: ${error && error.message ? error.message : error}`);
  }
}

/**
 * Decodes JSON text; empty text is `null`.
 * @param {string} text
 * @param {string} what
 * @returns {any}
 */
export function loads(text, what) {
  if (!text || !text.trim()) return null;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SerializationError(`${what} is not valid JSON: ${error.message}`);
  }
}
