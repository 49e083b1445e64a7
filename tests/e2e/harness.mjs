// The e2e harness: starts the real binary (`rapport serve --demo`; the debug build, or the one
// RAPPORT_BIN names, e.g. target/release/rapport) on SQLite in a fresh temporary directory and a
// free loopback port, and launches Debian's chromium through playwright-core with a fresh
// profile (it never downloads a browser).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '../..');
export const ADMIN = { email: 'admin@rapport.local', password: 'rapport-demo' };

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

export async function startServer() {
  const binary = process.env.RAPPORT_BIN ?? join(ROOT, 'target/debug/rapport');
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run cargo build -p rapport`);
  const dataDir = mkdtempSync(join(tmpdir(), 'rapport-e2e-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(
    binary,
    // The tests' webhook receivers listen on 127.0.0.1: allowed as an operator allows an
    // intranet host (outbound calls reach public addresses only by default).
    ['serve', '--demo', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--admin-password', ADMIN.password,
      '--outbound-allow', '127.0.0.1'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RAPPORT_LOG: 'warn' } },
  );
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`rapport exited early:\n${output}`);
    try {
      // Our child's own word that it listens there, not only some server on the port (a port
      // picked free may be taken by another process before the child binds it).
      const res = await fetch(`${base}/healthz`);
      if (res.ok && output.includes(`running at ${base}`)) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`rapport did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    base,
    /** The server's SQLite directory (rapport.db), for tests that prepare rows no API makes. */
    dataDir,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Playwright gives every launch a fresh temporary profile (user-data-dir) and removes it. */
export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
  return browser;
}

/** A JSON call with a session cookie (to prepare data the way an integration would). */
export async function apiCall(base, method, path, body, cookie) {
  const res = await fetch(`${base}${path}`, {
    method,
    // With a cookie, X-Requested-With too, as the web app sends (cross-site request check).
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie, 'x-requested-with': 'e2e' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return { json: text ? JSON.parse(text) : null, cookie: res.headers.get('set-cookie')?.split(';')[0] };
}

/**
 * A page in a new browser context, signed in with a session `cookie` ("name=value", as apiCall
 * returns it), whose dialogs are recorded in `dialogs` and dismissed (a dialog means record text
 * ran as script).
 */
export async function signedInPage(browser, base, cookie, dialogs, { viewport = { width: 1440, height: 900 }, locale = 'zh-CN' } = {}) {
  const context = await browser.newContext({ viewport, locale });
  const [name, ...value] = cookie.split(';')[0].split('=');
  await context.addCookies([{ name, value: value.join('='), url: base }]);
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('dialog', async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  return { context, page };
}

/** Polls `check` until it returns something truthy (which it returns), failing after `timeout` ms. */
export async function until(what, check, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
