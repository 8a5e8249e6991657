// The dashboard: runs by state over time (SVG, from count calls, so it
// costs the same with 100,000 runs), late and failed runs, work pools.
// It refreshes at most every 5 s: 60 count calls a refresh.

import { h, replace, table, errorBox, field, toLocalInput, fromLocalInput, STATE_COLORS } from '../dom.js';
import { api, pool } from '../api.js';
import { RUN_COLUMNS } from './runs.js';
import { poolsWithCounts, POOL_COLUMNS } from './pools.js';

const SVG = 'http://www.w3.org/2000/svg';
const GROUPS = [
  ['COMPLETED', ['COMPLETED']],
  ['FAILED', ['FAILED', 'CRASHED']],
  ['RUNNING', ['RUNNING', 'PENDING', 'CANCELLING']],
  ['SCHEDULED', ['SCHEDULED', 'PAUSED']],
  ['CANCELLED', ['CANCELLED']],
];
const WINDOWS = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3 };
const BUCKETS = 12;

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** Counts per bucket and state group, by expected start time, from `start` to `end` (ms). */
async function series(start, end) {
  const windowMs = end - start, step = windowMs / BUCKETS;
  const jobs = [];
  for (let b = 0; b < BUCKETS; b++) for (const [g, types] of GROUPS) jobs.push({ b, g, types });
  const counts = await pool(jobs, 6, ({ b, types }) => api('/flow_runs/count', { flow_runs: {
    state: { type: { any_: types } },
    expected_start_time: { after_: new Date(start + b * step).toISOString(), before_: new Date(start + (b + 1) * step - 1).toISOString() },
  } }));
  const buckets = Array.from({ length: BUCKETS }, (_, b) => ({ start: new Date(start + b * step), counts: {} }));
  jobs.forEach((j, i) => { buckets[j.b].counts[j.g] = counts[i]; });
  return buckets;
}

function chart(buckets, windowMs) {
  const W = 720, H = 200, pad = 28, bw = (W - pad) / buckets.length;
  const max = Math.max(1, ...buckets.map(b => GROUPS.reduce((s, [g]) => s + (b.counts[g] || 0), 0)));
  const root = svg('svg', { viewBox: `0 0 ${W} ${H + 20}`, class: 'chart', role: 'img',
    'aria-label': `Flow runs by state, ${buckets.length} buckets` });
  root.append(svg('text', { x: 0, y: 12, class: 'axis' }, String(max)), svg('text', { x: 0, y: H, class: 'axis' }, '0'));
  buckets.forEach((b, i) => {
    let y = H;
    const x = pad + i * bw + 2;
    const parts = [];
    for (const [g] of GROUPS) {
      const n = b.counts[g] || 0;
      if (!n) continue;
      const hgt = (n / max) * (H - 16);
      y -= hgt;
      parts.push(`${n} ${g}`);
      root.append(svg('rect', { x, y, width: bw - 4, height: hgt, fill: STATE_COLORS[g] }, svg('title', {}, `${b.start.toLocaleString()}: ${n} ${g}`)));
    }
    if (i % 3 === 0) {
      const label = windowMs > 86400e3 ? b.start.toLocaleDateString() : b.start.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      root.append(svg('text', { x, y: H + 14, class: 'axis' }, label));
    }
  });
  return root;
}

function legend() {
  return h('ul', { class: 'legend' }, GROUPS.map(([g, types]) => h('li', {},
    h('span', { class: 'swatch', style: { background: STATE_COLORS[g] } }), types.join(' / '))));
}

function totalsTable(buckets, range) {
  const totals = GROUPS.map(([g]) => [g, buckets.reduce((s, b) => s + (b.counts[g] || 0), 0)]);
  const q = range ? `&from=${encodeURIComponent(range.from)}&to=${encodeURIComponent(range.to)}` : '';
  return table([{ label: 'State', cell: r => h('a', { href: `/runs?state=${GROUPS.find(([g]) => g === r[0])[1].join(',')}${q}` }, r[0]) },
    { label: 'Runs in window', cell: r => r[1].toLocaleString() }], totals, 'Totals (the chart as a table)');
}

/** The dashboard's time range from the URL: `window` = 1h/24h/7d, or `custom` with `from` and `to` (datetime-local). */
function rangeOf(query) {
  const now = Date.now();
  if (query.get('window') === 'custom') {
    const from = fromLocalInput(query.get('from')), to = fromLocalInput(query.get('to'));
    const start = from ? new Date(from).getTime() : now - WINDOWS['24h'];
    const end = to ? new Date(to).getTime() + 59999 : now;
    if (end > start) return { win: 'custom', start, end, from: query.get('from') || toLocalInput(start), to: query.get('to') || toLocalInput(end) };
  }
  const win = WINDOWS[query.get('window')] ? query.get('window') : '24h';
  return { win, start: now - WINDOWS[win], end: now };
}

export async function render(root, { query, navigate }) {
  let range = rangeOf(query);
  const win = range.win;
  const fromIn = h('input', { type: 'datetime-local', value: range.from || toLocalInput(range.start) });
  const toIn = h('input', { type: 'datetime-local', value: range.to || toLocalInput(range.end) });
  const custom = h('form', { class: 'filters', 'aria-label': 'Custom time range', hidden: win !== 'custom', onsubmit: (e) => {
    e.preventDefault();
    const q = new URLSearchParams({ window: 'custom', from: fromIn.value, to: toIn.value });
    navigate(`/?${q}`, { replaceState: true });
  } }, field('dash-from', 'From', fromIn), field('dash-to', 'To', toIn), h('button', { type: 'submit' }, 'Show'));
  const sel = h('select', { id: 'dash-window', onchange: () => {
    if (sel.value === 'custom') { custom.hidden = false; fromIn.focus(); return; }
    navigate(`/?window=${sel.value}`, { replaceState: true });
  } },
  Object.keys(WINDOWS).map(w => h('option', { value: w }, `last ${w}`)), h('option', { value: 'custom' }, 'custom range…'));
  sel.value = win;
  const chartBox = h('div', {}, 'Loading…');
  const late = h('div'), failed = h('div'), pools = h('div');
  replace(root, h('h1', {}, 'Dashboard'),
    h('section', {}, h('div', { class: 'row' }, h('h2', {}, 'Flow runs by state'),
      h('label', { for: 'dash-window' }, 'Window ', sel)), custom, chartBox),
    h('div', { class: 'grid2' },
      h('section', {}, h('h2', {}, h('a', { href: '/runs?state=Late' }, 'Late runs')), late),
      h('section', {}, h('h2', {}, h('a', { href: '/runs?state=FAILED,CRASHED' }, 'Failed runs')), failed)),
    h('section', {}, h('h2', {}, h('a', { href: '/work-pools' }, 'Work pools')), pools));

  const cols = RUN_COLUMNS.filter(c => ['Name', 'Flow', 'State', 'Start'].includes(c.label));
  async function load() {
    if (win !== 'custom') range = rangeOf(query); // a window back from now moves with now
    await Promise.all([
      series(range.start, range.end).then(b => replace(chartBox, chart(b, range.end - range.start), legend(),
        h('details', {}, h('summary', {}, 'As a table'), totalsTable(b, win === 'custom' ? { from: fromIn.value, to: toIn.value } : null)))).catch(e => replace(chartBox, errorBox(e))),
      api('/flow_runs/filter', { flow_runs: { state: { name: { any_: ['Late'] } } }, sort: 'EXPECTED_START_TIME_ASC', limit: 10 })
        .then(r => replace(late, table(cols, r))).catch(e => replace(late, errorBox(e))),
      api('/flow_runs/filter', { flow_runs: { state: { type: { any_: ['FAILED', 'CRASHED'] } } }, sort: 'END_TIME_DESC', limit: 10 })
        .then(r => replace(failed, table(cols, r))).catch(e => replace(failed, errorBox(e))),
      poolsWithCounts().then(p => replace(pools, table(POOL_COLUMNS, p))).catch(e => replace(pools, errorBox(e))),
    ]);
  }
  await load();
  return { title: 'Dashboard', debounceMs: 5000, relevant: (ev) => String(ev.event || '').startsWith('prefect.flow-run.'), refresh: load };
}
