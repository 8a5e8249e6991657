// Variables (/variables): the list, created, edited (value and tags) and
// deleted. A value is JSON when it parses, else kept as text.

import { h, replace, table, fmtTime, actionButton, field } from '../dom.js';
import { api, all } from '../api.js';
import { editForm, listPage, json } from './listpage.js';

const enc = encodeURIComponent;
const tagsOf = (text) => String(text || '').split(',').map(t => t.trim()).filter(Boolean);

/** A JSON value from a text field: JSON if it parses, else the text itself (a string). */
function parseValue(text) {
  const t = String(text);
  if (t.trim() === '') throw new Error('Give a value.');
  try { return JSON.parse(t); } catch { return t; }
}

async function draw(body, say) {
  const list = h('div', {}, 'Loading…');
  const editBox = h('div');
  const nameIn = h('input', { type: 'text', required: true, spellcheck: 'false' });
  const valueIn = h('textarea', { rows: '2', spellcheck: 'false' });
  const tagsIn = h('input', { type: 'text', placeholder: 'a, b' });
  const create = editForm('New variable', [
    field('var-name', 'Name', nameIn),
    field('var-value', 'Value', valueIn, 'JSON (42, true, {"a":1}, "text"); anything else is kept as text.'),
    field('var-tags', 'Tags (comma-separated)', tagsIn)], 'Create variable', async () => {
    const v = await api('/variables/', { name: nameIn.value.trim(), value: parseValue(valueIn.value), tags: tagsOf(tagsIn.value) });
    nameIn.value = ''; valueIn.value = ''; tagsIn.value = '';
    await load();
    return `Variable ${v.name} created.`;
  });

  function edit(v) {
    const value = h('textarea', { rows: '3', spellcheck: 'false' }, JSON.stringify(v.value, null, 2));
    const tags = h('input', { type: 'text', value: (v.tags || []).join(', ') });
    const close = () => { editBox.replaceChildren(); list.querySelector(`[data-focus="edit-${v.id}"]`)?.focus(); };
    const el = editForm(`Edit variable ${v.name}`, [h('h3', {}, `Edit ${v.name}`),
      field('var-edit-value', 'Value', value, 'JSON; anything else is kept as text.'),
      field('var-edit-tags', 'Tags (comma-separated)', tags)], 'Save', async () => {
      await api(`/variables/name/${enc(v.name)}`, { value: parseValue(value.value), tags: tagsOf(tags.value) }, { method: 'PATCH' });
      say(`Variable ${v.name} saved.`);
      await load();
      close();
    });
    el.querySelector('.actions').append(h('button', { type: 'button', class: 'secondary', onclick: close }, 'Cancel'));
    replace(editBox, el);
    value.focus();
  }

  async function load() {
    const vars = await all('/variables/filter', { sort: 'NAME_ASC' }, { page: 200, max: 5000 });
    replace(list, table([
      { label: 'Name', cell: v => v.name },
      { label: 'Value', cell: v => h('code', {}, json(v.value)) },
      { label: 'Tags', cell: v => (v.tags || []).join(', ') },
      { label: 'Updated', cell: v => fmtTime(v.updated) },
      { label: 'Actions', cell: v => h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary small', 'data-focus': `edit-${v.id}`, 'aria-label': `Edit ${v.name}`, onclick: () => edit(v) }, 'Edit'),
        actionButton('Delete', async () => {
          if (!confirm(`Delete the variable ${v.name}?`)) return;
          await api(`/variables/name/${enc(v.name)}`, undefined, { method: 'DELETE' });
          say(`Variable ${v.name} deleted.`);
          editBox.replaceChildren();
          await load();
          nameIn.focus();
        }, { 'aria-label': `Delete ${v.name}` })) },
    ], vars));
  }
  replace(body, list, editBox, h('h2', {}, 'New variable'), create);
  await load();
}

export function render(root) {
  return listPage(root, 'Variables', draw);
}
