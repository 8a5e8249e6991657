/**
 * Prefect-style options to the host's WIT records: retries and their
 * delays, cache expiry, timeouts. The WIT `u64` fields are BigInts.
 * @module
 */

/**
 * @param {any} seconds
 * @param {string} what
 * @returns {number} milliseconds
 */
function ms(seconds, what) {
  if (typeof seconds !== "number" || !(seconds >= 0)) {
    throw new RangeError(`${what} must be a non-negative number of seconds, not ${JSON.stringify(seconds)}`);
  }
  return Math.round(seconds * 1000);
}

/**
 * `retryDelaySeconds` (a number, an array of numbers, or a function of the
 * retry count returning an array, like `exponentialBackoff`) in ms.
 * @param {number} retries
 * @param {number | number[] | ((retries: number) => number[]) | undefined} delay
 * @returns {number[]}
 */
export function delaysMs(retries, delay) {
  if (delay === undefined || delay === null) return [];
  if (typeof delay === "function") delay = delay(retries);
  if (typeof delay === "number") return [ms(delay, "retryDelaySeconds")];
  if (!Array.isArray(delay)) throw new TypeError("retryDelaySeconds must be a number, an array or a function");
  return delay.map((d) => ms(d, "retryDelaySeconds"));
}

/**
 * @param {any} retries
 * @param {string} what
 * @returns {number}
 */
export function checkRetries(retries, what) {
  if (retries === undefined || retries === null) return 0;
  if (!Number.isInteger(retries) || retries < 0) {
    throw new RangeError(`${what}: retries must be a non-negative integer, not ${JSON.stringify(retries)}`);
  }
  return retries;
}

/**
 * @param {any} jitter
 * @returns {number}
 */
export function checkJitter(jitter) {
  if (jitter === undefined || jitter === null) return 0;
  if (typeof jitter !== "number" || !(jitter >= 0)) {
    throw new RangeError(`retryJitterFactor must be a non-negative number, not ${JSON.stringify(jitter)}`);
  }
  return jitter;
}

/**
 * `timeoutSeconds` in ms (at least 1), or undefined.
 * @param {any} seconds
 * @returns {number | undefined}
 */
export function timeoutMs(seconds) {
  if (seconds === undefined || seconds === null) return undefined;
  return Math.max(1, ms(seconds, "timeoutSeconds"));
}

/**
 * `cacheExpiration` in whole seconds, or undefined.
 * @param {any} seconds
 * @returns {number | undefined}
 */
export function expirationSecs(seconds) {
  if (seconds === undefined || seconds === null) return undefined;
  if (typeof seconds !== "number" || !(seconds >= 0)) {
    throw new RangeError(`cacheExpiration must be a non-negative number of seconds, not ${JSON.stringify(seconds)}`);
  }
  return Math.ceil(seconds);
}

/**
 * The WIT `retry-policy`, or undefined without retries.
 * @param {number} retries
 * @param {number[]} delays
 * @param {number} jitter
 * @returns {object | undefined}
 */
export function retryPolicy(retries, delays, jitter) {
  if (retries <= 0) return undefined;
  return { retries, delaysMs: delays.map((d) => BigInt(d)), backoffFactor: 1, jitterFactor: jitter };
}

/**
 * An optional number as an optional WIT u64.
 * @param {number | undefined} value
 * @returns {bigint | undefined}
 */
export function u64(value) {
  return value === undefined ? undefined : BigInt(value);
}
