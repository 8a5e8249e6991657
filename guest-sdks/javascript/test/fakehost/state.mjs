// The fake host's state: what the SDK sent, and what the host answers.
export const HOST = {
  logs: [],
  calls: [],
  cache: new Map(),
  secrets: new Map([["API_TOKEN", "tok-123"]]),
  flow: "flow",
  task: null,
  attempt: 1,
  nextId: 0,
  reset() {
    this.logs.length = 0;
    this.calls.length = 0;
    this.cache.clear();
  },
};
