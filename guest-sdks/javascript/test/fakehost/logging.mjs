// A fake `weft:flow/logging`.
import { HOST } from "./state.mjs";

export function log(level, message) {
  HOST.logs.push([level, message]);
}
