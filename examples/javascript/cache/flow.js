// Caching: the task's result is cached for an hour under a key derived from
// its inputs; a second run of the flow is a cache hit and does not run the
// task again.
import { flow, getRunLogger, task, taskInputHash } from "weft";

/** An expensive computation: the sum of the squares below `n`. */
const expensive = task(
  function expensive(n) {
    getRunLogger().info("computing (not cached)");
    let sum = 0;
    for (let i = 0; i < n; i++) sum += i * i;
    return sum;
  },
  { cacheKeyFn: taskInputHash, cacheExpiration: 3600 },
);

/** Calls the cached task with a fixed input and returns its result. */
export const cachedFlow = flow(async function cachedFlow() {
  return await expensive(1000);
});
