// Work pools: status, concurrency, runs waiting and running, pause/resume.

import { h, replace, errorBox, table, stateBadge } from '../dom.js';
import { api, all, pool } from '../api.js';

/** Each pool with its counts of scheduled and running runs. */
export async function poolsWithCounts() {
  const pools = await all('/work_pools/filter', {}, { page: 200, max: 1000 });
  return pool(pools, 4, async (p) => {
    const count = (types) => api('/flow_runs/count', { work_pools: { name: { any_: [p.name] } }, flow_runs: { state: { type: { any_: types } } } });
    const [waiting, running] = await Promise.all([count(['SCHEDULED', 'PENDING']), count(['RUNNING', 'CANCELLING'])]);
    return { ...p, waiting, running };
  });
}

/** The columns of a pool table. */
export const POOL_COLUMNS = [
  { label: 'Name', cell: p => h('a', { href: `/runs?pool=${encodeURIComponent(p.name)}` }, p.name) },
  { label: 'Status', cell: p => stateBadge(p.status === 'READY' ? 'COMPLETED' : p.status === 'PAUSED' ? 'PAUSED' : 'FAILED', p.status) },
  { label: 'Concurrency', cell: p => (p.concurrency_limit === null || p.concurrency_limit === undefined ? 'unlimited' : String(p.concurrency_limit)) },
  { label: 'Waiting', cell: p => String(p.waiting) },
  { label: 'Running', cell: p => String(p.running) },
];

export async function render(root) {
  const body = h('div');
  replace(root, h('h1', {}, 'Work pools'),
    h('p', { class: 'muted' }, 'A pool is READY while a worker has heartbeated recently.'), body);
  async function load() {
    try {
      const pools = await poolsWithCounts();
      replace(body, table([...POOL_COLUMNS.map(c => c.label === 'Name' ? { label: 'Name', cell: p => p.name } : c), { label: '', cell: p =>
        h('button', { type: 'button', class: 'secondary small', onclick: async (e) => {
          e.target.disabled = true;
          try { await api(`/work_pools/${encodeURIComponent(p.name)}`, { is_paused: !p.is_paused }, { method: 'PATCH' }); await load(); }
          catch (err) { e.target.after(errorBox(err)); e.target.disabled = false; }
        } }, p.is_paused ? 'Resume' : 'Pause') }], pools));
    } catch (e) { replace(body, errorBox(e)); }
  }
  await load();
  return { title: 'Work pools', debounceMs: 3000, relevant: (ev) => String(ev.event || '').startsWith('prefect.flow-run.'), refresh: load };
}
