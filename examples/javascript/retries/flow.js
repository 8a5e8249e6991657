// Retries: a flaky task fails on its first two attempts and succeeds on the
// third; the host retries it after 0.1 s and then 0.2 s.
import { flow, getRunLogger, runtime, task } from "weft";

/** Fails on attempts 1 and 2, succeeds on attempt 3. */
const flakyFetch = task(
  function flakyFetch() {
    const logger = getRunLogger();
    const attempt = runtime.taskRun.runCount;
    if (attempt < 3) {
      logger.warning(`attempt ${attempt} failed`);
      throw new Error(`attempt ${attempt}: the service is unavailable`);
    }
    logger.info(`attempt ${attempt} succeeded`);
    return `fetched on attempt ${attempt}`;
  },
  { retries: 2, retryDelaySeconds: [0.1, 0.2] },
);

/** Calls the flaky task (which needs three attempts) and returns its value. */
export const retryFlow = flow(async function retryFlow() {
  return await flakyFetch();
});
