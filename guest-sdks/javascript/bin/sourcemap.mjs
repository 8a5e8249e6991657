/**
 * Line maps for stack traces: which source file and line each line of the
 * bundle came from, from rolldown's source map. The build appends the
 * result to the bundle as `globalThis.__weftLines`, and the SDK rewrites
 * stack frames of the bundle into frames of the user's own files (and
 * drops the SDK's frames) when it reports an error.
 * @module
 */

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGIT = new Map([...BASE64].map((c, i) => [c, i]));

/**
 * Decodes one segment of Base64 VLQ numbers.
 * @param {string} segment
 * @returns {number[]}
 */
export function decodeVlq(segment) {
  const values = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = DIGIT.get(char);
    if (digit === undefined) throw new Error(`bad source map character '${char}'`);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

/**
 * For every generated line (1-based index - 1), `[sourceIndex, sourceLine]`
 * (1-based line) of its first mapped segment, or `null`.
 * @param {string} mappings the source map's `mappings`
 * @returns {Array<[number, number] | null>}
 */
export function lineTable(mappings) {
  const table = [];
  let source = 0;
  let line = 0;
  for (const generated of mappings.split(";")) {
    let first = null;
    for (const segment of generated.split(",")) {
      if (!segment) continue;
      const fields = decodeVlq(segment);
      if (fields.length < 4) continue;
      source += fields[1];
      line += fields[2];
      if (first === null) first = [source, line + 1];
    }
    table.push(first);
  }
  return table;
}
