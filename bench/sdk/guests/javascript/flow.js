// The SDK benchmark's trivial flows: `noop` returns its parameter,
// `one-task` calls one task.
import { flow, task } from "weft";

/** Returns a greeting. */
const greet = task(function greet(name) {
  return `hello ${name}`;
});

/** Returns its parameter. */
flow(function noop({ value = null }) {
  return value;
});

/** Calls one task. */
flow(async function oneTask() {
  return await greet("weft");
});
