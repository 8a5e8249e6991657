// Simple lists: concurrency limits, automations, variables, secret names.

import { h, replace, table, errorBox, fmtTime } from '../dom.js';
import { api, all } from '../api.js';

const json = (v) => { try { return JSON.stringify(v); } catch { return String(v); } };

const PAGES = {
  concurrency: {
    title: 'Concurrency limits',
    async load() {
      const limits = await all('/v2/concurrency_limits/filter', {}, { page: 200, max: 2000 });
      return table([
        { label: 'Name', cell: l => l.name },
        { label: 'Active', cell: l => (l.active ? 'yes' : 'no') },
        { label: 'Slots held', cell: l => `${l.active_slots} / ${l.limit}` },
        { label: 'Denied', cell: l => String(l.denied_slots) },
      ], limits, 'Global and tag limits (tag limits are named tag:<tag>); deployment and pool limits show on their pages.');
    },
  },
  automations: {
    title: 'Automations',
    async load() {
      const autos = await all('/automations/filter', {}, { page: 200, max: 2000 });
      return table([
        { label: 'Name', cell: a => a.name },
        { label: 'Enabled', cell: a => (a.enabled === false ? 'no' : 'yes') },
        { label: 'Trigger', cell: a => h('code', {}, json(a.trigger)) },
        { label: 'Actions', cell: a => h('code', {}, json(a.actions)) },
        { label: 'Updated', cell: a => fmtTime(a.updated) },
      ], autos);
    },
  },
  variables: {
    title: 'Variables',
    async load() {
      const vars = await all('/variables/filter', { sort: 'NAME_ASC' }, { page: 200, max: 5000 });
      return table([
        { label: 'Name', cell: v => v.name },
        { label: 'Value', cell: v => h('code', {}, json(v.value)) },
        { label: 'Tags', cell: v => (v.tags || []).join(', ') },
        { label: 'Updated', cell: v => fmtTime(v.updated) },
      ], vars);
    },
  },
  secrets: {
    title: 'Secrets',
    async load() {
      const names = await api('/secrets/');
      return table([{ label: 'Name', cell: n => n }], names, 'Names only: values are never sent to the UI.');
    },
  },
};

export async function render(root, { params }) {
  const page = PAGES[params[0]];
  const body = h('div', {}, 'Loading…');
  replace(root, h('h1', {}, page.title), body);
  try { replace(body, await page.load()); } catch (e) { replace(body, errorBox(e)); }
  return { title: page.title };
}
