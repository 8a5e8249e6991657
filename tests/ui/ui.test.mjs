// Browser tests of the web UI: a real `weft server start` (target/release/weft)
// over a fresh SQLite home, driven through Debian's chromium by playwright-core.
// Run with `npm test` here, or by ./dev/test.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWeft } from './harness.mjs';

const TASKS = 10000;
let weft, base, api, open, errors, runId, runName;

async function parallel(n, count, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < count) await fn(next++);
  }));
}

before(async () => {
  weft = await startWeft('ui', ['--no-scheduler']);
  ({ base, api, open, errors } = weft);
  // A running flow run with TASKS task runs and a few log lines.
  const flow = await api('/flows/', { name: 'ui-flow', tags: [], labels: {} });
  const run = await api('/flow_runs/', { flow_id: flow.id, parameters: { n: 3 }, tags: ['ui'],
    state: { type: 'PENDING', name: 'Pending' } });
  runId = run.id; runName = run.name;
  await api(`/flow_runs/${runId}/set_state`, { state: { type: 'RUNNING', name: 'Running' } });
  await parallel(8, TASKS, (i) => api('/task_runs/', { flow_run_id: runId, task_key: 'work', dynamic_key: String(i),
    name: `work-${i}`, state: { type: 'COMPLETED', name: i % 10 === 0 ? 'Cached' : 'Completed' } }));
  await api('/logs/', [10, 20, 30, 40].map((level, i) => ({ name: 'ui', level, message: `line ${i} <b>not html</b>`,
    timestamp: new Date().toISOString(), flow_run_id: runId })));
});

after(async () => { await weft?.stop(); });

test('every page renders without errors', async () => {
  for (const [path, heading] of [['/', 'Dashboard'], ['/runs', 'Flow runs'], ['/deployments', 'Deployments'],
    ['/components', 'Components'], ['/work-pools', 'Work pools'], ['/concurrency', 'Concurrency limits'],
    ['/automations', 'Automations'], ['/variables', 'Variables'], ['/secrets', 'Secrets']]) {
    const page = await open(path);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: 10000 });
    await page.waitForFunction(() => !document.querySelector('main').textContent.includes('Loading…'), null, { timeout: 15000 });
    assert.equal(await page.locator('main .error').count(), 0, `${path} shows an error: ${await page.locator('main').innerText()}`);
    await page.close();
  }
  assert.deepEqual(errors, []);
});

test('the runs list filters on the server and links to the run', async () => {
  const page = await open('/runs?tag=ui');
  await page.getByRole('link', { name: runName }).waitFor();
  assert.match(await page.locator('main').innerText(), /1 run · page 1 of 1/);
  await page.goto(`${base}/runs?tag=nope`);
  await page.getByText('0 runs').waitFor();
  await page.close();
  assert.deepEqual(errors, []);
});

test('a run of 10,000 task runs opens, is keyboard-usable and updates live', async () => {
  const started = Date.now();
  const page = await open(`/runs/${runId}`);
  await page.getByText(`${TASKS.toLocaleString('en-US')} task runs`).waitFor({ timeout: 30000 });
  const took = Date.now() - started;
  assert.ok(took < 20000, `opening the run took ${took} ms`);
  // Logs are text, never HTML.
  await page.getByText('line 1 <b>not html</b>').waitFor();
  // The Gantt by keyboard.
  await page.locator('canvas.gantt-canvas').focus();
  await page.keyboard.press('End');
  await page.locator('.task-detail').getByText(`work-${TASKS - 1}`).waitFor();
  // The main thread stays responsive while scrolling the chart.
  const frame = await page.evaluate(async () => {
    const box = document.querySelector('.gantt-scroll');
    const t = performance.now();
    for (let i = 0; i < 20; i++) { box.scrollTop = i * 5000; await new Promise(requestAnimationFrame); }
    return (performance.now() - t) / 20;
  });
  assert.ok(frame < 200, `a frame took ${frame} ms`);
  // A state change arrives through /api/events/stream without a reload.
  await api(`/flow_runs/${runId}/set_state`, { state: { type: 'COMPLETED', name: 'Completed' } });
  await page.getByRole('heading', { level: 1 }).getByText('Completed').waitFor({ timeout: 20000 });
  await page.close();
  assert.deepEqual(errors, []);
});

test('the navigation works from the keyboard', async () => {
  const page = await open('/');
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  await page.keyboard.press('Tab'); // skip link
  await page.keyboard.press('Tab'); // brand
  await page.keyboard.press('Tab'); // Dashboard
  await page.keyboard.press('Tab'); // Flow runs
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Flow runs');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Flow runs' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/runs');
  await page.close();
  assert.deepEqual(errors, []);
});
