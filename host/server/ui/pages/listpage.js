// What the list-and-edit pages (concurrency limits, automations, variables,
// secrets) share: the page frame with its status line, and a form whose
// errors show in its own status.

import { h, replace, errorBox } from '../dom.js';

/** JSON text of a value, or its string when it has none. */
export const json = (v) => { try { return JSON.stringify(v); } catch { return String(v); } };

/** A form: `fields` then a submit button; `submit()` runs on submit, its message or error shown in its status. */
export function editForm(label, fields, submitLabel, submit, extra = {}) {
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

/**
 * Renders a list page into `root`: its heading, a polite status line and a
 * body that `draw(body, say)` fills (`say(text)` sets the status); an error
 * from `draw` shows in the body.
 */
export async function listPage(root, title, draw) {
  const status = h('p', { role: 'status', 'aria-live': 'polite', class: 'muted' });
  const body = h('div', {}, 'Loading…');
  replace(root, h('h1', {}, title), status, body);
  const say = (text) => { status.textContent = text; };
  try { await draw(body, say); } catch (e) { replace(body, errorBox(e)); }
  return { title };
}
