// A fake `weft:flow/secrets`.
import { HOST } from "./state.mjs";

export function get(name) {
  if (!HOST.secrets.has(name)) {
    const e = new Error("component error");
    e.payload = `the secret '${name}' is not granted to this run`;
    throw e;
  }
  return HOST.secrets.get(name);
}
