// Concurrency limits (/concurrency): global and tag limits, created, their
// limit changed, activated or deactivated, reset (every slot held released)
// and deleted, through the same REST API as the CLI.

import { h, replace, table, errorBox, keepFocus, actionButton, field } from '../dom.js';
import { api, all } from '../api.js';
import { editForm, listPage } from './listpage.js';

const isTag = (l) => l.name.startsWith('tag:');

/** Releases every slot `l` holds: a tag limit by its reset route, a global one by `active_slots: 0`. */
function reset(l) {
  return isTag(l)
    ? api(`/concurrency_limits/tag/${encodeURIComponent(l.name.slice(4))}/reset`, {})
    : api(`/v2/concurrency_limits/${l.id}`, { active_slots: 0 }, { method: 'PATCH' });
}

async function draw(body, say) {
  const list = h('div', {}, 'Loading…');
  const kindSel = h('select', {}, h('option', { value: 'global' }, 'global limit'), h('option', { value: 'tag' }, 'tag limit (task runs with the tag)'));
  const nameIn = h('input', { type: 'text', required: true, spellcheck: 'false' });
  const limitIn = h('input', { type: 'number', min: '0', step: '1', required: true });
  const create = editForm('New concurrency limit', h('div', { class: 'filters' },
    field('cl-kind', 'Kind', kindSel), field('cl-name', 'Name or tag', nameIn), field('cl-limit', 'Limit (slots)', limitIn)),
  'Create limit', async () => {
    const n = Number(limitIn.value);
    if (!Number.isInteger(n) || n < 0) throw new Error('The limit is a whole number, 0 or more.');
    const name = nameIn.value.trim();
    if (kindSel.value === 'tag') await api('/concurrency_limits/', { tag: name, concurrency_limit: n });
    else await api('/v2/concurrency_limits/', { name, limit: n });
    nameIn.value = ''; limitIn.value = '';
    await load();
    return `Limit ${kindSel.value === 'tag' ? `tag:${name}` : name} created.`;
  });

  function limitEditor(l) {
    const input = h('input', { type: 'number', min: '0', step: '1', value: String(l.limit), class: 'narrow',
      'aria-label': `Limit of ${l.name}`, 'data-focus': `limit-${l.id}` });
    return h('form', { class: 'inline', onsubmit: async (e) => {
      e.preventDefault();
      e.target.querySelector(':scope > .error')?.remove();
      const n = Number(input.value);
      try {
        if (!Number.isInteger(n) || n < 0) throw new Error('A whole number, 0 or more.');
        await api(`/v2/concurrency_limits/${l.id}`, { limit: n }, { method: 'PATCH' });
        say(`Limit of ${l.name} set to ${n}.`);
        await keepFocus(list, load);
      } catch (err) { e.target.append(errorBox(err)); }
    } }, input, h('button', { type: 'submit', class: 'secondary small', 'data-focus': `save-${l.id}`, 'aria-label': `Save the limit of ${l.name}` }, 'Save'));
  }

  function actions(l) {
    return h('div', { class: 'actions' },
      actionButton(l.active ? 'Deactivate' : 'Activate', async () => {
        await api(`/v2/concurrency_limits/${l.id}`, { active: !l.active }, { method: 'PATCH' });
        say(`${l.name} ${l.active ? 'deactivated' : 'activated'}.`);
        await keepFocus(list, load);
      }, { 'data-focus': `active-${l.id}`, 'aria-label': `${l.active ? 'Deactivate' : 'Activate'} ${l.name}` }),
      actionButton('Reset', async () => {
        await reset(l);
        say(`Every slot of ${l.name} released.`);
        await keepFocus(list, load);
      }, { 'data-focus': `reset-${l.id}`, 'aria-label': `Reset ${l.name}`, title: 'Release every slot held' }),
      actionButton('Delete', async () => {
        if (!confirm(`Delete the concurrency limit ${l.name}?`)) return;
        await api(`/v2/concurrency_limits/${l.id}`, undefined, { method: 'DELETE' });
        say(`${l.name} deleted.`);
        await load();
        nameIn.focus();
      }, { 'aria-label': `Delete ${l.name}` }));
  }

  async function load() {
    const limits = await all('/v2/concurrency_limits/filter', {}, { page: 200, max: 2000 });
    replace(list, table([
      { label: 'Name', cell: l => l.name },
      { label: 'Kind', cell: l => (isTag(l) ? 'tag' : 'global') },
      { label: 'Active', cell: l => (l.active ? 'yes' : 'no') },
      { label: 'Slots held', cell: l => `${l.active_slots} / ${l.limit}` },
      { label: 'Denied', cell: l => String(l.denied_slots) },
      { label: 'Limit', cell: limitEditor },
      { label: 'Actions', cell: actions },
    ], limits, 'Global and tag limits (tag limits are named tag:<tag>; Reset releases every slot a limit holds); deployment and pool limits show on their pages.'));
  }
  replace(body, list, h('h2', {}, 'New limit'), create);
  await load();
}

export function render(root) {
  return listPage(root, 'Concurrency limits', draw);
}
