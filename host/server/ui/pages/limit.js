// The concurrency-limit editor of a work pool's and a deployment's page: a
// number field (empty: unlimited), Save and a polite status. An empty field
// sends `concurrency_limit: null`, which removes the limit.

import { h, replace, errorBox, field } from '../dom.js';

/** A limit as shown: its number, or "unlimited". */
export function limitText(n) {
  return n === null || n === undefined ? 'unlimited' : String(n);
}

/**
 * The editor: `save(n)` (n a whole number or null) stores it and answers the
 * limit now stored. Returns `{el, set(n)}`; `set` fills the field.
 */
export function limitEditor(id, label, save) {
  const input = h('input', { type: 'number', min: '0', step: '1', placeholder: 'unlimited' });
  const status = h('div', { role: 'status', 'aria-live': 'polite' });
  const set = (n) => { input.value = n ?? ''; };
  const form = h('form', { class: 'filters', onsubmit: async (e) => {
    e.preventDefault();
    status.replaceChildren();
    if (form.getAttribute('aria-busy') === 'true') return;
    const v = input.value.trim();
    const n = v === '' ? null : Number(v);
    if (n !== null && (!Number.isInteger(n) || n < 0)) { replace(status, errorBox('The limit is a whole number, 0 or more (empty: unlimited).')); return; }
    form.setAttribute('aria-busy', 'true');
    try {
      const saved = await save(n);
      set(saved);
      status.textContent = `Concurrency limit saved: ${limitText(saved)}.`;
    } catch (err) { replace(status, errorBox(err)); } finally { form.removeAttribute('aria-busy'); }
  } }, field(id, label, input), h('button', { type: 'submit' }, 'Save limit'));
  return { el: h('div', {}, form, status), set };
}
