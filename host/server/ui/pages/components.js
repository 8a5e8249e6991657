// Components: upload a .wasm (file picker or drag-and-drop), see its
// digest, flows and tasks.

import { h, replace, errorBox, table, fmtTime } from '../dom.js';
import { api } from '../api.js';

function describe(c) {
  return h('div', { class: 'card' },
    h('h2', {}, h('code', {}, c.digest)),
    h('p', { class: 'muted' }, `${(c.size / 1024).toFixed(1)} KiB · ${c.sdk} · ${c.world} · uploaded ${fmtTime(c.created)}`),
    h('h3', {}, 'Flows'),
    table([{ label: 'Name', cell: f => f.name }, { label: 'Parameters', cell: f => (f.parameters || []).join(', ') },
      { label: 'Description', cell: f => f.description || '' }], c.flows || []),
    h('h3', {}, 'Tasks'),
    table([{ label: 'Name', cell: t => t.name }, { label: 'Description', cell: t => t.description || '' }], c.tasks || []));
}

export async function render(root) {
  const status = h('div', { role: 'status', 'aria-live': 'polite' });
  const picker = h('input', { type: 'file', id: 'wasm-file', accept: '.wasm,application/wasm', multiple: true });
  const drop = h('div', { class: 'dropzone' },
    h('p', {}, 'Drop .wasm components here, or '),
    h('label', { for: 'wasm-file', class: 'button' }, 'choose files…'), picker);
  const list = h('div');
  replace(root, h('h1', {}, 'Components'), drop, status, h('h2', {}, 'Stored components'), list);

  async function upload(files) {
    for (const file of files) {
      replace(status, h('p', {}, `Uploading ${file.name} (${(file.size / 1024).toFixed(1)} KiB)…`));
      try {
        const c = await api('/components', undefined, { method: 'POST', raw: file, contentType: 'application/wasm' });
        replace(status, h('p', {}, `Uploaded ${file.name}: `, h('code', {}, c.digest)), describe(c));
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
      const cs = await api('/components');
      replace(list, cs.length ? cs.map(describe) : h('p', { class: 'muted' }, 'None yet.'));
    } catch (e) { replace(list, errorBox(e)); }
  }
  await load();
  return { title: 'Components' };
}
