// The first flow: a task returns a greeting and the flow prints it (with
// logPrints, printed lines are logs of the run).
import { flow, task } from "weft";

/** Returns the greeting. */
const getData = task(function getData() {
  return "Hello from weft!";
});

/** Gets the greeting from a task and prints it. */
export const myFirstFlow = flow(
  async function myFirstFlow() {
    const data = await getData();
    console.log(data);
  },
  { logPrints: true, description: "Gets the greeting from a task and prints it." },
);
