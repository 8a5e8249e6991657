// Automations (/automations): the list, created from JSON as Prefect's API
// takes it (the server's 422 shown), enabled, disabled and deleted.

import { h, replace, table, fmtTime, keepFocus, actionButton, field } from '../dom.js';
import { api, all } from '../api.js';
import { editForm, listPage, json } from './listpage.js';

const EXAMPLE_AUTOMATION = {
  name: 'notify-on-failure',
  trigger: { type: 'event', match: { 'prefect.resource.id': 'prefect.flow-run.*' }, expect: ['prefect.flow-run.Failed'], posture: 'Reactive', threshold: 1, within: 0 },
  actions: [{ type: 'call-webhook', url: 'http://127.0.0.1:9/hook' }],
};

async function draw(body, say) {
  const list = h('div', {}, 'Loading…');
  const text = h('textarea', { rows: '10', spellcheck: 'false', placeholder: JSON.stringify(EXAMPLE_AUTOMATION, null, 2) });
  const create = editForm('New automation', field('auto-json', 'Automation (JSON: name, trigger, actions)', text,
    'As Prefect\'s POST /api/automations/ takes it; the server checks it and says what is wrong.'), 'Create automation', async () => {
    let spec;
    try { spec = JSON.parse(text.value); } catch (e) { throw new Error(`Not valid JSON: ${e.message}`); }
    const a = await api('/automations/', spec);
    text.value = '';
    await load();
    return `Automation ${a.name} created.`;
  });

  async function load() {
    const autos = await all('/automations/filter', {}, { page: 200, max: 2000 });
    replace(list, table([
      { label: 'Name', cell: a => a.name },
      { label: 'Enabled', cell: a => (a.enabled === false ? 'no' : 'yes') },
      { label: 'Trigger', cell: a => h('code', {}, json(a.trigger)) },
      { label: 'Actions', cell: a => h('code', {}, json(a.actions)) },
      { label: 'Updated', cell: a => fmtTime(a.updated) },
      { label: 'Actions', cell: a => h('div', { class: 'actions' },
        actionButton(a.enabled === false ? 'Enable' : 'Disable', async () => {
          await api(`/automations/${a.id}`, { enabled: a.enabled === false }, { method: 'PATCH' });
          say(`${a.name} ${a.enabled === false ? 'enabled' : 'disabled'}.`);
          await keepFocus(list, load);
        }, { 'data-focus': `enable-${a.id}`, 'aria-label': `${a.enabled === false ? 'Enable' : 'Disable'} ${a.name}` }),
        actionButton('Delete', async () => {
          if (!confirm(`Delete the automation ${a.name}?`)) return;
          await api(`/automations/${a.id}`, undefined, { method: 'DELETE' });
          say(`${a.name} deleted.`);
          await load();
          text.focus();
        }, { 'aria-label': `Delete ${a.name}` })) },
    ], autos));
  }
  replace(body, list, h('h2', {}, 'New automation'), create);
  await load();
}

export function render(root) {
  return listPage(root, 'Automations', draw);
}
