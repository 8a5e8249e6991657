// Flows for the host's end-to-end tests of the JavaScript SDK: failures,
// sandbox limits, secrets, timeouts and flow retries. Not an example.
import { Secret, flow, getRunLogger, task } from "weft";

const explode = task(function explode(message) {
  throw new RangeError(message);
});

/** Calls a task that throws: the task run fails with the stack. */
flow(async function taskRaises({ message = "bad row 7" }) {
  await explode(message);
});

/** Throws in the flow body. */
flow(async function flowRaises() {
  throw new Error("the flow body gave up");
});

/** A task that throws a plain string. */
const throwsString = task(function throwsString() {
  throw "just a string";
});

flow(async function taskThrowsString() {
  await throwsString();
});

/** Never returns. */
flow(function infiniteLoop() {
  let n = 0;
  for (;;) n++;
});

function grow() {
  const chunks = [];
  for (;;) {
    const chunk = new Uint8Array(8 << 20);
    chunk[0] = 1;
    chunks.push(chunk);
  }
}

/** Allocates 8 MiB chunks until the instance's memory limit stops it. */
flow(function memoryBomb() {
  return grow();
});

const hog = task(function hog() {
  return grow();
});

/** A task hits the memory limit; the flow reports how it ended. */
flow(async function taskMemoryBomb() {
  const state = await hog.callWithState();
  return `${state.name}: ${state.message}`;
});

const slow = task(
  async function slow() {
    await new Promise((resolve) => setTimeout(resolve, 30000));
    return "woke up";
  },
  { timeoutSeconds: 0.3 },
);

/** A task exceeds its timeoutSeconds. */
flow(async function taskTimeout() {
  return await slow();
});

/** Fails on every attempt (three in all). */
flow(
  async function alwaysFails() {
    throw new Error("no luck");
  },
  { retries: 2 },
);

/** Logs a secret's value: the host must redact it. */
flow(
  async function logSecret({ name }) {
    getRunLogger().info(`the secret is ${Secret.load(name).get()}`);
    console.log(`printed: ${Secret.load(name).get()}`);
    return "done";
  },
  { parameters: { name: { type: "string" } } },
);

/** Reads API_TOKEN and logs its length. */
flow(async function useSecret() {
  const token = Secret.load("API_TOKEN").get();
  getRunLogger().info(`got API_TOKEN (${token.length} chars)`);
  return true;
});

/** Returns its parameter. */
flow(async function echo({ value = null }) {
  return value;
}, { parameters: { value: { default: null } } });

/** GETs `url` with fetch (through the host's wasi:http) and returns "status:body". */
flow(
  async function fetchText({ url }) {
    const response = await fetch(url);
    return `${response.status}:${await response.text()}`;
  },
  { parameters: { url: { type: "string" } } },
);
