// A Gantt chart of task runs on a canvas: only the rows in view are drawn,
// so 10,000 task runs scroll smoothly. Keyboard: focus it, then Up/Down
// (Page Up/Down, Home/End) select a task run; its details are announced.

import { h, STATE_COLORS, fmtDuration } from '../dom.js';

const ROW = 20, LABEL = 220, AXIS = 22, VIEW_ROWS = 20;

/** A Gantt of `runs` (TaskRunOut); `onSelect(run)` on selection. */
export function gantt(onSelect) {
  const canvas = h('canvas', { class: 'gantt-canvas', tabindex: '0', role: 'img',
    'aria-label': 'Task runs timeline. Use the arrow keys to select a task run.' });
  const spacer = h('div', { class: 'gantt-spacer' });
  const scroller = h('div', { class: 'gantt-scroll' }, canvas, spacer);
  const el = h('div', { class: 'gantt' }, scroller);
  let runs = [], t0 = 0, t1 = 1, selected = -1, frame = 0;

  const times = (r) => {
    const s = Date.parse(r.start_time || r.expected_start_time || r.created);
    const e = r.end_time ? Date.parse(r.end_time) : (r.state_type === 'RUNNING' ? Date.now() : s);
    return [s, Math.max(e, s)];
  };

  function draw() {
    frame = 0;
    const dpr = window.devicePixelRatio || 1;
    const width = scroller.clientWidth;
    const height = Math.min(scroller.clientHeight, AXIS + ROW * Math.max(runs.length, 1));
    if (canvas.width !== width * dpr || canvas.height !== height * dpr) {
      canvas.width = width * dpr; canvas.height = height * dpr;
      canvas.style.width = `${width}px`; canvas.style.height = `${height}px`;
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const css = getComputedStyle(el);
    const fg = css.color, grid = css.getPropertyValue('--grid') || '#ddd', sel = css.getPropertyValue('--sel') || '#ffe08a';
    ctx.clearRect(0, 0, width, height);
    ctx.font = '12px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    const span = Math.max(t1 - t0, 1), plot = Math.max(width - LABEL - 8, 10);
    const x = (t) => LABEL + ((t - t0) / span) * plot;
    // Axis: five ticks, relative to the first start.
    ctx.fillStyle = fg; ctx.strokeStyle = grid;
    for (let i = 0; i <= 4; i++) {
      const t = t0 + (span * i) / 4, px = x(t);
      ctx.beginPath(); ctx.moveTo(px, AXIS - 4); ctx.lineTo(px, height); ctx.stroke();
      ctx.textAlign = i === 4 ? 'right' : 'left';
      ctx.fillText(`+${fmtDuration((t - t0) / 1000)}`, px + (i === 4 ? -2 : 2), AXIS / 2);
    }
    ctx.textAlign = 'left';
    const first = Math.floor(scroller.scrollTop / ROW);
    const count = Math.ceil((height - AXIS) / ROW) + 1;
    for (let i = first; i < Math.min(runs.length, first + count); i++) {
      const r = runs[i], y = AXIS + (i - first) * ROW - (scroller.scrollTop % ROW);
      if (y + ROW < AXIS) continue;
      if (i === selected) { ctx.fillStyle = sel; ctx.fillRect(0, y, width, ROW); }
      const [s, e] = times(r);
      ctx.fillStyle = STATE_COLORS[r.state_type] || '#999';
      const bx = x(s), bw = Math.max(x(e) - bx, 2);
      ctx.fillRect(bx, y + 4, bw, ROW - 8);
      if (r.state_name === 'Cached') { ctx.strokeStyle = fg; ctx.setLineDash([3, 2]); ctx.strokeRect(bx, y + 4, bw, ROW - 8); ctx.setLineDash([]); }
      ctx.fillStyle = fg;
      const retries = r.run_count > 1 ? ` ↻${r.run_count - 1}` : '';
      ctx.save(); ctx.beginPath(); ctx.rect(0, y, LABEL - 6, ROW); ctx.clip();
      ctx.fillText(`${r.name}${retries}`, 4, y + ROW / 2);
      ctx.restore();
    }
    // Cover rows scrolled under the axis.
    ctx.fillStyle = css.backgroundColor || '#fff';
    ctx.fillRect(0, 0, LABEL, AXIS - 4);
  }
  const schedule = () => { if (!frame) frame = requestAnimationFrame(draw); };

  function select(i) {
    if (!runs.length) return;
    selected = Math.max(0, Math.min(runs.length - 1, i));
    const top = selected * ROW, view = scroller.clientHeight - AXIS;
    if (top < scroller.scrollTop) scroller.scrollTop = top;
    else if (top + ROW > scroller.scrollTop + view) scroller.scrollTop = top + ROW - view;
    schedule();
    onSelect(runs[selected]);
  }

  scroller.addEventListener('scroll', schedule, { passive: true });
  window.addEventListener('resize', schedule);
  canvas.addEventListener('keydown', (e) => {
    const page = Math.max(1, Math.floor((scroller.clientHeight - AXIS) / ROW) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, j: 1, k: -1 };
    if (e.key in moves) select((selected < 0 ? -1 : selected) + moves[e.key]);
    else if (e.key === 'Home') select(0);
    else if (e.key === 'End') select(runs.length - 1);
    else return;
    e.preventDefault();
  });
  canvas.addEventListener('click', (e) => {
    const rect = canvas.getBoundingClientRect();
    const y = e.clientY - rect.top - AXIS;
    if (y >= 0) select(Math.floor((y + scroller.scrollTop) / ROW));
  });

  return {
    el,
    /** Replaces the task runs shown (keeps the selection by id). */
    set(next) {
      const keep = selected >= 0 && runs[selected] ? runs[selected].id : null;
      runs = next;
      selected = keep ? runs.findIndex(r => r.id === keep) : -1;
      t0 = Infinity; t1 = -Infinity;
      for (const r of runs) { const [s, e] = times(r); if (s < t0) t0 = s; if (e > t1) t1 = e; }
      if (!isFinite(t0)) { t0 = Date.now(); t1 = t0 + 1; }
      scroller.style.height = `${AXIS + ROW * Math.min(Math.max(runs.length, 1), VIEW_ROWS)}px`;
      spacer.style.height = `${ROW * Math.max(0, runs.length - VIEW_ROWS)}px`;
      schedule();
    },
    dispose() { window.removeEventListener('resize', schedule); },
  };
}
