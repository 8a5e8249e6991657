// Live updates: one EventSource on /api/events/stream for the whole app.
// Pages subscribe with `onEvent`; the browser reconnects by itself.

const listeners = new Set();
let source = null;

/** Opens the stream (once) and reports its status in `statusEl`. */
export function connect(statusEl) {
  if (source || typeof EventSource === 'undefined') return;
  source = new EventSource('/api/events/stream');
  const set = (text, cls) => { statusEl.textContent = text; statusEl.className = `live ${cls}`; };
  source.onopen = () => set('live', 'on');
  source.onerror = () => set('reconnecting…', 'off');
  const dispatch = (ev) => {
    for (const fn of listeners) {
      try { fn(ev); } catch (e) { console.error(e); }
    }
  };
  source.onmessage = (msg) => {
    let ev;
    try { ev = JSON.parse(msg.data); } catch { return; }
    dispatch(ev);
  };
  // The server skipped events this page was too slow for: refresh anyway.
  source.addEventListener('lagged', () => dispatch({ lagged: true }));
}

/** Calls `fn(event)` for every event until the returned function is called. */
export function onEvent(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The resource id of an event (`prefect.flow-run.<id>`). */
export function resourceId(ev) {
  return (ev && ev.resource && ev.resource['prefect.resource.id']) || '';
}

/** The ids of an event's resource and related resources. */
export function resourceIds(ev) {
  const ids = [resourceId(ev)];
  for (const r of (ev && ev.related) || []) ids.push(r['prefect.resource.id'] || '');
  return ids;
}

/** A function that runs `fn` at most once per `ms`, trailing. */
export function debounce(fn, ms) {
  let timer = null, pending = false, running = false;
  const fire = async () => {
    timer = null;
    if (running) { pending = true; return; }
    running = true;
    try { await fn(); } finally {
      running = false;
      if (pending) { pending = false; timer = setTimeout(fire, ms); }
    }
  };
  const call = () => { if (!timer) timer = setTimeout(fire, ms); };
  call.cancel = () => { if (timer) clearTimeout(timer); timer = null; };
  return call;
}
