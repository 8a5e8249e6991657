// Flow runs: filtered and paged on the server (/api/flow_runs/filter and /count).

import { h, replace, table, link, stateBadge, fmtTime, fmtDuration, errorBox, keepFocus, fromLocalInput, STATE_TYPES } from '../dom.js';
import { api } from '../api.js';

const PAGE = 50;
const WINDOWS = { '': 'any time', '1h': 'last hour', '24h': 'last 24 hours', '7d': 'last 7 days', '30d': 'last 30 days' };
const WINDOW_MS = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 };

/** The filter body for the URL's query (`state`, `flow`, `deployment`, `pool`, `tag`, `since`, `from`, `to`). */
export function filterBody(q) {
  const runs = {};
  const state = q.get('state');
  if (state === 'Late') runs.state = { name: { any_: ['Late'] } };
  else if (state) runs.state = { type: { any_: state.split(',') } };
  const tag = q.get('tag');
  if (tag) runs.tags = { all_: tag.split(',').map(t => t.trim()).filter(Boolean) };
  // Time: a window back from now (`since`) and/or a custom range (`from`,
  // `to`: datetime-local values, local time). Both are on the expected start
  // time, which is set for every run (a scheduled run has no start time yet;
  // one that started has both, and its start is what the list sorts by).
  const time = {};
  const since = q.get('since');
  if (WINDOW_MS[since]) time.after_ = new Date(Date.now() - WINDOW_MS[since]).toISOString();
  const from = fromLocalInput(q.get('from')), to = fromLocalInput(q.get('to'));
  if (from && (!time.after_ || from > time.after_)) time.after_ = from;
  // `to` is a minute: include the whole of it.
  if (to) time.before_ = new Date(new Date(to).getTime() + 59999).toISOString();
  if (time.after_ || time.before_) runs.expected_start_time = time;
  const body = { flow_runs: runs };
  if (q.get('flow')) body.flows = { name: { like_: q.get('flow') } };
  if (q.get('pool')) body.work_pools = { name: { any_: [q.get('pool')] } };
  if (q.get('deployment')) body.deployments = { name: { like_: q.get('deployment') } };
  return body;
}

/** The columns of a flow run table. */
export const RUN_COLUMNS = [
  { label: 'Name', cell: r => link(`/runs/${r.id}`, r.name) },
  { label: 'Flow', cell: r => r.flow_name },
  { label: 'Deployment', cell: r => r.deployment_name || '—' },
  { label: 'State', cell: r => stateBadge(r.state_type, r.state_name) },
  { label: 'Start', cell: r => fmtTime(r.start_time || r.expected_start_time) },
  { label: 'Duration', cell: r => fmtDuration(r.total_run_time || r.estimated_run_time) },
  { label: 'Tags', cell: r => (r.tags || []).join(', ') },
];

export async function render(root, { query, navigate }) {
  const page = Math.max(1, parseInt(query.get('page') || '1', 10) || 1);
  const field = (name, label, input) => h('label', {}, h('span', {}, label), input);
  const text = (name, placeholder) => h('input', { name, type: 'search', value: query.get(name) || '', placeholder });
  const stateSel = h('select', { name: 'state' },
    h('option', { value: '' }, 'any state'),
    h('option', { value: 'Late' }, 'Late'),
    STATE_TYPES.map(t => h('option', { value: t }, t)),
    h('option', { value: 'FAILED,CRASHED' }, 'FAILED or CRASHED'));
  stateSel.value = query.get('state') || '';
  const sinceSel = h('select', { name: 'since' }, Object.entries(WINDOWS).map(([v, l]) => h('option', { value: v }, l)));
  sinceSel.value = query.get('since') || '';
  const form = h('form', { class: 'filters', role: 'search', onsubmit: (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) q.set(k, v);
    navigate(`/runs${q.size ? '?' + q : ''}`);
  } },
  field('state', 'State', stateSel),
  field('flow', 'Flow', text('flow', 'name contains')),
  field('deployment', 'Deployment', text('deployment', 'name contains')),
  field('pool', 'Work pool', text('pool', 'exact name')),
  field('tag', 'Tags', text('tag', 'a,b (all of)')),
  field('since', 'Expected start', sinceSel),
  field('from', 'From', h('input', { name: 'from', type: 'datetime-local', value: query.get('from') || '' })),
  field('to', 'To', h('input', { name: 'to', type: 'datetime-local', value: query.get('to') || '' })),
  h('button', { type: 'submit' }, 'Apply'),
  h('a', { href: '/runs', class: 'button secondary' }, 'Clear'));
  const summary = h('p', { class: 'muted', 'aria-live': 'polite' }, 'Loading…');
  const body = h('div');
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  replace(root, h('h1', {}, 'Flow runs'), form, summary, body, pager);

  const base = filterBody(query);
  async function load() {
    try {
      const [runs, total] = await Promise.all([
        api('/flow_runs/filter', { ...base, sort: 'EXPECTED_START_TIME_DESC', limit: PAGE, offset: (page - 1) * PAGE }),
        api('/flow_runs/count', base),
      ]);
      const pages = Math.max(1, Math.ceil(total / PAGE));
      summary.textContent = `${total.toLocaleString()} run${total === 1 ? '' : 's'} · page ${page} of ${pages.toLocaleString()}`;
      replace(body, table(RUN_COLUMNS, runs));
      const to = (p) => { const q = new URLSearchParams(query); q.set('page', p); return `/runs?${q}`; };
      replace(pager,
        page > 1 ? h('a', { href: to(1) }, '« First') : null,
        page > 1 ? h('a', { href: to(page - 1), rel: 'prev' }, '‹ Previous') : null,
        h('span', {}, `Page ${page} / ${pages}`),
        page < pages ? h('a', { href: to(page + 1), rel: 'next' }, 'Next ›') : null,
        page < pages ? h('a', { href: to(pages) }, 'Last »') : null);
    } catch (e) {
      replace(body, errorBox(e));
    }
  }
  await load();
  return {
    title: 'Flow runs',
    relevant: (ev) => String(ev.event || '').startsWith('prefect.flow-run.'),
    refresh: load,
  };
}

/**
 * A paged table of the runs matching `body` (a flow run filter), newest
 * first, paged on the server: `el` to place, `load()` to (re)load the page
 * shown. `label` names the section for the pager.
 */
export function pagedRuns(body, { label = 'Runs', size = 20, columns = RUN_COLUMNS } = {}) {
  const el = h('div', { class: 'paged-runs' });
  const summary = h('p', { class: 'muted', 'aria-live': 'polite' }, 'Loading…');
  const tableBox = h('div');
  const pager = h('nav', { class: 'pager', 'aria-label': `${label} pages` });
  el.append(summary, tableBox, pager);
  let page = 1;
  async function load() {
    try {
      const [runs, total] = await Promise.all([
        api('/flow_runs/filter', { ...body, sort: 'EXPECTED_START_TIME_DESC', limit: size, offset: (page - 1) * size }),
        api('/flow_runs/count', body),
      ]);
      const pages = Math.max(1, Math.ceil(total / size));
      if (page > pages) { page = pages; return load(); }
      summary.textContent = `${total.toLocaleString()} run${total === 1 ? '' : 's'} · page ${page} of ${pages.toLocaleString()}`;
      const go = (p) => async () => { page = p; await keepFocus(pager, load); };
      replace(tableBox, table(columns, runs));
      replace(pager,
        h('button', { type: 'button', class: 'secondary small', 'data-focus': 'newer', disabled: page <= 1, onclick: go(page - 1) }, '‹ Newer'),
        h('span', {}, `Page ${page} / ${pages}`),
        h('button', { type: 'button', class: 'secondary small', 'data-focus': 'older', disabled: page >= pages, onclick: go(page + 1) }, 'Older ›'));
    } catch (e) { replace(tableBox, errorBox(e)); }
  }
  return { el, load };
}
