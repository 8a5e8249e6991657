// The UI with 100,000 flow runs stored: the runs list pages and filters
// on the server (the counts come from /api/flow_runs/count), the last page
// opens, a run opens from the list, and the dashboard renders. The runs
// are stored by `weft-bench seed` (target/release/weft-bench) into the
// server's SQLite home before it starts.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, startWeft, tempHome } from './harness.mjs';

const RUNS = 100000;
let weft;

before(async () => {
  const home = tempHome('ui-scale');
  execFileSync(join(ROOT, 'target/release/weft-bench'), ['seed', '--runs', String(RUNS), '--home', home],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  weft = await startWeft('ui-scale', ['--no-scheduler'], { home });
});

after(async () => { await weft?.stop(); });

test('100,000 runs: paged and filtered on the server, every page reachable', async () => {
  assert.equal(await weft.api('/flow_runs/count', {}), RUNS);
  const page = await weft.open('/runs');
  const summary = page.getByText(/^100,000 runs · page 1 of [\d,]+$/);
  await summary.waitFor({ timeout: 30000 });
  const pages = Number((await summary.innerText()).split(' of ')[1].replace(/,/g, ''));
  assert.ok(pages > 1, `${pages} pages`);
  const rows = await page.locator('main table tbody tr').count();
  assert.ok(rows > 1 && rows * pages >= RUNS && rows * (pages - 1) < RUNS, `${rows} rows a page, ${pages} pages`);

  // Every tenth run is Failed, every fifth of flow `report`'s share; filters go to the server.
  await page.goto(`${weft.base}/runs?state=FAILED`);
  await page.getByText(/^10,000 runs · page 1 of/).waitFor({ timeout: 30000 });
  await page.goto(`${weft.base}/runs?flow=report`);
  await page.getByText(/^20,000 runs · page 1 of/).waitFor({ timeout: 30000 });
  await page.goto(`${weft.base}/runs?tag=prod&state=FAILED`);
  await page.getByText(/^3,334 runs · page 1 of/).waitFor({ timeout: 30000 });

  // The last page, then a run from it.
  await page.goto(`${weft.base}/runs?page=${pages}`);
  await page.getByText(new RegExp(`^100,000 runs · page ${pages} of`)).waitFor({ timeout: 30000 });
  const last = page.locator('main table tbody tr a[href^="/runs/"]').first();
  const name = await last.innerText();
  await last.click();
  await page.getByRole('heading', { level: 1 }).getByText(name).waitFor({ timeout: 30000 });

  // The dashboard over the same store.
  await page.goto(`${weft.base}/`);
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  await page.waitForFunction(() => !document.querySelector('main').textContent.includes('Loading…'), null, { timeout: 30000 });
  assert.equal(await page.locator('main .error').count(), 0, await page.locator('main').innerText());
  await page.close();
  assert.deepEqual(weft.errors, []);
});
