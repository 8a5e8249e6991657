// The web UI end to end, as a user drives it: upload two components,
// deploy a flow of each from the components page, run one with parameters
// from its deployment's Run form, watch it reach Completed with its logs
// and task runs, retry it, and cancel a long run of the other. A real
// server with an embedded worker (`weft server start --worker ui-pool`).
// With WEFT_UI_SCREENSHOTS=DIR it also saves screenshots of the main pages
// there (docs/screenshots is made that way).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startWeft } from './harness.mjs';

const GUESTS = join(ROOT, 'target/guests/wasm32-wasip2/release');
const FANOUT = join(GUESTS, 'fanout.wasm');
const TESTGUEST = join(GUESTS, 'testguest.wasm');
const SHOTS = process.env.WEFT_UI_SCREENSHOTS;
let weft;

before(async () => {
  for (const f of [FANOUT, TESTGUEST]) assert.ok(existsSync(f), `${f} is missing: run ./dev/setup`);
  weft = await startWeft('ui-e2e', ['--worker', 'ui-pool', '--no-scheduler']);
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
});

after(async () => { await weft?.stop(); });

async function shot(page, name) {
  if (!SHOTS) return;
  await page.waitForFunction(() => !document.querySelector('main').textContent.includes('Loading…'), null, { timeout: 15000 });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** Deploys `flow` of the component card that lists it, as `name` on ui-pool; returns the deployment page. */
async function deploy(page, flow, name, params) {
  const card = page.locator('article.card').filter({ has: page.getByRole('cell', { name: flow, exact: true }) });
  await card.getByRole('button', { name: 'Deploy…' }).click();
  await card.getByLabel('Flow').selectOption(flow);
  await card.getByLabel('Deployment name').fill(name);
  await card.getByLabel('Work pool').fill('ui-pool');
  await card.getByLabel('Default parameters (JSON)').fill(JSON.stringify(params));
  await card.getByRole('button', { name: 'Deploy', exact: true }).click();
  const link = card.getByRole('link', { name: `${flow}/${name}` });
  await link.waitFor();
  await link.click();
  await page.getByRole('heading', { level: 1, name: new RegExp(`^${flow}/${name}`) }).waitFor();
}

/** Opens the Run form of the deployment page shown, fills `fields` ([label, value]), creates the run; returns its id. */
async function runFromForm(page, fields) {
  await page.getByRole('button', { name: 'Run…' }).first().click();
  const form = page.locator('form.run-form');
  await form.getByRole('heading', { name: 'Run with parameters' }).waitFor();
  for (const [label, value] of fields) await form.getByLabel(label).fill(value);
  await form.getByRole('button', { name: 'Create run' }).click();
  await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
  return new URL(page.url()).pathname.split('/').pop();
}

/** The run page's title shows state `name`. */
function stateShown(page, name, timeout = 60000) {
  return page.getByRole('heading', { level: 1 }).locator('.badge').getByText(name, { exact: true }).waitFor({ timeout });
}

test('upload, deploy, run with parameters, watch it complete, retry it, cancel a long run', async () => {
  const page = await weft.open('/components');
  await page.getByRole('heading', { level: 1, name: 'Components' }).waitFor();
  await page.locator('#wasm-file').setInputFiles([FANOUT, TESTGUEST]);
  await page.getByRole('cell', { name: 'etl', exact: true }).waitFor({ timeout: 30000 });
  await page.getByRole('cell', { name: 'infinite-loop-task', exact: true }).waitFor({ timeout: 30000 });
  const stored = await weft.api('/components');
  assert.equal(stored.length, 2);
  for (const c of stored) await page.getByRole('heading', { level: 2, name: c.digest }).waitFor();
  await shot(page, 'components');

  // Deploy etl with a default n, then run it with n = 5 from the form.
  await deploy(page, 'etl', 'ui-etl', { n: 2 });
  const deployment = await weft.api('/deployments/name/etl/ui-etl');
  assert.equal(deployment.work_pool_name, 'ui-pool');
  assert.deepEqual(deployment.parameters, { n: 2 });
  const runId = await runFromForm(page, [[/^n\b/, '5']]);
  await stateShown(page, 'Completed');
  const run = await weft.api(`/flow_runs/${runId}`);
  assert.deepEqual(run.parameters, { n: 5 });
  assert.equal(run.deployment_id, deployment.id);
  // Its task runs, logs, parameters and result.
  await page.getByText('5 task runs').waitFor({ timeout: 20000 });
  await page.getByText('extracted 5 rows').waitFor({ timeout: 20000 });
  await page.locator('pre.json').getByText('"total": 60').waitFor();
  await shot(page, 'flow-run');

  // Retry: the same run is scheduled again, claimed by the worker, and completes a second time.
  await page.getByRole('button', { name: 'Retry' }).click();
  for (let i = 0; ; i++) {
    const r = await weft.api(`/flow_runs/${runId}`);
    if (r.run_count === 2 && r.state.type === 'COMPLETED') break;
    assert.ok(i < 600, `the retried run did not complete again: ${JSON.stringify(r.state)} run_count ${r.run_count}`);
    await new Promise(res => setTimeout(res, 100));
  }
  await stateShown(page, 'Completed');
  const history = (await weft.api(`/flow_runs/${runId}/states`)) ?? [];
  assert.ok(history.some(s => s.name === 'AwaitingRetry'), JSON.stringify(history.map(s => s.name)));

  // A long run (a task spinning until stopped), cancelled from its page.
  await page.goto(`${weft.base}/components`);
  await deploy(page, 'infinite-loop-task', 'spin', {});
  const spinId = await runFromForm(page, []);
  await stateShown(page, 'Running');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await stateShown(page, 'Cancelled');
  const spin = await weft.api(`/flow_runs/${spinId}`);
  assert.equal(spin.state.type, 'CANCELLED');
  const tasks = await weft.api('/task_runs/filter', { flow_runs: { id: { any_: [spinId] } } });
  assert.ok(tasks.length >= 1 && tasks.every(t => t.state.type === 'CANCELLED'), JSON.stringify(tasks.map(t => t.state.type)));

  if (SHOTS) {
    // More runs for the pictures: a bigger fan-out and a few more of each.
    const big = await weft.api(`/deployments/${deployment.id}/create_flow_run`, { parameters: { n: 400 } });
    const more = [];
    for (let i = 0; i < 12; i++) {
      more.push(await weft.api(`/deployments/${deployment.id}/create_flow_run`, { parameters: { n: 3 + i } }));
    }
    for (const r of [big, ...more]) {
      for (let i = 0; (await weft.api(`/flow_runs/${r.id}`)).state.type !== 'COMPLETED'; i++) {
        assert.ok(i < 1200, `run ${r.id} did not complete`);
        await new Promise(res => setTimeout(res, 100));
      }
    }
    await page.goto(`${weft.base}/runs/${big.id}`);
    await page.getByText('400 task runs').waitFor({ timeout: 20000 });
    await page.locator('#h-tasks').evaluate((el) => el.scrollIntoView());
    await shot(page, 'flow-run-gantt');
    for (const [path, name] of [['/?window=1h', 'dashboard'], ['/runs', 'flow-runs'], [`/deployments/${deployment.id}`, 'deployment'],
      ['/work-pools/ui-pool', 'work-pool']]) {
      await page.goto(`${weft.base}${path}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await shot(page, name);
    }
  }
  await page.close();
  assert.deepEqual(weft.errors, []);
});
