// Module resolution hook for the unit tests (see register.mjs).
const FAKE = new URL("./fakehost/", import.meta.url);
const SDK = new URL("../src/index.js", import.meta.url);

export async function resolve(specifier, context, next) {
  const wit = /^weft:flow\/([a-z]+)@0\.1\.0$/.exec(specifier);
  if (wit) return { url: new URL(`${wit[1]}.mjs`, FAKE).href, shortCircuit: true };
  if (specifier === "weft") return { url: SDK.href, shortCircuit: true };
  return next(specifier, context);
}
