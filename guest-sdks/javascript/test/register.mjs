// Maps the world's imports (`weft:flow/...`) to the fake host and `weft` to
// the SDK, for the SDK's unit tests on Node: node --import ./test/register.mjs
import { register } from "node:module";

register("./loader.mjs", import.meta.url);
