// The REST API, as the CLI uses it.

/** Calls the API: `api('/flow_runs/filter', {limit: 10})` POSTs JSON; no body GETs. */
export async function api(path, body, opts = {}) {
  const method = opts.method || (body === undefined ? 'GET' : 'POST');
  const init = { method, headers: { Accept: 'application/json' } };
  if (opts.raw !== undefined) {
    init.body = opts.raw;
    init.headers['Content-Type'] = opts.contentType || 'application/octet-stream';
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const resp = await fetch(`/api${path}`, init);
  const text = await resp.text();
  let value = null;
  if (text) {
    try { value = JSON.parse(text); } catch { value = text; }
  }
  if (!resp.ok) {
    const detail = value && typeof value === 'object' && 'detail' in value
      ? (typeof value.detail === 'string' ? value.detail : JSON.stringify(value.detail))
      : text;
    throw new Error(`${method} /api${path}: ${resp.status} ${detail || resp.statusText}`);
  }
  return value;
}

/** Every page of a filter route (`limit`/`offset`, from `body.offset`), up to `max` items. */
export async function all(path, body = {}, { page = 200, max = 10000 } = {}) {
  const out = [];
  const start = body.offset || 0;
  for (let n = 0; n < max; n += page) {
    const items = await api(path, { ...body, limit: Math.min(page, max - n), offset: start + n });
    out.push(...items);
    if (items.length < page) break;
  }
  return out;
}

/** Runs `fn` over `items`, at most `n` at once; results in order. */
export async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }));
  return out;
}
