// A form generated from a JSON schema of parameters (the flow's
// parameter schema): one field per property, typed by the schema.

import { h } from '../dom.js';

/** A form for `schema` with `values` filled in; `read()` gives the parameters or throws. */
export function schemaForm(schema, values = {}) {
  const props = (schema && typeof schema === 'object' && schema.properties) || {};
  const required = new Set((schema && schema.required) || []);
  const fields = [];
  const names = Object.keys(props).length ? Object.keys(props) : Object.keys(values || {});
  let n = 0;
  const el = h('div', { class: 'schema-form' });
  for (const name of names) {
    const p = props[name] || {};
    const type = Array.isArray(p.type) ? p.type.find(t => t !== 'null') : p.type;
    const id = `param-${n++}`;
    const initial = values && name in values ? values[name] : p.default;
    let input, read;
    if (Array.isArray(p.enum)) {
      input = h('select', { id }, p.enum.map((v, i) => h('option', { value: String(i) }, JSON.stringify(v))));
      const at = p.enum.findIndex(v => JSON.stringify(v) === JSON.stringify(initial));
      input.value = String(at < 0 ? 0 : at);
      read = () => p.enum[parseInt(input.value, 10)];
    } else if (type === 'boolean') {
      input = h('input', { id, type: 'checkbox', checked: !!initial });
      read = () => input.checked;
    } else if (type === 'integer' || type === 'number') {
      input = h('input', { id, type: 'number', step: type === 'integer' ? '1' : 'any', value: initial ?? '' });
      read = () => {
        if (input.value === '') return undefined;
        const v = Number(input.value);
        if (Number.isNaN(v) || (type === 'integer' && !Number.isInteger(v))) throw new Error(`${name}: expected ${type === 'integer' ? 'an integer' : 'a number'}`);
        return v;
      };
    } else if (type === 'string') {
      input = h('input', { id, type: 'text', value: initial ?? '' });
      read = () => (input.value === '' && !required.has(name) ? undefined : input.value);
    } else {
      input = h('textarea', { id, rows: '3', spellcheck: 'false' }, initial === undefined ? '' : JSON.stringify(initial, null, 2));
      read = () => {
        if (input.value.trim() === '') return undefined;
        try { return JSON.parse(input.value); } catch { throw new Error(`${name}: not valid JSON`); }
      };
    }
    fields.push({ name, read });
    el.append(h('div', { class: 'field' },
      h('label', { for: id }, name, required.has(name) ? h('span', { class: 'req', title: 'required' }, ' *') : null,
        type ? h('span', { class: 'muted' }, ` (${type})`) : null),
      input,
      p.description ? h('small', { class: 'muted' }, p.description) : null));
  }
  // Parameters the schema does not name: raw JSON, for flows without a schema.
  const extraId = `param-${n++}`;
  const extra = h('textarea', { id: extraId, rows: '3', spellcheck: 'false', placeholder: '{}' });
  el.append(h('div', { class: 'field' }, h('label', { for: extraId }, 'Other parameters (JSON object)'), extra));
  return {
    el,
    read() {
      const out = {};
      for (const f of fields) {
        const v = f.read();
        if (v === undefined) {
          if (required.has(f.name)) throw new Error(`${f.name} is required`);
        } else out[f.name] = v;
      }
      if (extra.value.trim()) {
        let more;
        try { more = JSON.parse(extra.value); } catch { throw new Error('Other parameters: not valid JSON'); }
        if (!more || typeof more !== 'object' || Array.isArray(more)) throw new Error('Other parameters: expected a JSON object');
        Object.assign(out, more);
      }
      return out;
    },
  };
}
