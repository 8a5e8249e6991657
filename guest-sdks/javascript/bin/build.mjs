#!/usr/bin/env node
/**
 * Builds a JavaScript or TypeScript flow module into a weft flow component.
 *
 *   node bin/build.mjs --entry PROJECT/flow.ts --wit WIT_DIR --out OUT.wasm
 *
 * 1. Bundles the entry module with the SDK (the `weft` import) into one ES
 *    module with rolldown (TypeScript is stripped); the world's imports
 *    (`weft:flow/...`, `wasi:...`) stay external.
 * 2. Builds the component with componentize-js for the `weft:flow/flow`
 *    world. componentize-js pre-initializes it (Wizer): the module is
 *    evaluated at build time, so the flows are registered in the snapshot.
 *
 * `weft build DIR` runs this script; it is not meant to be run by hand.
 */

import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

import { componentize } from "@bytecodealliance/componentize-js";
import { rolldown } from "rolldown";

import { lineTable } from "./sourcemap.mjs";

const SDK = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** WASI features of the engine weft does not provide or need. */
const DISABLED_FEATURES = ["fetch-event"];

/**
 * The generated entry: imports the user's module (registering its flows
 * and tasks), then re-exports the SDK's implementation of the world.
 * @param {string} entry absolute path of the user's module
 * @returns {string}
 */
function entrySource(entry) {
  return [
    `import ${JSON.stringify(pathToFileURL(entry).pathname)};`,
    `export { describe, run, runTask } from "weft/component";`,
    "",
  ].join("\n");
}

/**
 * Bundles `entry` with the SDK into `outFile`.
 * @param {string} entry
 * @param {string} scratch
 * @returns {Promise<string>} the bundle's path
 */
async function bundle(entry, scratch) {
  const wrapper = join(scratch, "weft-entry.js");
  await writeFile(wrapper, entrySource(entry));
  const build = await rolldown({
    input: wrapper,
    cwd: dirname(entry),
    platform: "neutral",
    treeshake: false,
    external: [/^weft:/, /^wasi:/],
    resolve: {
      alias: {
        "weft/component": join(SDK, "src/component.js"),
        weft: join(SDK, "src/index.js"),
      },
    },
    logLevel: "warn",
  });
  const file = join(scratch, "bundle.js");
  const { output } = await build.write({ file, format: "esm", sourcemap: true });
  await build.close();
  const map = output[0].map;
  if (map) await appendFile(file, lineMapSource(map, dirname(file), dirname(entry)));
  return file;
}

/**
 * The statement appended to the bundle: its line table (see
 * sourcemap.mjs), with sources named relative to the project and the
 * SDK's own sources marked `null` (their frames are left out of stacks).
 * @param {{ sources: string[], mappings: string }} map
 * @param {string} bundleDir
 * @param {string} projectDir
 * @returns {string}
 */
function lineMapSource(map, bundleDir, projectDir) {
  const sources = map.sources.map((source) => {
    const absolute = resolve(bundleDir, source);
    if (absolute.startsWith(SDK + sep)) return null;
    if (absolute.startsWith(bundleDir + sep)) return null;
    return relative(projectDir, absolute) || absolute;
  });
  const lines = lineTable(map.mappings);
  return `\nglobalThis.__weftLines = ${JSON.stringify({ sources, lines })};\n`;
}

async function main() {
  const { values } = parseArgs({
    options: {
      entry: { type: "string" },
      wit: { type: "string" },
      out: { type: "string" },
    },
  });
  if (!values.entry || !values.wit || !values.out) {
    throw new Error("usage: build.mjs --entry FILE --wit DIR --out OUT.wasm");
  }
  const scratch = await mkdtemp(join(tmpdir(), "weft-build-js-"));
  try {
    const sourcePath = await bundle(resolve(values.entry), scratch);
    const { component } = await componentize({
      sourcePath,
      witPath: resolve(values.wit),
      worldName: "flow",
      disableFeatures: DISABLED_FEATURES,
    });
    await writeFile(values.out, component);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`error: ${error && error.stack ? error.stack : error}`);
  process.exit(1);
});
