// DOM helpers. Everything from the API is set with textContent or
// setAttribute, never parsed as HTML.

/** Builds an element: h('a', {href: '/x', class: 'c', onclick: f}, 'text', child). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v); // CSSOM: allowed by the CSP
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A local date-time, or an em dash. */
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString();
}

/** A duration in seconds, short: 850ms, 12.3s, 4m 05s, 2h 10m. */
export function fmtDuration(secs) {
  if (secs === undefined || secs === null || isNaN(secs)) return '—';
  if (secs < 1) return `${Math.round(secs * 1000)}ms`;
  if (secs < 60) return `${secs.toFixed(1)}s`;
  const m = Math.floor(secs / 60), s = Math.floor(secs % 60);
  if (m < 60) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** The colour of a state type (shared by badges, charts and the Gantt). */
export const STATE_COLORS = {
  SCHEDULED: '#d4a72c', PENDING: '#8c8c8c', RUNNING: '#3b82f6', COMPLETED: '#2f9e44',
  FAILED: '#e03131', CRASHED: '#c2255c', CANCELLING: '#868e96', CANCELLED: '#495057',
  PAUSED: '#7048e8',
};

export const STATE_TYPES = Object.keys(STATE_COLORS);

/** A state badge: its name, coloured by its type. */
export function stateBadge(type, name) {
  return h('span', { class: `badge st-${String(type || '').toLowerCase()}` }, name || type || '?');
}

/** A JSON value, pretty-printed in a <pre>. */
export function jsonBlock(value) {
  let text;
  try { text = JSON.stringify(value, null, 2); } catch { text = String(value); }
  return h('pre', { class: 'json' }, text === undefined ? 'null' : text);
}

/** An error message box. */
export function errorBox(err) {
  return h('p', { class: 'error', role: 'alert' }, String(err && err.message ? err.message : err));
}

/** A table from column specs [{label, cell: row => node|string}]. */
export function table(columns, rows, caption) {
  return h('table', {},
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, columns.map(c => h('th', { scope: 'col' }, c.label)))),
    h('tbody', {}, rows.length === 0
      ? h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, 'Nothing here yet.'))
      : rows.map(r => h('tr', {}, columns.map(c => h('td', {}, c.cell(r)))))));
}

/** A same-origin link the app routes without reloading. */
export function link(href, ...children) {
  return h('a', { href }, ...children);
}

/** How long ago `iso` was, short: "4 s ago", "3 min ago", "2 h ago", "5 d ago". */
export function fmtAgo(iso, now = Date.now()) {
  if (!iso) return '—';
  const t = new Date(iso).getTime();
  if (isNaN(t)) return String(iso);
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/**
 * Runs `fn` (which re-renders part of `container`) and puts the keyboard
 * focus back on the element with the same `data-focus` key, so a button
 * replaced by a re-render (Pause -> Resume) keeps the focus.
 */
export async function keepFocus(container, fn) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.getAttribute('data-focus') : null;
  await fn();
  if (key) {
    const all = [...container.querySelectorAll('[data-focus]')];
    const next = all.find(el => el.getAttribute('data-focus') === key);
    if (next && !next.disabled) next.focus();
    else all.find(el => !el.disabled)?.focus();
  }
}

/**
 * A button that runs `fn` (async), once at a time (aria-disabled while it
 * runs, not `disabled`, which would drop the keyboard focus); an error shows
 * after it.
 */
export function actionButton(label, fn, attrs = {}) {
  const btn = h('button', { type: 'button', class: 'secondary small', ...attrs, onclick: async () => {
    if (btn.getAttribute('aria-disabled') === 'true') return;
    btn.setAttribute('aria-disabled', 'true');
    btn.parentNode?.querySelector(':scope > .error')?.remove();
    try { await fn(btn); } catch (err) { btn.after(errorBox(err)); } finally { btn.removeAttribute('aria-disabled'); }
  } }, label);
  return btn;
}

/** A labelled form field: <label for=id>text</label> + input, in a `.field`. */
export function field(id, label, input, hint) {
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('small', { class: 'muted' }, hint) : null);
}

/** The local `datetime-local` value of an ISO time ("2024-05-01T10:00"). */
export function toLocalInput(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The ISO time of a `datetime-local` value (local time), or null. */
export function fromLocalInput(v) {
  if (!v) return null;
  const d = new Date(v);
  return isNaN(d) ? null : d.toISOString();
}
