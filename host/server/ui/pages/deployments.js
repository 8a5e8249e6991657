// Deployments: parameters, schedules (pause/resume) and a Run button with
// a form generated from the flow's parameter schema.

import { h, replace, errorBox, jsonBlock, fmtTime } from '../dom.js';
import { api, all } from '../api.js';
import { schemaForm } from './form.js';

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
    const runBtn = h('button', { type: 'button', 'aria-expanded': 'false', onclick: () => openRun(d, runArea, runBtn) }, 'Run…');
    return h('article', { class: 'card', 'aria-labelledby': `dep-${d.id}` },
      h('h2', { id: `dep-${d.id}` }, `${d.flow_name}/${d.name}`, d.paused ? h('span', { class: 'badge st-paused' }, 'paused') : null),
      h('p', { class: 'muted' },
        d.work_pool_name ? `pool ${d.work_pool_name}` : 'no pool',
        d.concurrency_limit ? ` · at most ${d.concurrency_limit} at once` : '',
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

  async function openRun(d, area, btn) {
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

  await load();
  return { title: 'Deployments' };
}
