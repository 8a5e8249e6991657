// Types of the weft JavaScript SDK (see index.js and the README).

/** Why a task call produced no result. */
export class WeftError extends Error {}
export class MissingContextError extends WeftError {}
export class ParameterError extends WeftError {}
export class SerializationError extends WeftError {}
export class SecretError extends WeftError {
  readonly secretName: string;
  readonly reason: string;
}
export class TaskRunError extends WeftError {
  /** The task's name. */
  readonly task: string;
  /** The host's full message (for a failure: the error and its stack). */
  readonly detail: string;
  /** "Failed", "Cancelled", "TimedOut" or "Crashed". */
  readonly stateName: string;
}
export class TaskFailed extends TaskRunError {}
export class TaskCancelled extends TaskRunError {}
export class TaskTimedOut extends TaskRunError {}
export class TaskCrashed extends TaskRunError {}

/** The final state of a task run. */
export class State<T = unknown> {
  readonly name: string;
  readonly type: "COMPLETED" | "FAILED" | "CRASHED" | "CANCELLED";
  readonly message: string;
  readonly data: T | null;
  readonly error: TaskRunError | null;
  isCompleted(): boolean;
  isFailed(): boolean;
  isCrashed(): boolean;
  isCancelled(): boolean;
}

/** A submitted task run. */
export class TaskFuture<T = unknown> {
  readonly taskName: string;
  readonly taskRunId: string;
  done(): boolean;
  wait(): Promise<void>;
  result(options?: { raiseOnFailure?: true }): Promise<T>;
  result(options: { raiseOnFailure: false }): Promise<T | TaskRunError>;
  state(): Promise<State<T>>;
}

/** The futures of `task.map(...)`. */
export class TaskFutureList<T = unknown> extends Array<TaskFuture<T>> {
  wait(): Promise<void>;
  result(options?: { raiseOnFailure?: boolean }): Promise<T[]>;
}

/** Waits for every future. */
export function wait<T>(futures: Iterable<TaskFuture<T>>): Promise<{ done: Set<TaskFuture<T>>; notDone: Set<TaskFuture<T>> }>;

type Delay = number | number[] | ((retries: number) => number[]);

export interface TaskOptions<A extends unknown[] = unknown[]> {
  name?: string;
  description?: string;
  tags?: string[];
  version?: string;
  retries?: number;
  retryDelaySeconds?: Delay;
  retryJitterFactor?: number;
  cacheKeyFn?: (context: { task: { name: string } }, args: A) => string | undefined | null;
  cacheKey?: string;
  cacheExpiration?: number;
  timeoutSeconds?: number;
  logPrints?: boolean;
}

type Unwrap<T> = T extends TaskFuture<infer U> ? U | TaskFuture<U> : T;
type Args<A extends unknown[]> = { [K in keyof A]: Unwrap<A[K]> | TaskFuture<A[K]> };

/** A task: calling it runs a task run. */
export interface Task<A extends unknown[], R> {
  (...args: Args<A>): Promise<Awaited<R>>;
  submit(...args: Args<A>): TaskFuture<Awaited<R>>;
  map(...args: unknown[]): TaskFutureList<Awaited<R>>;
  callWithState(...args: Args<A>): Promise<State<Awaited<R>>>;
  withOptions(changes: TaskOptions<A>): Task<A, R>;
  readonly fn: (...args: A) => R;
  readonly taskName: string;
}

export function task<A extends unknown[], R>(fn: (...args: A) => R, options?: TaskOptions<A>): Task<A, R>;
export function task<A extends unknown[], R>(options: TaskOptions<A>): (fn: (...args: A) => R) => Task<A, R>;

export interface FlowOptions {
  name?: string;
  description?: string;
  version?: string;
  /** A JSON Schema of the parameters, or a map of parameter name to schema. */
  parameters?: Record<string, unknown>;
  retries?: number;
  retryDelaySeconds?: number | number[];
  retryJitterFactor?: number;
  timeoutSeconds?: number;
  logPrints?: boolean;
}

/** A flow: the host runs it as a flow run; calling it from a flow runs it inline. */
export interface Flow<P, R> {
  (params?: P): Promise<Awaited<R>>;
  withOptions(changes: FlowOptions): Flow<P, R>;
  readonly fn: (params: P) => R;
  readonly flowName: string;
}

export function flow<P = Record<string, unknown>, R = unknown>(fn: (params: P) => R, options?: FlowOptions): Flow<P, R>;
export function flow<P = Record<string, unknown>, R = unknown>(options: FlowOptions): (fn: (params: P) => R) => Flow<P, R>;

export interface RunLogger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warning(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  critical(...args: unknown[]): void;
}

/** The logger of the current flow or task run. */
export function getRunLogger(): RunLogger;

/** A secret granted to the run. */
export class Secret {
  readonly name: string;
  static load(name: string): Secret;
  get(): string;
}

export function withTags<T>(tags: string[], body: () => T): Promise<Awaited<T>>;
export function exponentialBackoff(backoffFactor: number): (retries: number) => number[];
export function taskInputHash(context: { task: { name: string } }, args: unknown[]): string;
export function unmapped<T>(value: T): { value: T };

export namespace runtime {
  const flowRun: {
    readonly id: string;
    readonly name: string;
    readonly flowName: string;
    readonly parameters: Record<string, unknown>;
    readonly runCount: number;
  };
  const taskRun: {
    readonly id: string | null;
    readonly taskName: string | null;
    readonly runCount: number;
  };
  const deployment: { readonly name: string | null };
}
