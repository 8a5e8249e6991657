// Concurrency limits, automations, variables and secrets: each a list with
// its edits (create, change, delete) through the same REST API as the CLI.
// Secret values are write-only: the UI sends them and never reads one.

import { h, replace, table, errorBox, fmtTime, keepFocus, actionButton, field } from '../dom.js';
import { api, all } from '../api.js';

const json = (v) => { try { return JSON.stringify(v); } catch { return String(v); } };
const enc = encodeURIComponent;
const tagsOf = (text) => String(text || '').split(',').map(t => t.trim()).filter(Boolean);

/** A form: `fields` then a submit button; `submit(form)` runs on submit, errors shown in its status. */
function form(label, fields, submitLabel, submit, extra = {}) {
  const status = h('div', { role: 'status', 'aria-live': 'polite' });
  const el = h('form', { class: 'edit-form', 'aria-label': label, ...extra, onsubmit: async (e) => {
    e.preventDefault();
    status.replaceChildren();
    if (el.getAttribute('aria-busy') === 'true') return;
    el.setAttribute('aria-busy', 'true');
    try { const msg = await submit(); if (msg) status.textContent = msg; } catch (err) { replace(status, errorBox(err)); } finally { el.removeAttribute('aria-busy'); }
  } }, fields, h('div', { class: 'actions' }, h('button', { type: 'submit' }, submitLabel)), status);
  return el;
}

/** A JSON value from a text field: JSON if it parses, else the text itself (a string). */
function parseValue(text) {
  const t = String(text);
  if (t.trim() === '') throw new Error('Give a value.');
  try { return JSON.parse(t); } catch { return t; }
}

// ------------------------------------------------------------ concurrency

async function concurrency(body, say) {
  const list = h('div', {}, 'Loading…');
  const kindSel = h('select', {}, h('option', { value: 'global' }, 'global limit'), h('option', { value: 'tag' }, 'tag limit (task runs with the tag)'));
  const nameIn = h('input', { type: 'text', required: true, spellcheck: 'false' });
  const limitIn = h('input', { type: 'number', min: '0', step: '1', required: true });
  const create = form('New concurrency limit', h('div', { class: 'filters' },
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

  async function load() {
    const limits = await all('/v2/concurrency_limits/filter', {}, { page: 200, max: 2000 });
    replace(list, table([
      { label: 'Name', cell: l => l.name },
      { label: 'Kind', cell: l => (l.name.startsWith('tag:') ? 'tag' : 'global') },
      { label: 'Active', cell: l => (l.active ? 'yes' : 'no') },
      { label: 'Slots held', cell: l => `${l.active_slots} / ${l.limit}` },
      { label: 'Denied', cell: l => String(l.denied_slots) },
      { label: 'Limit', cell: l => {
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
      } },
      { label: 'Actions', cell: l => h('div', { class: 'actions' },
        actionButton(l.active ? 'Deactivate' : 'Activate', async () => {
          await api(`/v2/concurrency_limits/${l.id}`, { active: !l.active }, { method: 'PATCH' });
          say(`${l.name} ${l.active ? 'deactivated' : 'activated'}.`);
          await keepFocus(list, load);
        }, { 'data-focus': `active-${l.id}`, 'aria-label': `${l.active ? 'Deactivate' : 'Activate'} ${l.name}` }),
        l.name.startsWith('tag:') ? actionButton('Reset', async () => {
          await api(`/concurrency_limits/tag/${enc(l.name.slice(4))}/reset`, {});
          say(`Every slot of ${l.name} released.`);
          await keepFocus(list, load);
        }, { 'data-focus': `reset-${l.id}`, 'aria-label': `Reset ${l.name}`, title: 'Release every slot held' }) : null,
        actionButton('Delete', async () => {
          if (!confirm(`Delete the concurrency limit ${l.name}?`)) return;
          await api(`/v2/concurrency_limits/${l.id}`, undefined, { method: 'DELETE' });
          say(`${l.name} deleted.`);
          await load();
          nameIn.focus();
        }, { 'aria-label': `Delete ${l.name}` })) },
    ], limits, 'Global and tag limits (tag limits are named tag:<tag>; Reset releases a tag limit\'s slots); deployment and pool limits show on their pages.'));
  }
  replace(body, list, h('h2', {}, 'New limit'), create);
  await load();
}

// ------------------------------------------------------------ automations

const EXAMPLE_AUTOMATION = {
  name: 'notify-on-failure',
  trigger: { type: 'event', match: { 'prefect.resource.id': 'prefect.flow-run.*' }, expect: ['prefect.flow-run.Failed'], posture: 'Reactive', threshold: 1, within: 0 },
  actions: [{ type: 'call-webhook', url: 'http://127.0.0.1:9/hook' }],
};

async function automations(body, say) {
  const list = h('div', {}, 'Loading…');
  const text = h('textarea', { rows: '10', spellcheck: 'false', placeholder: JSON.stringify(EXAMPLE_AUTOMATION, null, 2) });
  const create = form('New automation', field('auto-json', 'Automation (JSON: name, trigger, actions)', text,
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

// ------------------------------------------------------------ variables

async function variables(body, say) {
  const list = h('div', {}, 'Loading…');
  const editBox = h('div');
  const nameIn = h('input', { type: 'text', required: true, spellcheck: 'false' });
  const valueIn = h('textarea', { rows: '2', spellcheck: 'false' });
  const tagsIn = h('input', { type: 'text', placeholder: 'a, b' });
  const create = form('New variable', [
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
    const el = form(`Edit variable ${v.name}`, [h('h3', {}, `Edit ${v.name}`),
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

// ------------------------------------------------------------ secrets

async function secrets(body, say) {
  const list = h('div', {}, 'Loading…');
  const nameIn = h('input', { type: 'text', required: true, spellcheck: 'false', autocomplete: 'off' });
  const valueIn = h('input', { type: 'password', required: true, autocomplete: 'new-password' });
  const set = form('Set a secret', h('div', { class: 'filters' },
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

const PAGES = {
  concurrency: { title: 'Concurrency limits', render: concurrency },
  automations: { title: 'Automations', render: automations },
  variables: { title: 'Variables', render: variables },
  secrets: { title: 'Secrets', render: secrets },
};

export async function render(root, { params }) {
  const page = PAGES[params[0]];
  const status = h('p', { role: 'status', 'aria-live': 'polite', class: 'muted' });
  const body = h('div', {}, 'Loading…');
  replace(root, h('h1', {}, page.title), status, body);
  const say = (text) => { status.textContent = text; };
  try { await page.render(body, say); } catch (e) { replace(body, errorBox(e)); }
  return { title: page.title };
}
