// Secrets (/secrets): names only, a value set (write-only: the UI sends
// values and never reads one) or deleted.

import { h, replace, table, actionButton, field } from '../dom.js';
import { api } from '../api.js';
import { editForm, listPage } from './listpage.js';

const enc = encodeURIComponent;

async function draw(body, say) {
  const list = h('div', {}, 'Loading…');
  const nameIn = h('input', { type: 'text', required: true, spellcheck: 'false', autocomplete: 'off' });
  const valueIn = h('input', { type: 'password', required: true, autocomplete: 'new-password' });
  const set = editForm('Set a secret', h('div', { class: 'filters' },
    field('secret-name', 'Name', nameIn), field('secret-value', 'Value (write-only)', valueIn)), 'Save secret', async () => {
    const name = nameIn.value.trim();
    await api(`/secrets/${enc(name)}`, { value: valueIn.value }, { method: 'PUT' });
    valueIn.value = '';
    await load();
    return `Secret ${name} saved.`;
  });

  async function load() {
    const names = await api('/secrets/');
    replace(list, table([
      { label: 'Name', cell: n => n },
      { label: 'Actions', cell: n => h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary small', 'aria-label': `Set a new value for ${n}`,
          onclick: () => { nameIn.value = n; valueIn.value = ''; valueIn.focus(); } }, 'Set value'),
        actionButton('Delete', async () => {
          if (!confirm(`Delete the secret ${n}?`)) return;
          await api(`/secrets/${enc(n)}`, undefined, { method: 'DELETE' });
          say(`Secret ${n} deleted.`);
          await load();
          nameIn.focus();
        }, { 'aria-label': `Delete ${n}` })) },
    ], names, 'Names only: values are never sent to the UI.'));
  }
  replace(body, list, h('h2', {}, 'Set a secret'), set);
  await load();
}

export function render(root) {
  return listPage(root, 'Secrets', draw);
}
