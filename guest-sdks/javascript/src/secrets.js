/**
 * Secrets granted to the run (Prefect's `Secret` block):
 * `Secret.load("NAME").get()`. A run can read only the secrets its
 * deployment (or `weft run --allow-secret NAME`) grants; the host redacts
 * their values from logs.
 * @module
 */

import { requireScope } from "./context.js";
import * as host from "./host.js";

/** A secret's value, read from the host. */
export class Secret {
  #value;

  /**
   * @param {string} name
   * @param {string} value
   */
  constructor(name, value) {
    /** The secret's name. */
    this.name = name;
    this.#value = value;
  }

  /**
   * Reads the secret `name`; throws SecretError if it does not exist or
   * was not granted to the run.
   * @param {string} name
   * @returns {Secret}
   */
  static load(name) {
    requireScope(`Secret.load('${name}')`);
    return new Secret(name, host.secret(name));
  }

  /** @returns {string} the secret's value */
  get() {
    return this.#value;
  }

  /** @returns {string} never the value */
  toString() {
    return `Secret(${this.name})`;
  }

  /** @returns {object} never the value */
  toJSON() {
    return { name: this.name, value: "********" };
  }
}
