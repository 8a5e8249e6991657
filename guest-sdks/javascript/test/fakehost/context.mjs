// A fake `weft:flow/context`.
import { HOST } from "./state.mjs";

export const flowRunId = () => "11111111-1111-1111-1111-111111111111";
export const flowRunName = () => "crimson-fox";
export const flowName = () => HOST.flow;
export const taskRunId = () => (HOST.task ? HOST.task[0] : undefined);
export const taskName = () => (HOST.task ? HOST.task[1] : undefined);
export const attempt = () => HOST.attempt;
export const deploymentName = () => undefined;
export const parameters = () => '{"n": 3}';
