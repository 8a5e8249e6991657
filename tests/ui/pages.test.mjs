// Browser tests of the UI's detail and editing pages: a deployment's page
// (pause/resume, schedules, the Run form, its concurrency limit set and
// cleared, its runs), a work pool's page (pause, concurrency limit set and
// cleared, workers), the runs list's custom date range and the dashboard's,
// the edits of variables, concurrency limits (a global one reset with a slot
// held), automations and secrets, and a flow run's page (every log line
// reachable, Retry).
// A real `weft server start` over a fresh SQLite home, driven through
// Debian's chromium (the set-up of harness.mjs); data seeded through the
// REST API. Run with `node --test pages.test.mjs` here.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startWeft } from './harness.mjs';

const LOG_LINES = 6000;
let weft, base, call, api, open, errors;
let flow, dep, logRun, failedRun;

/** A flow run of `flow` at `type`/`name`, expected to start at `at` (ISO). */
async function runAt(at, type, name, extra = {}) {
  const run = await api('/flow_runs/', { flow_id: flow.id, parameters: {}, tags: [],
    state: { type: 'SCHEDULED', name: 'Scheduled', state_details: { scheduled_time: at } }, ...extra });
  if (type !== 'SCHEDULED') {
    await api(`/flow_runs/${run.id}/set_state`, { state: { type: 'RUNNING', name: 'Running' }, force: true });
    if (type !== 'RUNNING') await api(`/flow_runs/${run.id}/set_state`, { state: { type, name }, force: true });
  }
  return run;
}

before(async () => {
  // The tests provoke 422s (bad input, shown to the user) and the workers
  // route may answer 404 (not on every server yet): the browser logs those.
  weft = await startWeft('ui-pages', ['--no-scheduler'], { ignoreConsole: /status of (404|422) /, acceptDialogs: true });
  ({ base, call, api, open, errors } = weft);
  await api('/work_pools/', { name: 'pool-a', type: 'wasm' });
  flow = await api('/flows/', { name: 'pages-flow', tags: [], labels: {} });
  dep = await api('/deployments/', { name: 'nightly', flow_id: flow.id, work_pool_name: 'pool-a', tags: ['etl'],
    description: 'The nightly load', parameters: { n: 3 }, concurrency_limit: 2,
    schedules: [{ schedule: { interval: 3600 }, active: true }] });
  // 25 runs of the deployment (two pages of 20), one failed for Retry.
  for (let i = 0; i < 25; i++) {
    await runAt(new Date(Date.now() - (i + 1) * 60e3).toISOString(), 'COMPLETED', 'Completed',
      { deployment_id: dep.id, name: `dep-run-${String(i).padStart(2, '0')}` });
  }
  failedRun = await runAt(new Date().toISOString(), 'FAILED', 'Failed', { name: 'failed-run' });
  // A run with LOG_LINES log lines (more than the old cap of 5,000).
  logRun = await runAt(new Date().toISOString(), 'COMPLETED', 'Completed', { name: 'log-run' });
  const t0 = Date.now() - LOG_LINES * 10;
  for (let at = 0; at < LOG_LINES; at += 1000) {
    await api('/logs/', Array.from({ length: Math.min(1000, LOG_LINES - at) }, (_, j) => ({
      name: 'pages', level: 20, message: `log line ${at + j}`, timestamp: new Date(t0 + (at + j) * 10).toISOString(),
      flow_run_id: logRun.id })));
  }
});

// A failed test leaves its page open: close it, or its event stream holds
// one of the browser's few connections to the server.
afterEach(() => weft?.closePages());

after(() => weft?.stop());

const main = (page) => page.locator('main');
const focused = (page) => page.evaluate(() => document.activeElement && (document.activeElement.getAttribute('aria-label') || document.activeElement.textContent));

test('the deployments list links to the deployment page, which shows its settings', async () => {
  const page = await open('/deployments');
  await page.getByRole('link', { name: 'pages-flow/nightly' }).click();
  await page.getByRole('heading', { level: 1, name: /pages-flow\/nightly/ }).waitFor();
  assert.equal(new URL(page.url()).pathname, `/deployments/${dep.id}`);
  const text = await main(page).innerText();
  for (const want of ['pool-a', 'etl', 'The nightly load', 'at most 2 at once', '"n": 3', 'every 3600s']) {
    assert.ok(text.includes(want), `the page shows ${want}: ${text}`);
  }
  // Its runs, paged on the server: 25 runs, 20 a page.
  await page.getByText('25 runs · page 1 of 2').waitFor();
  assert.equal(await page.locator('.paged-runs tbody tr').count(), 20);
  await page.getByRole('button', { name: 'Older ›' }).click();
  await page.getByText('25 runs · page 2 of 2').waitFor();
  assert.equal(await page.locator('.paged-runs tbody tr').count(), 5);
  await page.getByRole('link', { name: 'dep-run-24' }).waitFor();
  await page.close();
  assert.deepEqual(errors, []);
});

test('a deployment pauses and resumes, by keyboard, and it persists', async () => {
  const page = await open(`/deployments/${dep.id}`);
  const pause = page.getByRole('button', { name: 'Pause', exact: true });
  await pause.focus();
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Resume', exact: true }).waitFor();
  assert.equal(await focused(page), 'Resume', 'the focus stays on the toggled button');
  assert.equal((await api(`/deployments/${dep.id}`)).paused, true);
  await page.reload();
  await page.getByRole('heading', { level: 1 }).getByText('paused').waitFor();
  await page.getByRole('button', { name: 'Resume', exact: true }).click();
  await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
  assert.equal((await api(`/deployments/${dep.id}`)).paused, false);
  await page.close();
  assert.deepEqual(errors, []);
});

test('schedules are added (cron and interval), paused, resumed and deleted', async () => {
  const page = await open(`/deployments/${dep.id}`);
  await page.getByRole('heading', { level: 1, name: /nightly/ }).waitFor();
  // A bad cron: the server's 422 is shown.
  await page.getByLabel('Cron expression or interval').fill('not a cron');
  await page.getByRole('button', { name: 'Add schedule' }).click();
  await page.locator('section .error').filter({ hasText: '422' }).waitFor();
  // A good one.
  await page.getByLabel('Cron expression or interval').fill('*/5 * * * *');
  await page.getByLabel('Time zone (optional)').fill('Europe/Paris');
  await page.getByRole('button', { name: 'Add schedule' }).click();
  await page.getByText('cron */5 * * * * (Europe/Paris)').waitFor();
  // An interval.
  await page.getByLabel('Kind').selectOption('interval');
  await page.getByLabel('Cron expression or interval').fill('600');
  await page.getByRole('button', { name: 'Add schedule' }).click();
  await page.getByText('every 600s').waitFor();
  let scheds = (await api(`/deployments/${dep.id}`)).schedules;
  assert.equal(scheds.length, 3);
  // Pause the cron one, by keyboard; the focus stays on its button.
  await page.getByRole('button', { name: 'Pause schedule cron */5 * * * * (Europe/Paris)' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Resume schedule cron */5 * * * * (Europe/Paris)' }).waitFor();
  assert.match(await focused(page), /^Resume schedule cron/);
  await page.reload();
  await page.getByRole('button', { name: 'Resume schedule cron */5 * * * * (Europe/Paris)' }).click();
  await page.getByRole('button', { name: 'Pause schedule cron */5 * * * * (Europe/Paris)' }).waitFor();
  // Delete the interval one.
  await page.getByRole('button', { name: 'Delete schedule every 600s' }).click();
  await page.getByText('every 600s').first().waitFor({ state: 'detached' }).catch(() => {});
  await page.waitForFunction(() => !document.querySelector('#h-schedules').parentNode.querySelector('table').textContent.includes('every 600s'));
  scheds = (await api(`/deployments/${dep.id}`)).schedules;
  assert.equal(scheds.length, 2);
  assert.ok(scheds.every(s => s.active));
  await page.close();
  assert.deepEqual(errors, []);
});

test('the Run form on the deployment page creates a run with the parameters given', async () => {
  const page = await open(`/deployments/${dep.id}`);
  await page.getByRole('button', { name: 'Run…' }).click();
  await page.getByRole('heading', { name: 'Run with parameters' }).waitFor();
  await page.getByLabel('Other parameters (JSON object)').fill('{"extra": "yes"}');
  await page.getByRole('button', { name: 'Create run' }).click();
  await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
  const id = new URL(page.url()).pathname.split('/').pop();
  const run = await api(`/flow_runs/${id}`);
  assert.equal(run.deployment_id, dep.id);
  assert.equal(run.parameters.extra, 'yes');
  await page.close();
  assert.deepEqual(errors, []);
});

test('a deployment\'s concurrency limit is changed, then cleared to unlimited, and it persists', async () => {
  const page = await open(`/deployments/${dep.id}`);
  await page.getByRole('heading', { level: 1, name: /nightly/ }).waitFor();
  const input = page.getByLabel('Concurrency limit (runs at once; empty: unlimited)');
  assert.equal(await input.inputValue(), '2');
  await input.fill('4');
  await page.getByRole('button', { name: 'Save limit' }).click();
  await page.getByText('Concurrency limit saved: 4.').waitFor();
  assert.equal((await api(`/deployments/${dep.id}`)).concurrency_limit, 4);
  await main(page).getByText('at most 4 at once').waitFor();
  // Cleared, by keyboard.
  await input.fill('');
  await input.press('Enter');
  await page.getByText('Concurrency limit saved: unlimited.').waitFor();
  assert.equal((await api(`/deployments/${dep.id}`)).concurrency_limit, null);
  await page.reload();
  await page.getByRole('heading', { level: 1, name: /nightly/ }).waitFor();
  assert.equal(await page.getByLabel('Concurrency limit (runs at once; empty: unlimited)').inputValue(), '');
  assert.match(await main(page).locator('dl').innerText(), /Concurrency limit\s+unlimited/);
  await page.close();
  assert.deepEqual(errors, []);
});

test('a work pool page: pause, concurrency limit, workers, runs', async () => {
  // A worker heartbeats: the server records it.
  await api('/work_pools/pool-a/workers/heartbeat', { name: 'worker-1', heartbeat_interval_seconds: 30 });
  await api('/work_pools/', { name: 'pool-empty', type: 'wasm' });
  const page = await open('/work-pools');
  // The list: names link to the pool's page; a Workers column counts those online.
  const row = page.getByRole('row', { name: /pool-a/ });
  await row.getByRole('cell', { name: '1 online' }).waitFor();
  await page.getByRole('row', { name: /pool-empty/ }).getByRole('cell', { name: '0 online' }).waitFor();
  await page.getByRole('link', { name: 'pool-a', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: /pool-a/ }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/work-pools/pool-a');
  await page.getByText(/\d+ runs? · page 1 of/).waitFor();
  const workers = page.locator('section', { has: page.getByRole('heading', { name: 'Workers' }) });
  await workers.getByRole('cell', { name: 'worker-1' }).waitFor();
  const text = await workers.innerText();
  assert.match(text, /ONLINE/);
  assert.match(text, /\d+ s ago|\d+ min ago/);
  assert.match(text, /30 s/);
  // Concurrency limit, edited and persisted.
  await page.getByLabel(/Concurrency limit/).fill('7');
  await page.getByRole('button', { name: 'Save limit' }).click();
  await page.getByText('Concurrency limit saved: 7.').waitFor();
  assert.equal((await api('/work_pools/pool-a')).concurrency_limit, 7);
  await page.reload();
  await page.getByRole('heading', { level: 1, name: /pool-a/ }).waitFor();
  assert.equal(await page.getByLabel(/Concurrency limit/).inputValue(), '7');
  // Cleared (an empty field): unlimited, and it persists.
  await page.getByLabel(/Concurrency limit/).fill('');
  await page.getByRole('button', { name: 'Save limit' }).click();
  await page.getByText('Concurrency limit saved: unlimited.').waitFor();
  assert.equal((await api('/work_pools/pool-a')).concurrency_limit, null);
  await page.reload();
  await page.getByRole('heading', { level: 1, name: /pool-a/ }).waitFor();
  assert.equal(await page.getByLabel(/Concurrency limit/).inputValue(), '');
  assert.match(await main(page).locator('dl').innerText(), /Concurrency limit\s+unlimited/);
  // Pause and resume by keyboard.
  await page.getByRole('button', { name: 'Pause', exact: true }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Resume', exact: true }).waitFor();
  assert.equal(await focused(page), 'Resume');
  assert.equal((await api('/work_pools/pool-a')).is_paused, true);
  await page.getByRole('button', { name: 'Resume', exact: true }).click();
  await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
  assert.equal((await api('/work_pools/pool-a')).is_paused, false);
  // A pool no worker has heartbeated to.
  await page.goto(`${base}/work-pools/pool-empty`);
  await page.getByRole('heading', { level: 1, name: /pool-empty/ }).waitFor();
  await page.getByText('No workers have heartbeated.').waitFor();
  await page.close();
  assert.deepEqual(errors, []);
});

test('the runs list filters by a custom date range kept in the URL', async () => {
  const pad = (n) => String(n).padStart(2, '0');
  const local = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  for (const [h, name] of [[9, 'old-09'], [11, 'old-11'], [15, 'old-15']]) {
    await runAt(new Date(2020, 0, 15, h, 30).toISOString(), h === 15 ? 'SCHEDULED' : 'COMPLETED', 'Completed', { name, tags: ['range'] });
  }
  const page = await open('/runs?tag=range');
  await page.getByText('3 runs · page 1 of 1').waitFor();
  await page.getByLabel('From', { exact: true }).fill(local(new Date(2020, 0, 15, 10, 0)));
  await page.getByLabel('To', { exact: true }).fill(local(new Date(2020, 0, 15, 16, 0)));
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByText('2 runs · page 1 of 1').waitFor();
  const q = new URL(page.url()).searchParams;
  assert.equal(q.get('from'), local(new Date(2020, 0, 15, 10, 0)));
  assert.equal(q.get('to'), local(new Date(2020, 0, 15, 16, 0)));
  await page.getByRole('link', { name: 'old-11' }).waitFor();
  await page.getByRole('link', { name: 'old-15' }).waitFor(); // a scheduled run, by its expected start
  assert.equal(await page.getByRole('link', { name: 'old-09' }).count(), 0);
  // The range survives a reload.
  await page.reload();
  await page.getByText('2 runs · page 1 of 1').waitFor();
  assert.equal(await page.getByLabel('From', { exact: true }).inputValue(), local(new Date(2020, 0, 15, 10, 0)));
  // The dashboard's custom range.
  await page.goto(`${base}/`);
  await page.getByLabel('Window').selectOption('custom');
  await page.getByLabel('From', { exact: true }).fill(local(new Date(2020, 0, 15, 0, 0)));
  await page.getByLabel('To', { exact: true }).fill(local(new Date(2020, 0, 15, 23, 59)));
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(/window=custom/);
  await page.getByText('As a table', { exact: true }).click();
  const totals = page.locator('table', { has: page.getByText('Runs in window') });
  await totals.getByRole('row', { name: /^COMPLETED 2$/ }).waitFor();
  await totals.getByRole('row', { name: /^SCHEDULED 1$/ }).waitFor();
  await totals.getByRole('row', { name: /^FAILED 0$/ }).waitFor();
  await page.close();
  assert.deepEqual(errors, []);
});

test('variables are created, edited and deleted', async () => {
  const page = await open('/variables');
  await page.getByRole('heading', { level: 1, name: 'Variables' }).waitFor();
  await page.getByLabel('Name').fill('threshold');
  await page.getByLabel('Value', { exact: true }).fill('42');
  await page.getByLabel('Tags (comma-separated)').fill('a, b');
  await page.getByRole('button', { name: 'Create variable' }).click();
  await page.getByRole('cell', { name: 'threshold', exact: true }).waitFor();
  let v = await api('/variables/name/threshold');
  assert.equal(v.value, 42);
  assert.deepEqual(v.tags, ['a', 'b']);
  // Edit by keyboard: the focus goes to the value, and back to Edit after Save.
  await page.getByRole('button', { name: 'Edit threshold' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Edit threshold' }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'var-edit-value');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('{"x": [1, 2]}');
  await page.locator('#var-edit-tags').fill('c');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Variable threshold saved.').waitFor();
  assert.equal(await focused(page), 'Edit threshold');
  await page.reload();
  await page.getByRole('cell', { name: '{"x":[1,2]}' }).waitFor();
  v = await api('/variables/name/threshold');
  assert.deepEqual(v.value, { x: [1, 2] });
  assert.deepEqual(v.tags, ['c']);
  await page.getByRole('button', { name: 'Delete threshold' }).click();
  await page.getByText('Variable threshold deleted.').waitFor();
  assert.equal((await call('/variables/name/threshold')).status, 404);
  await page.close();
  assert.deepEqual(errors, []);
});

test('concurrency limits are created, edited, reset and deleted', async () => {
  const page = await open('/concurrency');
  await page.getByRole('heading', { level: 1, name: 'Concurrency limits' }).waitFor();
  await page.getByLabel('Name or tag').fill('db');
  await page.getByLabel('Limit (slots)').fill('3');
  await page.getByRole('button', { name: 'Create limit' }).click();
  await page.getByRole('cell', { name: 'db', exact: true }).waitFor();
  await page.getByLabel('Kind').selectOption('tag');
  await page.getByLabel('Name or tag').fill('gpu');
  await page.getByLabel('Limit (slots)').fill('1');
  await page.getByRole('button', { name: 'Create limit' }).click();
  await page.getByRole('cell', { name: 'tag:gpu', exact: true }).waitFor();
  // Edit db's limit.
  await page.getByRole('spinbutton', { name: 'Limit of db' }).fill('5');
  await page.getByRole('button', { name: 'Save the limit of db' }).click();
  await page.getByText('Limit of db set to 5.').waitFor();
  assert.equal((await api('/v2/concurrency_limits/db')).limit, 5);
  await page.reload();
  assert.equal(await page.getByRole('spinbutton', { name: 'Limit of db' }).inputValue(), '5');
  // Deactivate, by keyboard.
  await page.getByRole('button', { name: 'Deactivate db', exact: true }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Activate db', exact: true }).waitFor();
  assert.equal(await focused(page), 'Activate db');
  assert.equal((await api('/v2/concurrency_limits/db')).active, false);
  // Reset the tag limit with a slot held.
  await api('/v2/concurrency_limits/increment-with-lease', { names: ['tag:gpu'], slots: 1, lease_duration: 300 });
  await page.reload();
  await page.getByRole('cell', { name: '1 / 1' }).waitFor();
  await page.getByRole('button', { name: 'Reset tag:gpu' }).click();
  await page.getByText('Every slot of tag:gpu released.').waitFor();
  assert.equal((await api('/v2/concurrency_limits/tag:gpu')).active_slots, 0);
  // Delete both.
  await page.getByRole('button', { name: 'Delete tag:gpu' }).click();
  await page.getByText('tag:gpu deleted.').waitFor();
  await page.getByRole('button', { name: 'Delete db' }).click();
  await page.getByText('db deleted.').waitFor();
  assert.equal((await call('/v2/concurrency_limits/db')).status, 404);
  assert.equal((await call('/v2/concurrency_limits/tag:gpu')).status, 404);
  await page.close();
  assert.deepEqual(errors, []);
});

test('a global limit with a slot held is reset from the UI', async () => {
  const limit = await api('/v2/concurrency_limits/', { name: 'api-calls', limit: 2 });
  await api('/v2/concurrency_limits/increment-with-lease', { names: ['api-calls'], slots: 1, mode: 'concurrency', lease_duration: 300 });
  assert.equal((await api('/v2/concurrency_limits/api-calls')).active_slots, 1);
  const page = await open('/concurrency');
  const row = page.getByRole('row', { name: /api-calls/ });
  await row.getByRole('cell', { name: '1 / 2' }).waitFor();
  // By keyboard: the focus stays on Reset.
  await row.getByRole('button', { name: 'Reset api-calls' }).focus();
  await page.keyboard.press('Enter');
  await page.getByText('Every slot of api-calls released.').waitFor();
  await row.getByRole('cell', { name: '0 / 2' }).waitFor();
  assert.equal(await focused(page), 'Reset api-calls');
  assert.equal((await api('/v2/concurrency_limits/api-calls')).active_slots, 0);
  await page.reload();
  await page.getByRole('row', { name: /api-calls/ }).getByRole('cell', { name: '0 / 2' }).waitFor();
  await api(`/v2/concurrency_limits/${limit.id}`, undefined, 'DELETE');
  await page.close();
  assert.deepEqual(errors, []);
});

test('automations are created from JSON (422 shown), disabled, enabled and deleted', async () => {
  const page = await open('/automations');
  await page.getByRole('heading', { level: 1, name: 'Automations' }).waitFor();
  const box = page.getByLabel('Automation (JSON: name, trigger, actions)');
  await box.fill('{"name": "bad"}');
  await page.getByRole('button', { name: 'Create automation' }).click();
  await page.locator('.edit-form .error').filter({ hasText: '422' }).waitFor();
  await box.fill(JSON.stringify({ name: 'cancel-slow', trigger: { type: 'event', expect: ['prefect.flow-run.Running'], posture: 'Reactive', threshold: 1, within: 0 },
    actions: [{ type: 'cancel-flow-run' }], enabled: true }));
  await page.getByRole('button', { name: 'Create automation' }).click();
  await page.getByRole('cell', { name: 'cancel-slow', exact: true }).waitFor();
  await page.getByRole('button', { name: 'Disable cancel-slow' }).click();
  await page.getByRole('button', { name: 'Enable cancel-slow' }).waitFor();
  let autos = await api('/automations/filter', {});
  assert.equal(autos.find(a => a.name === 'cancel-slow').enabled, false);
  await page.reload();
  await page.getByRole('button', { name: 'Enable cancel-slow' }).click();
  await page.getByRole('button', { name: 'Disable cancel-slow' }).waitFor();
  autos = await api('/automations/filter', {});
  assert.equal(autos.find(a => a.name === 'cancel-slow').enabled, true);
  await page.getByRole('button', { name: 'Delete cancel-slow' }).click();
  await page.getByText('cancel-slow deleted.').waitFor();
  assert.equal((await api('/automations/filter', {})).filter(a => a.name === 'cancel-slow').length, 0);
  await page.close();
  assert.deepEqual(errors, []);
});

test('secrets are set (write-only) and deleted; values never shown', async () => {
  const page = await open('/secrets');
  await page.getByRole('heading', { level: 1, name: 'Secrets' }).waitFor();
  await page.getByLabel('Name').fill('api-token');
  await page.getByLabel('Value (write-only)').fill('s3cr3t-value');
  await page.getByRole('button', { name: 'Save secret' }).click();
  await page.getByText('Secret api-token saved.').waitFor();
  await page.getByRole('cell', { name: 'api-token', exact: true }).waitFor();
  assert.deepEqual(await api('/secrets/'), ['api-token']);
  assert.equal(await page.getByLabel('Value (write-only)').inputValue(), '');
  assert.ok(!(await page.content()).includes('s3cr3t-value'));
  // Set value: fills the name and focuses the value.
  await page.getByRole('button', { name: 'Set a new value for api-token' }).click();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'secret-value');
  assert.equal(await page.getByLabel('Name').inputValue(), 'api-token');
  await page.getByRole('button', { name: 'Delete api-token' }).click();
  await page.getByText('Secret api-token deleted.').waitFor();
  assert.deepEqual(await api('/secrets/'), []);
  await page.close();
  assert.deepEqual(errors, []);
});

test(`a run's ${LOG_LINES.toLocaleString('en-US')} log lines are all reachable, from the keyboard`, async () => {
  const page = await open(`/runs/${logRun.id}`);
  await page.getByText(`${LOG_LINES.toLocaleString('en-US')} log lines.`).waitFor({ timeout: 30000 });
  // Windowed: only the rows in view are in the DOM.
  const rows = await page.locator('.logs .log').count();
  assert.ok(rows > 0 && rows < 200, `${rows} log rows in the DOM`);
  const logs = page.getByRole('log', { name: 'Logs' });
  await logs.focus();
  await page.keyboard.press('End');
  await logs.getByText(`log line ${LOG_LINES - 1}`, { exact: true }).waitFor();
  assert.ok(await logs.getByText(`log line ${LOG_LINES - 1}`, { exact: true }).isVisible());
  await page.keyboard.press('Home');
  await logs.getByText('log line 0', { exact: true }).waitFor();
  assert.ok(await logs.getByText('log line 0', { exact: true }).isVisible());
  // A level filter reloads from the server: nothing is WARNING or above.
  await page.getByLabel('Level').selectOption('30');
  await page.getByText('0 log lines.').waitFor();
  await logs.getByText('No logs.').waitFor();
  await page.close();
  assert.deepEqual(errors, []);
});

test('with follow off, a page of logs loads as the view nears the end; the logs tail live', async () => {
  const run = await runAt(new Date().toISOString(), 'RUNNING', 'Running', { name: 'tail-run' });
  const t0 = Date.now() - 100000;
  await api('/logs/', Array.from({ length: 2500 }, (_, i) => ({ name: 'pages', level: 20, message: `tail ${i}`,
    timestamp: new Date(t0 + i).toISOString(), flow_run_id: run.id })));
  const page = await open(`/runs/${run.id}`);
  await page.getByText('2,500 log lines.').waitFor({ timeout: 20000 });
  // Follow off, reloaded: one page from the server, the next as the view nears its end.
  await page.getByLabel('follow').uncheck();
  await page.getByLabel('Level').selectOption('20');
  await page.getByText('1,000 log lines loaded; more load as you scroll down.').waitFor();
  const logs = page.getByRole('log', { name: 'Logs' });
  await logs.focus();
  for (let i = 0; i < 10 && !(await page.getByText('2,500 log lines.').count()); i++) {
    await page.keyboard.press('End');
    await page.waitForTimeout(200);
  }
  await page.getByText('2,500 log lines.').waitFor();
  await page.keyboard.press('End');
  await logs.getByText('tail 2499', { exact: true }).waitFor();
  // A new line (of two lines) arrives while the run runs.
  await page.getByLabel('follow').check();
  await api('/logs/', [{ name: 'pages', level: 40, message: 'first line\nsecond line of it', timestamp: new Date().toISOString(), flow_run_id: run.id }]);
  await logs.getByText('second line of it').waitFor({ timeout: 20000 });
  await page.getByText('2,501 log lines.').waitFor();
  await page.close();
  assert.deepEqual(errors, []);
});

test('Retry sets a finished run to AwaitingRetry; Cancel stays', async () => {
  const page = await open(`/runs/${failedRun.id}`);
  await page.getByRole('heading', { level: 1 }).getByText('Failed').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Cancel' }).isDisabled(), true);
  // A run of no pool: its title says no worker claims it (e2e.test.mjs retries one a worker runs).
  assert.match(await page.getByRole('button', { name: 'Retry' }).getAttribute('title'), /AwaitingRetry.*no work pool/);
  await page.getByRole('button', { name: 'Retry' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1 }).getByText('AwaitingRetry').waitFor({ timeout: 20000 });
  const run = await api(`/flow_runs/${failedRun.id}`);
  assert.equal(run.state_type, 'SCHEDULED');
  assert.equal(run.state_name, 'AwaitingRetry');
  assert.equal(run.state.message, 'Retried from the UI');
  assert.equal(await page.getByRole('button', { name: 'Cancel' }).isDisabled(), false);
  assert.equal(await page.getByRole('button', { name: 'Retry' }).isDisabled(), true);
  await page.close();
  assert.deepEqual(errors, []);
});
