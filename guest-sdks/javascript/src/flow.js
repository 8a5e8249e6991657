/**
 * `flow(fn, options)`: an entry point of the component. The host runs its
 * body through the `run` export, in a fresh instance, with the flow run's
 * parameters as one object.
 * @module
 */

import { currentScope, setScope } from "./context.js";
import { ParameterError } from "./errors.js";
import { dumps, loads } from "./json.js";
import { withLogPrints } from "./logger.js";
import * as opts from "./options.js";
import { addFlow } from "./registry.js";

const OPTION_NAMES = new Set([
  "name", "description", "version", "parameters", "retries", "retryDelaySeconds",
  "retryJitterFactor", "timeoutSeconds", "logPrints",
]);

/**
 * `myFirstFlow` or `my_first_flow` as `my-first-flow` (Prefect's default
 * flow name, kebab-case).
 * @param {string} name
 * @returns {string}
 */
export function kebab(name) {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/_/g, "-")
    .toLowerCase();
}

/**
 * The JSON Schema of the parameters: `parameters` is a full object schema
 * (`{ type: "object", properties, required }`) or a map of parameter name
 * to schema (required unless it has a `default`).
 * @param {any} parameters
 * @returns {{ schema: object, names: string[] }}
 */
function parameterSchema(parameters) {
  if (!parameters) return { schema: {}, names: [] };
  if (parameters.type === "object" && parameters.properties) {
    return { schema: parameters, names: Object.keys(parameters.properties) };
  }
  const names = Object.keys(parameters);
  const required = names.filter((n) => !(parameters[n] && "default" in parameters[n]));
  const schema = { type: "object", properties: parameters };
  if (required.length) schema.required = required;
  return { schema, names };
}

/** A flow's definition: its function and options. */
export class FlowDef {
  /**
   * @param {Function} fn
   * @param {object} options see `flow`
   */
  constructor(fn, options = {}) {
    if (typeof fn !== "function") throw new TypeError("flow(fn, options) needs a function");
    for (const key of Object.keys(options)) {
      if (!OPTION_NAMES.has(key)) throw new TypeError(`flow: unknown option '${key}'`);
    }
    this.fn = fn;
    this.options = { ...options };
    this.name = options.name || (fn.name ? kebab(fn.name) : "");
    if (!this.name) throw new TypeError("flow: an anonymous function needs { name: ... }");
    this.description = options.description ?? "";
    this.retries = opts.checkRetries(options.retries, `flow '${this.name}'`);
    this.delays = opts.delaysMs(this.retries, options.retryDelaySeconds);
    this.jitter = opts.checkJitter(options.retryJitterFactor);
    this.timeoutMs = opts.timeoutMs(options.timeoutSeconds);
    this.logPrints = Boolean(options.logPrints);
    const { schema, names } = parameterSchema(options.parameters);
    this.schema = schema;
    this.parameterNames = names;
    addFlow(this);
  }

  /** @returns {object} the WIT `flow-info` */
  info() {
    return {
      name: this.name,
      parameters: this.parameterNames,
      parameterSchema: dumps(this.schema, `the parameter schema of flow '${this.name}'`),
      description: this.description,
      options: {
        retries: opts.retryPolicy(this.retries, this.delays, this.jitter),
        timeoutMs: opts.u64(this.timeoutMs),
      },
    };
  }

  /**
   * Checks the parameters against the required ones.
   * @param {object} params
   */
  check(params) {
    const missing = (this.schema.required ?? []).filter((n) => !(n in params));
    if (missing.length) {
      throw new ParameterError(`invalid parameters for flow '${this.name}': missing ${missing.map((m) => `'${m}'`).join(", ")}`);
    }
  }

  /**
   * Runs the body with a flow run's JSON parameters (the `run` export).
   * @param {string} paramsJson
   * @returns {Promise<string>}
   */
  async runBody(paramsJson) {
    const params = loads(paramsJson, `the parameters of flow '${this.name}'`) ?? {};
    if (typeof params !== "object" || Array.isArray(params)) {
      throw new ParameterError(`the parameters of flow '${this.name}' must be a JSON object`);
    }
    this.check(params);
    setScope({ kind: "flow", name: this.name, logPrints: this.logPrints });
    try {
      const result = await withLogPrints(this.logPrints, () => this.fn(params));
      return dumps(result, `the result of flow '${this.name}'`);
    } finally {
      setScope(null);
    }
  }
}

/**
 * Makes `fn` a weft flow (Prefect's `@flow`). `fn` receives the flow run's
 * parameters as one object; the returned function runs the body inline when
 * called from another flow (a subflow) and has `flowName`, `fn` and
 * `withOptions`.
 *
 * Options: `name` (default: the function's name in kebab-case),
 * `description`, `version`, `parameters` (a JSON Schema of the parameters,
 * or a map of name to schema), `retries`, `retryDelaySeconds` (a number or
 * an array), `retryJitterFactor`, `timeoutSeconds`, `logPrints`.
 *
 * @param {Function | object} fn the function (or the options, for `flow(options)(fn)`)
 * @param {object} [options]
 * @returns {any}
 */
export function flow(fn, options = {}) {
  if (typeof fn !== "function") {
    const given = fn ?? {};
    return (f) => flow(f, given);
  }
  const def = new FlowDef(fn, options);
  const call = async (params = {}) => {
    const scope = currentScope();
    return await withLogPrints(def.logPrints || Boolean(scope && scope.logPrints), () => fn(params));
  };
  Object.defineProperty(call, "name", { value: fn.name });
  call.withOptions = (changes) => flow(fn, { ...def.options, ...changes });
  call.fn = fn;
  call.flowName = def.name;
  call.definition = def;
  return call;
}
