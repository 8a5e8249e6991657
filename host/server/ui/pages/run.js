// One flow run: states, parameters, result, task runs (canvas Gantt), logs
// (every line: paged from the server as the view nears its end, drawn as a
// window of rows, tailed live while the run runs), Cancel, Retry and Run
// again.

import { h, replace, stateBadge, fmtTime, fmtDuration, jsonBlock, errorBox, keepFocus } from '../dom.js';
import { api, all } from '../api.js';
import { resourceIds } from '../live.js';
import { gantt } from './gantt.js';

const LEVELS = { 10: 'DEBUG', 20: 'INFO', 30: 'WARNING', 40: 'ERROR', 50: 'CRITICAL' };
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CRASHED', 'CANCELLED']);
const MAX_TASKS = 20000;
/** Log lines per request, and the height of one row of the log view (px; see .logs.virtual in style.css). */
const LOG_PAGE = 1000, ROW = 20;

function levelName(n) { return LEVELS[n] || `L${n}`; }

export async function render(root, { params, navigate }) {
  const id = params[0];
  const header = h('div', { class: 'run-head' });
  const actions = h('div', { class: 'actions' });
  const message = h('p', { role: 'status', 'aria-live': 'polite', class: 'muted' });
  const overview = h('div', { class: 'grid2' });
  const states = h('section', { 'aria-labelledby': 'h-states' });
  const taskSummary = h('p', { class: 'muted' });
  const detail = h('div', { class: 'task-detail', 'aria-live': 'polite' }, 'Select a task run (click, or focus the chart and use the arrow keys).');
  const chart = gantt((r) => replace(detail,
    h('strong', {}, r.name), ' ', stateBadge(r.state_type, r.state_name),
    ` · runs ${r.run_count}${r.run_count > 1 ? ` (${r.run_count - 1} retr${r.run_count === 2 ? 'y' : 'ies'})` : ''}`,
    r.state_name === 'Cached' ? ' · cache hit' : '',
    ` · ${fmtDuration(r.total_run_time || r.estimated_run_time)}`,
    r.cache_key ? ` · cache key ${r.cache_key}` : '',
    r.state && r.state.message ? h('div', {}, r.state.message) : null));
  const levelSel = h('select', { id: 'log-level' },
    Object.entries(LEVELS).map(([v, l]) => h('option', { value: v }, `${l} and above`)));
  levelSel.value = '10';
  const follow = h('input', { type: 'checkbox', id: 'log-follow', checked: true });
  const logs = logView(follow);
  replace(root, header, actions, message, overview,
    states,
    h('section', { 'aria-labelledby': 'h-tasks' }, h('h2', { id: 'h-tasks' }, 'Task runs'), taskSummary, chart.el, detail),
    h('section', { 'aria-labelledby': 'h-logs' },
      h('h2', { id: 'h-logs' }, 'Logs'),
      h('div', { class: 'filters' },
        h('label', { for: 'log-level' }, h('span', {}, 'Level'), levelSel),
        h('label', { for: 'log-follow', class: 'inline' }, follow, ' follow')),
      logs.el, logs.summary));

  let run = null, timer = null, disposed = false;

  async function act(label, body) {
    message.textContent = `${label}…`;
    try {
      const res = await api(`/flow_runs/${id}/set_state`, body);
      message.textContent = res && res.status && res.status !== 'ACCEPT'
        ? `${label}: ${res.status}${res.details && res.details.reason ? ` (${res.details.reason})` : ''}`
        : `${label}: done.`;
      await keepFocus(actions, refresh);
    } catch (e) { message.textContent = String(e.message || e); }
  }

  // Run again: a new run of the deployment with the same parameters. (Retry
  // instead sets this same run to AwaitingRetry, forced; a worker of its
  // pool claims it again, as a Prefect worker does.)
  async function rerun() {
    message.textContent = 'Creating a new run…';
    try {
      const next = await api(`/deployments/${run.deployment_id}/create_flow_run`,
        { parameters: run.parameters });
      navigate(`/runs/${next.id}`);
    } catch (e) { message.textContent = String(e.message || e); }
  }

  function drawHeader() {
    replace(header, h('h1', {}, run.name, ' ', stateBadge(run.state_type, run.state_name)),
      h('p', { class: 'muted' }, `Flow ${run.flow_name}`,
        run.deployment_name ? ` · deployment ${run.deployment_name}` : '',
        run.work_pool_name ? ` · pool ${run.work_pool_name}` : '',
        (run.tags || []).length ? ` · tags ${run.tags.join(', ')}` : ''));
    const terminal = TERMINAL.has(run.state_type);
    replace(actions,
      h('button', { type: 'button', 'data-focus': 'cancel', disabled: terminal || run.state_type === 'CANCELLING',
        onclick: () => act('Cancel', { state: { type: 'CANCELLING', message: 'Cancelled from the UI' } }) }, 'Cancel'),
      h('button', { type: 'button', class: 'secondary', 'data-focus': 'retry', disabled: !terminal,
        title: run.work_pool_name
          ? `Schedule this same run again (AwaitingRetry): a worker of pool ${run.work_pool_name} claims and runs it`
          : 'Schedule this same run again (AwaitingRetry); it has no work pool, so no worker claims it',
        onclick: () => act('Retry', { state: { type: 'SCHEDULED', name: 'AwaitingRetry', message: 'Retried from the UI' }, force: true }) }, 'Retry'),
      h('button', { type: 'button', class: 'secondary', 'data-focus': 'rerun', disabled: !terminal || !run.deployment_id,
        title: run.deployment_id ? 'A new run of the same deployment with the same parameters' : 'Only runs of a deployment can be run again',
        onclick: () => rerun() }, 'Run again'));
    replace(overview,
      h('div', {}, h('h2', {}, 'Details'), h('dl', {},
        h('dt', {}, 'Id'), h('dd', {}, h('code', {}, run.id)),
        h('dt', {}, 'Expected start'), h('dd', {}, fmtTime(run.expected_start_time)),
        h('dt', {}, 'Started'), h('dd', {}, fmtTime(run.start_time)),
        h('dt', {}, 'Ended'), h('dd', {}, fmtTime(run.end_time)),
        h('dt', {}, 'Run time'), h('dd', {}, fmtDuration(run.total_run_time || run.estimated_run_time)),
        h('dt', {}, 'Attempts'), h('dd', {}, String(run.run_count)),
        h('dt', {}, 'Component'), h('dd', {}, h('code', {}, (run.component_digest || '').slice(0, 16))))),
      h('div', {}, h('h2', {}, 'Parameters'), jsonBlock(run.parameters),
        h('h2', {}, 'Result'), run.state && run.state.data !== undefined && run.state.data !== null
          ? jsonBlock(run.state.data) : h('p', { class: 'muted' }, run.state && run.state.message ? run.state.message : 'No result yet.')));
  }

  async function loadStates() {
    const list = await api(`/flow_runs/${id}/states`);
    replace(states, h('h2', { id: 'h-states' }, 'States'),
      h('ol', { class: 'timeline' }, list.map(s => h('li', {},
        stateBadge(s.type, s.name), ' ', h('time', { datetime: s.timestamp }, fmtTime(s.timestamp)),
        s.message ? h('span', { class: 'muted' }, ` — ${s.message}`) : null))));
  }

  async function loadTasks() {
    const tasks = await all('/task_runs/filter',
      { task_runs: { flow_run_id: { any_: [id] } }, sort: 'EXPECTED_START_TIME_ASC' },
      { page: 2000, max: MAX_TASKS });
    const by = {};
    let retried = 0, cached = 0;
    for (const t of tasks) {
      by[t.state_name] = (by[t.state_name] || 0) + 1;
      if (t.run_count > 1) retried++;
      if (t.state_name === 'Cached') cached++;
    }
    taskSummary.textContent = `${tasks.length.toLocaleString()} task run${tasks.length === 1 ? '' : 's'}`
      + (tasks.length >= MAX_TASKS ? ` (first ${MAX_TASKS.toLocaleString()} shown)` : '')
      + (tasks.length ? ': ' + Object.entries(by).map(([k, v]) => `${v.toLocaleString()} ${k}`).join(', ') : '')
      + ` · ${retried} retried · ${cached} cache hits`;
    chart.set(tasks);
  }

  let logLoading = null;
  function loadLogs() {
    logLoading ||= logs.fetch(id, parseInt(levelSel.value, 10)).finally(() => { logLoading = null; });
    return logLoading;
  }
  logs.onNeed(() => loadLogs().catch(e => logs.error(e)));

  levelSel.addEventListener('change', async () => {
    try { await logLoading; } catch { /* reloaded below */ }
    logs.reset();
    loadLogs().catch(e => logs.error(e));
  });

  // Task runs are re-read at most every 5 s (a big fan-out sends an event
  // per task state), and once more when the run finishes.
  let tasksAt = 0, tasksTimer = null, wasTerminal = false;
  function reloadTasks() {
    const terminal = run && TERMINAL.has(run.state_type);
    const due = 5000 - (Date.now() - tasksAt);
    clearTimeout(tasksTimer);
    if (due <= 0 || (terminal && !wasTerminal)) {
      wasTerminal = terminal;
      tasksAt = Date.now();
      return loadTasks();
    }
    tasksTimer = setTimeout(() => { if (!disposed) reloadTasks().catch(() => {}); }, due);
    return null;
  }

  async function refresh() {
    try {
      run = await api(`/flow_runs/${id}`);
      drawHeader();
      await Promise.all([loadStates(), reloadTasks(), loadLogs()]);
    } catch (e) {
      replace(message, errorBox(e));
    }
    tail();
  }

  // Log lines send no events: tail them every 2 s while the run is not
  // finished (state changes arrive as events and call `refresh`).
  function tail() {
    clearTimeout(timer);
    if (disposed || !run || TERMINAL.has(run.state_type)) return;
    timer = setTimeout(async () => {
      try { await loadLogs(); } catch { /* next tick */ }
      tail();
    }, 2000);
  }
  await refresh();
  return {
    title: run ? run.name : 'Flow run',
    relevant: (ev) => resourceIds(ev).some(r => r.endsWith(id)),
    refresh,
    dispose() { disposed = true; clearTimeout(timer); clearTimeout(tasksTimer); chart.dispose(); logs.dispose(); },
  };
}


/**
 * The log view: every line of a run's logs, fetched a page at a time
 * (`POST /api/logs/filter`, offset and limit) when the view nears the end of
 * what it holds (or always, while `follow` is checked), and drawn as a window
 * of fixed-height rows over a spacer, so 100,000 lines cost as much DOM as 50.
 * A message of several lines takes a row per line.
 */
function logView(follow) {
  const spacer = h('div', { class: 'log-spacer' });
  const el = h('div', { class: 'logs virtual', tabindex: '0', role: 'log', 'aria-label': 'Logs', 'aria-live': 'off' }, spacer);
  const summary = h('p', { class: 'muted log-summary' });
  let rows = [], records = 0, more = true, failed = null, need = () => {}, frame = 0, shown = [-1, -1];

  function draw() {
    frame = 0;
    spacer.style.height = `${Math.max(rows.length * ROW, 1)}px`;
    const first = Math.max(0, Math.floor(el.scrollTop / ROW) - 20);
    const last = Math.min(rows.length, first + Math.ceil((el.clientHeight || 400) / ROW) + 40);
    if (first !== shown[0] || last !== shown[1] || spacer.childElementCount !== last - first) {
      shown = [first, last];
      const frag = document.createDocumentFragment();
      for (let i = first; i < last; i++) {
        const r = rows[i];
        const row = r.cont
          ? h('div', { class: `log cont lv-${r.lv.toLowerCase()}` }, h('span', { class: 'msg' }, r.text))
          : h('div', { class: `log lv-${r.lv.toLowerCase()}` },
            h('time', { datetime: r.ts }, r.time), ' ', h('span', { class: 'lv' }, r.lv), ' ', h('span', { class: 'msg' }, r.text));
        row.style.top = `${i * ROW}px`;
        frag.append(row);
      }
      spacer.replaceChildren(frag);
    }
    if (!rows.length) spacer.replaceChildren(h('p', { class: 'muted' }, failed ? '' : more ? 'Loading logs…' : 'No logs.'));
    summary.textContent = `${records.toLocaleString()} log line${records === 1 ? '' : 's'}${more && records ? ' loaded; more load as you scroll down' : ''}.`;
  }
  const schedule = () => { if (!frame) frame = requestAnimationFrame(draw); };
  const nearEnd = () => el.scrollTop + el.clientHeight >= rows.length * ROW - 3 * Math.max(el.clientHeight, 200);

  el.addEventListener('scroll', () => {
    schedule();
    if (more && nearEnd()) need();
  });

  return {
    el, summary,
    onNeed(fn) { need = fn; },
    /** Fetches the next pages of `id`'s logs at `level` and above, while wanted. */
    async fetch(id, level) {
      do {
        const batch = await api('/logs/filter', { logs: { flow_run_id: { any_: [id] }, level: { ge_: level } },
          sort: 'TIMESTAMP_ASC', offset: records, limit: LOG_PAGE });
        failed = null;
        for (const l of batch) {
          const lv = levelName(l.level), ts = l.timestamp, time = new Date(ts).toLocaleTimeString();
          String(l.message ?? '').split('\n').forEach((text, i) => rows.push({ lv, ts, time, text, cont: i > 0 }));
        }
        records += batch.length;
        more = batch.length === LOG_PAGE;
        draw();
        if (follow.checked && batch.length) el.scrollTop = el.scrollHeight;
      } while (more && (follow.checked || nearEnd()));
    },
    reset() { rows = []; records = 0; more = true; failed = null; el.scrollTop = 0; draw(); },
    error(e) { failed = e; draw(); spacer.replaceChildren(errorBox(e)); },
    dispose() { if (frame) cancelAnimationFrame(frame); },
  };
}
