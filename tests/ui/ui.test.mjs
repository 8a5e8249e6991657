// Browser tests of the web UI: a real `weft server start` (target/release/weft)
// over a fresh SQLite home, driven through Debian's chromium by playwright-core.
// Run with `npm test` here, or by ./dev/test.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import net from 'node:net';
import { chromium } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '../..');
const TASKS = 10000;
let server, base, browser, home, profile, runId, runName;
const errors = [];

function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    }).on('error', fail);
  });
}

async function api(path, body, method) {
  const resp = await fetch(`${base}/api${path}`, {
    method: method || (body === undefined ? 'GET' : 'POST'),
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  if (!resp.ok) throw new Error(`${path}: ${resp.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function parallel(n, count, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < count) await fn(next++);
  }));
}

before(async () => {
  home = mkdtempSync(join(tmpdir(), 'weft-ui-home-'));
  profile = mkdtempSync(join(tmpdir(), 'weft-ui-chromium-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(join(ROOT, 'target/release/weft'), ['server', 'start', '--port', String(port), '--no-scheduler'], {
    env: { ...process.env, WEFT_HOME: home, HOME: home, WEFT_API_URL: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; ; i++) {
    try { await api('/health'); break; } catch (e) {
      if (i > 100) throw e;
      await new Promise(r => setTimeout(r, 100));
    }
  }
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
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1366, height: 768 },
  });
  // No request may leave the server.
  await browser.route('**/*', (route) => {
    if (route.request().url().startsWith(base)) return route.continue();
    errors.push(`external request ${route.request().url()}`);
    return route.abort();
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  rmSync(home, { recursive: true, force: true });
  rmSync(profile, { recursive: true, force: true });
});

async function open(path) {
  const page = await browser.newPage();
  page.on('pageerror', (e) => errors.push(`${path}: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`${path}: console ${m.text()}`); });
  await page.goto(`${base}${path}`);
  return page;
}

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
