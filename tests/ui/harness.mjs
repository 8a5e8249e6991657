// What the browser tests share: a real `weft server start`
// (target/release/weft) over a fresh SQLite home on a free loopback port,
// the REST API as a client calls it, and Debian's chromium driven by
// playwright-core with every request off the server refused and every page
// error collected.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import net from 'node:net';
import { chromium } from 'playwright-core';

/** The repository's root. */
export const ROOT = resolve(import.meta.dirname, '../..');

function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    }).on('error', fail);
  });
}

/** A fresh temporary weft home for `name`'s tests. */
export function tempHome(name) {
  return mkdtempSync(join(tmpdir(), `weft-${name}-home-`));
}

/**
 * Starts a server (extra `args` to `weft server start`; over `home` when
 * given, else a fresh one; removed at the end either way) and a browser.
 * Returns `{base, call, api, open, errors, stop, closePages}`:
 * `call(path, body, method)` answers `{status, body}`, `api` the body or
 * throws on a 4xx/5xx, `open(path)` a new page at `path`, `errors` what went
 * wrong in any page (external requests, page errors, console errors),
 * `stop()` ends it all, `closePages()` closes every page still open (a
 * failed test's, whose event stream would hold one of the browser's few
 * connections to the server).
 * Options: `ignoreConsole`, a RegExp of console errors not to count (say the
 * browser's log of a 422 a test provokes); `acceptDialogs`, accept every
 * confirm() (else the browser dismisses them).
 */
export async function startWeft(name, args = [], { home = tempHome(name), ignoreConsole = null, acceptDialogs = false } = {}) {
  const profile = mkdtempSync(join(tmpdir(), `weft-${name}-chromium-`));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(join(ROOT, 'target/release/weft'), ['server', 'start', '--port', String(port), ...args], {
    env: { ...process.env, WEFT_HOME: home, HOME: home, WEFT_API_URL: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const errors = [];

  async function call(path, body, method) {
    const resp = await fetch(`${base}/api${path}`, {
      method: method || (body === undefined ? 'GET' : 'POST'),
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await resp.text();
    return { status: resp.status, body: text ? JSON.parse(text) : null };
  }
  async function api(path, body, method) {
    const r = await call(path, body, method);
    if (r.status >= 400) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
  for (let i = 0; ; i++) {
    try { await api('/health'); break; } catch (e) {
      if (i > 150) throw e;
      await new Promise(r => setTimeout(r, 100));
    }
  }
  const browser = await chromium.launchPersistentContext(profile, {
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

  const pages = new Set();
  async function open(path) {
    const page = await browser.newPage();
    pages.add(page);
    page.on('close', () => pages.delete(page));
    page.on('pageerror', (e) => errors.push(`${path}: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !(ignoreConsole && ignoreConsole.test(m.text()))) errors.push(`${path}: console ${m.text()}`);
    });
    if (acceptDialogs) page.on('dialog', (d) => d.accept());
    await page.goto(`${base}${path}`);
    return page;
  }

  async function closePages() {
    for (const page of [...pages]) await page.close().catch(() => {});
  }

  async function stop() {
    await browser.close();
    server.kill('SIGTERM');
    await new Promise(r => (server.exitCode === null ? server.once('exit', r) : r()));
    rmSync(home, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  }

  return { base, call, api, open, errors, stop, closePages };
}
