// The job queue page in a real browser against the real binary, at tablet width: the admin sees
// a dead delivery job (its payload and every attempt's error carry script-like text, which must
// show as text and never run: any dialog fails the test), retries it, cancels and discards it,
// and the page reads in Chinese and in English. The binary runs no job workers yet, so the jobs
// are written into its SQLite database directly (the shape the store's `jobs` module writes).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ADMIN, apiCall, launchBrowser, startServer } from './harness.mjs';

const SCRIPT = '<img src=x onerror=alert(1)>';
const DEAD = '01900000-0000-7000-8000-00000000dead';
const PENDING = '01900000-0000-7000-8000-0000000000a1';

let server;
let browser;
let page;
let cookie;
const dialogs = [];

const url = (path) => `${server.base}${path}`;
const get = async (path) => (await apiCall(server.base, 'GET', path, undefined, cookie)).json;
const quote = (text) => `'${String(text).replaceAll("'", "''")}'`;

/** Writes a dead job with three failed attempts and a pending job into the server's database. */
function seedJobs(workspace) {
  const now = Date.now();
  const payload = JSON.stringify({ url: `https://hooks.example.cn/${SCRIPT}`, body: '<script>alert(2)</script>' });
  const columns = 'id, workspace_id, queue, kind, payload, state, priority, run_at, attempts, max_attempts, lease_owner, cancel_requested, last_error, created_at, started_at, finished_at';
  const attempts = [1, 2, 3].map((n) =>
    `INSERT INTO job_attempts (job_id, attempt, node, started_at, finished_at, outcome, error) VALUES (${quote(DEAD)}, ${n}, 'node-1', ${now - 60_000 + n * 1000}, ${now - 60_000 + n * 1000 + 200}, 'failed', ${quote(`HTTP 500 (attempt ${n}) ${SCRIPT}`)});`);
  const sql = [
    '.timeout 20000',
    'BEGIN;',
    `INSERT INTO jobs (${columns}) VALUES (${quote(DEAD)}, ${quote(workspace)}, 'webhook', 'deliver', ${quote(payload)}, 'dead', 0, ${now - 57_000}, 3, 3, 'node-1', 0, ${quote(`HTTP 500 (attempt 3) ${SCRIPT}`)}, ${now - 70_000}, ${now - 57_000}, ${now - 56_800});`,
    ...attempts,
    `INSERT INTO jobs (${columns}) VALUES (${quote(PENDING)}, ${quote(workspace)}, 'mail', 'reminder', '{"to":"li@example.cn"}', 'pending', 0, ${now + 3_600_000}, 0, 10, NULL, 0, NULL, ${now - 50_000}, NULL, NULL);`,
    'COMMIT;',
  ].join('\n');
  execFileSync('sqlite3', [join(server.dataDir, 'rapport.db')], { input: sql });
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  ({ cookie } = await apiCall(server.base, 'POST', '/api/v1/auth/login', ADMIN));
  const me = await get('/api/v1/auth/me');
  seedJobs(me.workspace.id);
  await apiCall(server.base, 'PATCH', '/api/v1/auth/me', { locale: 'zh-CN' }, cookie);
  // An iPad in portrait.
  const context = await browser.newContext({ viewport: { width: 820, height: 1180 }, locale: 'zh-CN' });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('dialog', async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function toast(text) {
  await page.locator('.ant-message-notice').filter({ hasText: text }).first().waitFor({ state: 'visible' });
}

/** No script from a job ran, and none of its markup became elements. */
async function assertInert() {
  assert.deepEqual(dialogs, [], 'a dialog opened: job text ran as script');
  assert.equal(await page.locator('img[src="x"]').count(), 0, 'job text became an <img> element');
}

test('the admin sees a dead job with its attempts and errors as text (Chinese, tablet width)', async () => {
  await page.goto(url('/settings/jobs'));
  await page.waitForURL(/\/login/);
  await page.getByLabel('邮箱').fill(ADMIN.email);
  await page.getByLabel('密码').fill(ADMIN.password);
  await page.getByRole('button', { name: /登\s*录/ }).click();
  await page.waitForURL(/\/settings\/jobs$/);
  await page.getByRole('heading', { name: '后台任务' }).waitFor();
  const queue = page.locator('.ant-table-row').filter({ hasText: 'webhook' }).first();
  await queue.waitFor();
  assert.match(await queue.innerText(), /1/);

  const row = page.locator('.ant-table-row').filter({ hasText: 'deliver' });
  await row.filter({ hasText: '死信' }).waitFor();
  assert.ok((await row.innerText()).includes('3 / 3'));
  await row.getByRole('button', { name: '任务详情' }).click();
  const drawer = page.locator('.job-drawer');
  await drawer.getByText('尝试记录').waitFor();
  const error = await drawer.getByTestId('job-last-error').innerText();
  assert.equal(error, `HTTP 500 (attempt 3) ${SCRIPT}`);
  const payload = await drawer.getByTestId('job-payload').innerText();
  assert.ok(payload.includes(`https://hooks.example.cn/${SCRIPT}`), payload);
  assert.ok(payload.includes('<script>alert(2)</script>'), payload);
  const attempts = drawer.locator('.ant-table-row');
  assert.equal(await attempts.count(), 3);
  assert.ok((await attempts.nth(0).innerText()).includes(`HTTP 500 (attempt 1) ${SCRIPT}`));
  assert.ok((await attempts.nth(2).innerText()).includes('失败'));
  const box = await page.locator('.job-drawer .ant-drawer-section').boundingBox();
  assert.ok(box && box.width <= 820, `the drawer fits the tablet: ${box?.width}`);
  await assertInert();
});

test('retry, then cancel and discard, each through the page and audited', async () => {
  const drawer = page.locator('.job-drawer');
  await drawer.getByRole('button', { name: '立即重试' }).click();
  await toast('任务即将再次运行。');
  await drawer.locator('.ant-tag').filter({ hasText: '等待中' }).waitFor();
  let job = await get(`/api/v1/jobs/${DEAD}`);
  assert.equal(job.state, 'pending');
  assert.equal(job.max_attempts, 4);

  await drawer.getByRole('button', { name: '取消任务' }).click();
  await toast('任务已取消。');
  await drawer.locator('.ant-tag').filter({ hasText: '已取消' }).waitFor();
  job = await get(`/api/v1/jobs/${DEAD}`);
  assert.equal(job.state, 'cancelled');

  await drawer.getByRole('button', { name: /丢\s*弃/ }).click();
  await page.locator('.ant-popconfirm').getByRole('button', { name: /丢\s*弃/ }).click();
  await toast('任务已丢弃。');
  const res = await fetch(url(`/api/v1/jobs/${DEAD}`), { headers: { cookie } });
  assert.equal(res.status, 404);
  await page.locator('.ant-table-row').filter({ hasText: 'deliver' }).waitFor({ state: 'detached' });

  const audit = await get('/api/v1/audit');
  const actions = audit.filter((e) => e.target === DEAD).map((e) => e.action);
  assert.deepEqual(actions.sort(), ['job.cancel', 'job.discard', 'job.retry']);
  await assertInert();
});

test('the page reads in English, and filters by state', async () => {
  await apiCall(server.base, 'PATCH', '/api/v1/auth/me', { locale: 'en' }, cookie);
  await page.goto(url('/settings/jobs'));
  await page.getByRole('heading', { name: 'Jobs' }).waitFor();
  await page.getByRole('columnheader', { name: 'Dead' }).waitFor();
  const pending = page.locator('.ant-table-row').filter({ hasText: 'reminder' });
  await pending.filter({ hasText: 'Pending' }).waitFor();

  await page.getByLabel('State').click();
  await page.locator('.ant-select-item-option').filter({ hasText: 'Dead' }).click();
  await page.getByText('No jobs match.').waitFor();
  await page.locator('.ant-select-clear').last().click();
  await pending.waitFor();

  await pending.getByRole('button', { name: 'Job details' }).click();
  const drawer = page.locator('.job-drawer');
  await drawer.getByRole('button', { name: 'Cancel job' }).waitFor();
  assert.equal(await drawer.getByRole('button', { name: 'Retry now' }).count(), 0);
  assert.ok((await drawer.getByTestId('job-payload').innerText()).includes('li@example.cn'));
  await assertInert();
});
