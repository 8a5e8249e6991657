// A fake `weft:flow/failure`.
export function panicked() {}
