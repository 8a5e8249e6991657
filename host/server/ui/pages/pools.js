// Work pools: the list (status, concurrency, workers online, runs waiting
// and running, pause/resume) and one pool's page (/work-pools/<name>: its
// settings, concurrency limit to edit, workers and their heartbeats, runs).

import { h, replace, errorBox, table, stateBadge, fmtTime, fmtAgo, keepFocus, actionButton } from '../dom.js';
import { api, all, pool } from '../api.js';
import { pagedRuns } from './runs.js';
import { limitEditor, limitText } from './limit.js';

const WORKERS_POLL_MS = 5000;

/**
 * The workers of a pool (Prefect's WorkerResponse list), or `null` when the
 * server has none to tell (404: no such route yet, or no worker record).
 */
export async function poolWorkers(name) {
  try {
    return await api(`/work_pools/${encodeURIComponent(name)}/workers/filter`, { limit: 200 });
  } catch (e) {
    if (/: 404\b/.test(String(e.message))) return null;
    throw e;
  }
}

/** Each pool with its counts of scheduled and running runs and of workers online. */
export async function poolsWithCounts() {
  const pools = await all('/work_pools/filter', {}, { page: 200, max: 1000 });
  return pool(pools, 4, async (p) => {
    const count = (types) => api('/flow_runs/count', { work_pools: { name: { any_: [p.name] } }, flow_runs: { state: { type: { any_: types } } } });
    const [waiting, running, workers] = await Promise.all([count(['SCHEDULED', 'PENDING']), count(['RUNNING', 'CANCELLING']),
      poolWorkers(p.name).catch(() => undefined)]);
    const online = Array.isArray(workers) ? workers.filter(w => w.status === 'ONLINE').length : workers === null ? 0 : null;
    return { ...p, waiting, running, online };
  });
}

function statusBadge(p) {
  return stateBadge(p.status === 'READY' ? 'COMPLETED' : p.status === 'PAUSED' ? 'PAUSED' : 'FAILED', p.status);
}


/** The columns of a pool table. */
export const POOL_COLUMNS = [
  { label: 'Name', cell: p => h('a', { href: `/work-pools/${encodeURIComponent(p.name)}` }, p.name) },
  { label: 'Status', cell: statusBadge },
  { label: 'Workers', cell: p => (p.online === null || p.online === undefined ? '—' : `${p.online} online`) },
  { label: 'Concurrency', cell: p => limitText(p.concurrency_limit) },
  { label: 'Waiting', cell: p => h('a', { href: `/runs?pool=${encodeURIComponent(p.name)}&state=SCHEDULED` }, String(p.waiting)) },
  { label: 'Running', cell: p => h('a', { href: `/runs?pool=${encodeURIComponent(p.name)}&state=RUNNING` }, String(p.running)) },
];

export async function render(root) {
  const body = h('div');
  replace(root, h('h1', {}, 'Work pools'),
    h('p', { class: 'muted' }, 'A pool is READY while a worker has heartbeated recently.'), body);
  async function load() {
    try {
      const pools = await poolsWithCounts();
      replace(body, table([...POOL_COLUMNS, { label: 'Actions', cell: p => actionButton(p.is_paused ? 'Resume' : 'Pause', async () => {
        await api(`/work_pools/${encodeURIComponent(p.name)}`, { is_paused: !p.is_paused }, { method: 'PATCH' });
        await keepFocus(body, load);
      }, { 'data-focus': `pause-${p.name}`, 'aria-label': `${p.is_paused ? 'Resume' : 'Pause'} ${p.name}` }) }], pools));
    } catch (e) { replace(body, errorBox(e)); }
  }
  await load();
  return { title: 'Work pools', debounceMs: 3000, relevant: (ev) => String(ev.event || '').startsWith('prefect.flow-run.'), refresh: () => keepFocus(body, load) };
}

/** The workers table (or the reason there is none). */
function workersView(workers) {
  if (!workers || !workers.length) return h('p', { class: 'muted' }, 'No workers have heartbeated.');
  const now = Date.now();
  return table([
    { label: 'Name', cell: w => w.name },
    { label: 'Status', cell: w => stateBadge(w.status === 'ONLINE' ? 'COMPLETED' : 'CANCELLED', w.status || '?') },
    { label: 'Last heartbeat', cell: w => h('time', { datetime: w.last_heartbeat_time || '', title: fmtTime(w.last_heartbeat_time) }, fmtAgo(w.last_heartbeat_time, now)) },
    { label: 'Heartbeat interval', cell: w => (w.heartbeat_interval_seconds ? `${w.heartbeat_interval_seconds} s` : '—') },
  ], workers, `${workers.filter(w => w.status === 'ONLINE').length} of ${workers.length} online`);
}

/** One work pool: /work-pools/<name>. */
export async function renderDetail(root, { params }) {
  const name = params[0];
  const path = `/work_pools/${encodeURIComponent(name)}`;
  const message = h('p', { role: 'status', 'aria-live': 'polite', class: 'muted' });
  const head = h('div'), actions = h('div', { class: 'actions' }), info = h('div');
  const workersBox = h('div', {}, 'Loading…');
  const limit = limitEditor('pool-limit', 'Concurrency limit (runs at once; empty: unlimited)', async (n) => {
    await api(path, { concurrency_limit: n }, { method: 'PATCH' });
    await load();
    return p.concurrency_limit;
  });
  const runsBox = pagedRuns({ work_pools: { name: { any_: [name] } } }, { label: 'Runs in this pool' });
  let p = null, counts = { waiting: 0, running: 0 }, timer = null, disposed = false;

  replace(root, message, head, actions, info,
    h('section', { 'aria-labelledby': 'h-limit' }, h('h2', { id: 'h-limit' }, 'Concurrency'), limit.el),
    h('section', { 'aria-labelledby': 'h-workers' }, h('h2', { id: 'h-workers' }, 'Workers'), workersBox),
    h('section', { 'aria-labelledby': 'h-pool-runs' }, h('h2', { id: 'h-pool-runs' }, 'Runs'), runsBox.el));

  function draw() {
    replace(head, h('h1', {}, p.name, ' ', statusBadge(p)));
    replace(actions, actionButton(p.is_paused ? 'Resume' : 'Pause', async () => {
      await api(path, { is_paused: !p.is_paused }, { method: 'PATCH' });
      message.textContent = p.is_paused ? 'Pool resumed.' : 'Pool paused: workers claim none of its runs.';
      await keepFocus(actions, load);
    }, { class: 'secondary', 'data-focus': 'pause' }),
    h('a', { class: 'button secondary', href: `/runs?pool=${encodeURIComponent(p.name)}` }, 'All runs'));
    replace(info, h('dl', {},
      h('dt', {}, 'Status'), h('dd', {}, p.status || '—'),
      h('dt', {}, 'Type'), h('dd', {}, p.type || p.pool_type || '—'),
      h('dt', {}, 'Paused'), h('dd', {}, p.is_paused ? 'yes' : 'no'),
      h('dt', {}, 'Concurrency limit'), h('dd', {}, limitText(p.concurrency_limit)),
      h('dt', {}, 'Waiting'), h('dd', {}, String(counts.waiting)),
      h('dt', {}, 'Running'), h('dd', {}, String(counts.running)),
      h('dt', {}, 'Description'), h('dd', {}, p.description || '—'),
      h('dt', {}, 'Updated'), h('dd', {}, fmtTime(p.updated))));
  }

  async function load() {
    const count = (types) => api('/flow_runs/count', { work_pools: { name: { any_: [name] } }, flow_runs: { state: { type: { any_: types } } } });
    const [pool, waiting, running] = await Promise.all([api(path), count(['SCHEDULED', 'PENDING']), count(['RUNNING', 'CANCELLING'])]);
    const first = !p;
    p = pool; counts = { waiting, running };
    if (first) limit.set(p.concurrency_limit);
    draw();
  }

  async function loadWorkers() {
    try { replace(workersBox, workersView(await poolWorkers(name))); } catch (e) { replace(workersBox, errorBox(e)); }
  }

  function poll() {
    clearTimeout(timer);
    if (disposed) return;
    timer = setTimeout(async () => { await loadWorkers(); poll(); }, WORKERS_POLL_MS);
  }

  try { await load(); } catch (e) { replace(head, h('h1', {}, name), errorBox(e)); return { title: name }; }
  await Promise.all([loadWorkers(), runsBox.load()]);
  poll();
  return {
    title: p.name,
    debounceMs: 2000,
    relevant: (ev) => String(ev.event || '').startsWith('prefect.flow-run.') || String(ev.event || '').startsWith('prefect.work-pool.'),
    refresh: async () => { try { await keepFocus(root, load); } catch { /* next event */ } await keepFocus(root, runsBox.load); },
    dispose() { disposed = true; clearTimeout(timer); },
  };
}
