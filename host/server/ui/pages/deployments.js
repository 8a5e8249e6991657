// Deployments: the list (parameters, schedules with pause/resume, a Run
// button with a form generated from the flow's parameter schema) and one
// deployment's page (/deployments/<id>: pause/resume, its concurrency limit
// to set or clear, schedules to add, pause, resume and delete, the Run form,
// its runs paged on the server).

import { h, replace, errorBox, jsonBlock, fmtTime, keepFocus, actionButton, field } from '../dom.js';
import { api, all } from '../api.js';
import { resourceIds } from '../live.js';
import { schemaForm } from './form.js';
import { pagedRuns } from './runs.js';
import { limitEditor } from './limit.js';

/** A deployment's concurrency limit in words. */
const atOnce = (n) => (n === null || n === undefined ? 'unlimited' : `at most ${n} at once`);

function describe(s) {
  const spec = s.schedule || {};
  if (spec.cron) return `cron ${spec.cron}${spec.timezone ? ` (${spec.timezone})` : ''}`;
  if (spec.interval !== undefined) return `every ${spec.interval}s`;
  if (spec.rrule) return `rrule ${spec.rrule}`;
  return JSON.stringify(spec);
}

/** The parameter schema of a deployment's flow: its own, else its component's. */
async function parameterSchema(d) {
  if (d.parameter_openapi_schema && Object.keys(d.parameter_openapi_schema).length) return d.parameter_openapi_schema;
  try {
    const c = await api(`/components/${encodeURIComponent(d.component_digest)}`);
    const f = (c.flows || []).find(f => f.name === d.flow_name);
    return f ? f.parameter_schema : null;
  } catch { return null; }
}

/** Opens (or closes) the Run form of `d` in `area`, toggled by `btn`. */
async function openRun(d, area, btn, navigate) {
  if (area.childNodes.length) { area.replaceChildren(); btn.setAttribute('aria-expanded', 'false'); return; }
  btn.setAttribute('aria-expanded', 'true');
  const schema = await parameterSchema(d);
  const form = schemaForm(schema, d.parameters || {});
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  const el = h('form', { class: 'run-form', onsubmit: async (e) => {
    e.preventDefault();
    let parameters;
    try { parameters = form.read(); } catch (err) { replace(status, errorBox(err)); return; }
    status.textContent = 'Creating the run…';
    try {
      const run = await api(`/deployments/${d.id}/create_flow_run`, { parameters });
      navigate(`/runs/${run.id}`);
    } catch (err) { replace(status, errorBox(err)); }
  } },
  h('h3', {}, 'Run with parameters'),
  schema ? null : h('p', { class: 'muted' }, 'The flow has no parameter schema; give parameters as JSON.'),
  form.el,
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create run'),
    h('button', { type: 'button', class: 'secondary', onclick: () => { area.replaceChildren(); btn.setAttribute('aria-expanded', 'false'); btn.focus(); } }, 'Close')),
  status);
  replace(area, el);
  el.querySelector('input,select,textarea,button')?.focus();
}

export async function render(root, { navigate }) {
  const list = h('div');
  replace(root, h('h1', {}, 'Deployments'), list);

  async function load() {
    try {
      const deps = await all('/deployments/filter', { sort: 'NAME_ASC' }, { page: 200, max: 2000 });
      if (!deps.length) { replace(list, h('p', { class: 'muted' }, 'No deployments yet (weft deploy ...).')); return; }
      replace(list, deps.map(card));
    } catch (e) { replace(list, errorBox(e)); }
  }

  function card(d) {
    const runArea = h('div');
    const runBtn = h('button', { type: 'button', 'aria-expanded': 'false', onclick: () => openRun(d, runArea, runBtn, navigate) }, 'Run…');
    return h('article', { class: 'card', 'aria-labelledby': `dep-${d.id}` },
      h('h2', { id: `dep-${d.id}` }, h('a', { href: `/deployments/${d.id}` }, `${d.flow_name}/${d.name}`), d.paused ? h('span', { class: 'badge st-paused' }, 'paused') : null),
      h('p', { class: 'muted' },
        d.work_pool_name ? `pool ${d.work_pool_name}` : 'no pool',
        d.concurrency_limit === null || d.concurrency_limit === undefined ? '' : ` · ${atOnce(d.concurrency_limit)}`,
        (d.tags || []).length ? ` · tags ${d.tags.join(', ')}` : '',
        ` · updated ${fmtTime(d.updated)}`),
      d.description ? h('p', {}, d.description) : null,
      h('div', { class: 'actions' }, runBtn, h('a', { class: 'button secondary', href: `/runs?deployment=${encodeURIComponent(d.name)}` }, 'Runs')),
      runArea,
      h('details', {}, h('summary', {}, 'Default parameters'), jsonBlock(d.parameters)),
      h('h3', {}, 'Schedules'),
      (d.schedules || []).length
        ? h('ul', { class: 'plain' }, d.schedules.map(s => h('li', {},
          h('span', { class: `badge ${s.active ? 'st-completed' : 'st-paused'}` }, s.active ? 'active' : 'paused'), ' ',
          describe(s), ' ',
          h('button', { type: 'button', class: 'secondary small', onclick: async (e) => {
            e.target.disabled = true;
            try {
              await api(`/deployments/${d.id}/schedules/${s.id}`, { active: !s.active }, { method: 'PATCH' });
              await load();
            } catch (err) { e.target.after(errorBox(err)); e.target.disabled = false; }
          } }, s.active ? 'Pause' : 'Resume'))))
        : h('p', { class: 'muted' }, 'None.'));
  }

  await load();
  return { title: 'Deployments' };
}

/** The body of a new schedule from the add form's values (throws on a bad one). */
export function scheduleBody(kind, value, timezone) {
  const v = String(value || '').trim();
  if (!v) throw new Error(kind === 'cron' ? 'Give a cron expression (five fields).' : 'Give an interval in seconds.');
  const schedule = {};
  if (kind === 'cron') schedule.cron = v;
  else {
    const secs = Number(v);
    if (!Number.isInteger(secs) || secs <= 0) throw new Error('The interval is a whole number of seconds, at least 1.');
    schedule.interval = secs;
  }
  if (timezone && timezone.trim()) schedule.timezone = timezone.trim();
  return [{ schedule, active: true }];
}

/** One deployment: /deployments/<id>. */
export async function renderDetail(root, { params, navigate }) {
  const id = params[0];
  const message = h('p', { role: 'status', 'aria-live': 'polite', class: 'muted' });
  const head = h('div');
  const actions = h('div', { class: 'actions' });
  const runArea = h('div');
  const info = h('div', { class: 'grid2' });
  const schedules = h('div');
  const runsBox = pagedRuns({ flow_runs: { deployment_id: { any_: [id] } } }, { label: 'Runs of this deployment' });
  let d = null;

  const kindSel = h('select', {}, h('option', { value: 'cron' }, 'cron'), h('option', { value: 'interval' }, 'interval (seconds)'));
  const valueIn = h('input', { type: 'text', placeholder: '*/5 * * * *', spellcheck: 'false', required: true });
  const tzIn = h('input', { type: 'text', placeholder: 'UTC', spellcheck: 'false' });
  kindSel.addEventListener('change', () => { valueIn.placeholder = kindSel.value === 'cron' ? '*/5 * * * *' : '3600'; });
  const addStatus = h('div', { role: 'status', 'aria-live': 'polite' });
  const addForm = h('form', { class: 'inline-form', 'aria-labelledby': 'h-add-schedule', onsubmit: async (e) => {
    e.preventDefault();
    addStatus.replaceChildren();
    let body;
    try { body = scheduleBody(kindSel.value, valueIn.value, tzIn.value); } catch (err) { replace(addStatus, errorBox(err)); return; }
    try {
      await api(`/deployments/${id}/schedules`, body);
      valueIn.value = '';
      addStatus.textContent = 'Schedule added.';
      await load();
    } catch (err) { replace(addStatus, errorBox(err)); }
  } },
  h('h3', { id: 'h-add-schedule' }, 'Add a schedule'),
  h('div', { class: 'filters' },
    field('sched-kind', 'Kind', kindSel),
    field('sched-value', 'Cron expression or interval', valueIn),
    field('sched-tz', 'Time zone (optional)', tzIn),
    h('button', { type: 'submit' }, 'Add schedule')),
  addStatus);

  const limit = limitEditor('dep-limit', 'Concurrency limit (runs at once; empty: unlimited)', async (n) => {
    await api(`/deployments/${id}`, { concurrency_limit: n }, { method: 'PATCH' });
    await load();
    return d.concurrency_limit;
  });

  replace(root, message, head, actions, runArea, info,
    h('section', { 'aria-labelledby': 'h-dep-limit' }, h('h2', { id: 'h-dep-limit' }, 'Concurrency'), limit.el),
    h('section', { 'aria-labelledby': 'h-schedules' }, h('h2', { id: 'h-schedules' }, 'Schedules'), schedules, addForm),
    h('section', { 'aria-labelledby': 'h-dep-runs' }, h('h2', { id: 'h-dep-runs' }, 'Runs'), runsBox.el));

  const runBtn = h('button', { type: 'button', 'aria-expanded': 'false', onclick: () => openRun(d, runArea, runBtn, navigate) }, 'Run…');

  function draw() {
    replace(head, h('h1', {}, `${d.flow_name}/${d.name}`, ' ',
      d.paused ? h('span', { class: 'badge st-paused' }, 'paused') : h('span', { class: 'badge st-completed' }, 'active')));
    replace(actions, runBtn,
      actionButton(d.paused ? 'Resume' : 'Pause', async () => {
        await api(`/deployments/${id}`, { paused: !d.paused }, { method: 'PATCH' });
        message.textContent = d.paused ? 'Deployment resumed.' : 'Deployment paused: its schedules make no runs.';
        await keepFocus(actions, load);
      }, { class: 'secondary', 'data-focus': 'pause' }),
      h('a', { class: 'button secondary', href: `/runs?deployment=${encodeURIComponent(d.name)}` }, 'All runs'));
    replace(info,
      h('div', {}, h('h2', {}, 'Details'), h('dl', {},
        h('dt', {}, 'Flow'), h('dd', {}, d.flow_name || '—'),
        h('dt', {}, 'Work pool'), h('dd', {}, d.work_pool_name ? h('a', { href: `/work-pools/${encodeURIComponent(d.work_pool_name)}` }, d.work_pool_name) : 'none'),
        h('dt', {}, 'Tags'), h('dd', {}, (d.tags || []).length ? d.tags.join(', ') : '—'),
        h('dt', {}, 'Description'), h('dd', {}, d.description || '—'),
        h('dt', {}, 'Concurrency limit'), h('dd', {}, atOnce(d.concurrency_limit)),
        h('dt', {}, 'Paused'), h('dd', {}, d.paused ? 'yes' : 'no'),
        h('dt', {}, 'Status'), h('dd', {}, d.status || '—'),
        h('dt', {}, 'Component'), h('dd', {}, h('code', {}, String(d.component_digest || '').slice(0, 16) || '—')),
        h('dt', {}, 'Updated'), h('dd', {}, fmtTime(d.updated)),
        h('dt', {}, 'Id'), h('dd', {}, h('code', {}, d.id)))),
      h('div', {}, h('h2', {}, 'Default parameters'), jsonBlock(d.parameters)));
    const list = d.schedules || [];
    replace(schedules, list.length
      ? h('table', {}, h('thead', {}, h('tr', {}, ['Schedule', 'State', 'Actions'].map(l => h('th', { scope: 'col' }, l)))),
        h('tbody', {}, list.map(s => h('tr', {},
          h('td', {}, describe(s)),
          h('td', {}, h('span', { class: `badge ${s.active ? 'st-completed' : 'st-paused'}` }, s.active ? 'active' : 'paused')),
          h('td', {}, h('div', { class: 'actions' },
            actionButton(s.active ? 'Pause' : 'Resume', async () => {
              await api(`/deployments/${id}/schedules/${s.id}`, { active: !s.active }, { method: 'PATCH' });
              message.textContent = `Schedule ${describe(s)} ${s.active ? 'paused' : 'resumed'}.`;
              await keepFocus(schedules, load);
            }, { 'data-focus': `toggle-${s.id}`, 'aria-label': `${s.active ? 'Pause' : 'Resume'} schedule ${describe(s)}` }),
            actionButton('Delete', async () => {
              if (!confirm(`Delete the schedule ${describe(s)} and its coming runs?`)) return;
              await api(`/deployments/${id}/schedules/${s.id}`, undefined, { method: 'DELETE' });
              message.textContent = `Schedule ${describe(s)} deleted.`;
              await load();
              kindSel.focus();
            }, { 'aria-label': `Delete schedule ${describe(s)}` })))))))
      : h('p', { class: 'muted' }, 'No schedules.'));
  }

  async function load() {
    const first = !d;
    d = await api(`/deployments/${id}`);
    if (first) limit.set(d.concurrency_limit);
    draw();
  }

  try { await load(); } catch (e) { replace(head, h('h1', {}, 'Deployment'), errorBox(e)); return { title: 'Deployment' }; }
  await runsBox.load();
  return {
    title: `${d.flow_name}/${d.name}`,
    debounceMs: 2000,
    relevant: (ev) => resourceIds(ev).some(r => r.endsWith(id)),
    refresh: async () => { try { await keepFocus(root, load); } catch { /* next event */ } await keepFocus(root, runsBox.load); },
  };
}
