// Components: upload a .wasm (file picker or drag-and-drop), see its
// digest, flows and tasks, and deploy one of its flows to a work pool.

import { h, replace, errorBox, table, fmtTime } from '../dom.js';
import { api, all } from '../api.js';

/** The form deploying one of `c`'s flows (`POST /api/flows/`, then `/api/deployments/`). */
function deployForm(c, pools) {
  const key = c.digest.slice(0, 12);
  const flows = c.flows || [];
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  const flow = h('select', { id: `dep-flow-${key}`, required: true },
    flows.map(f => h('option', { value: f.name }, f.name)));
  const name = h('input', { id: `dep-name-${key}`, required: true, value: flows[0]?.name || '', autocomplete: 'off' });
  const pool = h('input', { id: `dep-pool-${key}`, list: `dep-pools-${key}`, required: true,
    value: pools[0]?.name || '', autocomplete: 'off' });
  const params = h('textarea', { id: `dep-params-${key}`, rows: 3, spellcheck: 'false' }, '{}');
  flow.addEventListener('change', () => { name.value = flow.value; });
  const form = h('form', { class: 'edit-form', onsubmit: async (e) => {
    e.preventDefault();
    let parameters;
    try {
      parameters = JSON.parse(params.value || '{}');
      if (!parameters || typeof parameters !== 'object' || Array.isArray(parameters)) throw new Error('must be a JSON object');
    } catch (err) { replace(status, errorBox(`Default parameters: ${err.message}`)); return; }
    status.textContent = 'Deploying…';
    try {
      const f = await api('/flows/', { name: flow.value });
      const d = await api('/deployments/', { name: name.value.trim(), flow_id: f.id, component_digest: c.digest,
        work_pool_name: pool.value.trim(), parameters });
      replace(status, 'Deployed ', h('a', { href: `/deployments/${d.id}` }, `${flow.value}/${d.name}`), ' to pool ',
        h('code', {}, d.work_pool_name), '.');
    } catch (err) { replace(status, errorBox(err)); }
  } },
  h('h3', {}, 'Deploy a flow'),
  h('div', { class: 'field' }, h('label', { for: flow.id }, 'Flow'), flow),
  h('div', { class: 'field' }, h('label', { for: name.id }, 'Deployment name'), name),
  h('div', { class: 'field' }, h('label', { for: pool.id }, 'Work pool'), pool,
    h('datalist', { id: `dep-pools-${key}` }, pools.map(p => h('option', { value: p.name })))),
  h('div', { class: 'field' }, h('label', { for: params.id }, 'Default parameters (JSON)'), params),
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Deploy')),
  status);
  return flows.length ? form : h('p', { class: 'muted' }, 'It exports no flows to deploy.');
}

function describe(c, pools) {
  const area = h('div');
  const btn = h('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false', onclick: () => {
    const open = !area.childNodes.length;
    if (open) { replace(area, deployForm(c, pools)); area.querySelector('select,input')?.focus(); }
    else area.replaceChildren();
    btn.setAttribute('aria-expanded', String(open));
  } }, 'Deploy…');
  return h('article', { class: 'card', id: `component-${c.digest.slice(0, 12)}` },
    h('h2', {}, h('code', {}, c.digest)),
    h('p', { class: 'muted' }, `${(c.size / 1024).toFixed(1)} KiB · ${c.sdk} · ${c.world} · uploaded ${fmtTime(c.created)}`),
    h('h3', {}, 'Flows'),
    table([{ label: 'Name', cell: f => f.name }, { label: 'Parameters', cell: f => (f.parameters || []).join(', ') },
      { label: 'Description', cell: f => f.description || '' }], c.flows || []),
    h('h3', {}, 'Tasks'),
    table([{ label: 'Name', cell: t => t.name }, { label: 'Description', cell: t => t.description || '' }], c.tasks || []),
    h('div', { class: 'actions' }, btn, h('a', { class: 'button secondary', href: `/api/components/${c.digest}/wasm`, download: `${c.digest.slice(0, 12)}.wasm` }, 'Download .wasm')),
    area);
}

export async function render(root) {
  const status = h('div', { role: 'status', 'aria-live': 'polite' });
  const picker = h('input', { type: 'file', id: 'wasm-file', accept: '.wasm,application/wasm', multiple: true });
  const drop = h('div', { class: 'dropzone' },
    h('p', {}, 'Drop .wasm components here, or '),
    h('label', { for: 'wasm-file', class: 'button' }, 'choose files…'), picker);
  const list = h('div');
  replace(root, h('h1', {}, 'Components'), drop, status, h('h2', {}, 'Stored components'), list);
  let pools = [];

  async function upload(files) {
    for (const file of files) {
      replace(status, h('p', {}, `Uploading ${file.name} (${(file.size / 1024).toFixed(1)} KiB)…`));
      try {
        const c = await api('/components', undefined, { method: 'POST', raw: file, contentType: 'application/wasm' });
        replace(status, h('p', {}, `Uploaded ${file.name}: `, h('code', {}, c.digest)));
      } catch (e) { replace(status, errorBox(`${file.name}: ${e.message}`)); }
    }
    await load();
  }
  picker.addEventListener('change', () => { upload([...picker.files]); picker.value = ''; });
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); upload([...e.dataTransfer.files]); });

  async function load() {
    try {
      const [cs, ps] = await Promise.all([api('/components'), all('/work_pools/filter', {}, { page: 200, max: 1000 })]);
      pools = ps;
      replace(list, cs.length ? cs.map(c => describe(c, pools)) : h('p', { class: 'muted' }, 'None yet.'));
    } catch (e) { replace(list, errorBox(e)); }
  }
  await load();
  return { title: 'Components' };
}
