// "My work" on the home page, in a real browser against the real binary, for a new salesperson
// (王芳, no demo records of her own, so the expected cards are known exactly): her open tasks due
// today or overdue (not tomorrow's, not completed ones, not a colleague's), her open deals whose
// close date passed (not a won one), her meetings of the next seven days (not a call, not a
// colleague's). She completes a task from the home page, follows "see all" to a list that shows
// the same records (the filter travels in the URL, and a reload keeps it), and opens a stage of
// the open pipeline (won and lost are not in it). Record names carry script-like text that must
// show as text. Chinese at tablet width, then English on a phone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN, ROOT, apiCall, launchBrowser, startServer } from './harness.mjs';

const SCRIPT = '<img src=x onerror=alert(1)>';
const SHOTS = join(ROOT, 'docs/screenshots');
const REP = { name: '王芳', email: 'wangfang@rapport.local', password: 'Sales-2026-wangfang!' };

let server;
let browser;
let page;
let admin;
let rep;
const dialogs = [];
const ids = {};

const url = (path) => `${server.base}${path}`;
const day = (offset) => new Date(Date.now() + 480 * 60_000 + offset * 86_400_000).toISOString().slice(0, 10);
const at = (offsetDays) => new Date(Date.now() + offsetDays * 86_400_000).toISOString();

async function create(cookie, object, values) {
  const { json } = await apiCall(server.base, 'POST', `/api/v1/objects/${object}/records`, { values }, cookie);
  return json.id;
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  ({ cookie: admin } = await apiCall(server.base, 'POST', '/api/v1/auth/login', ADMIN));
  const me = (await apiCall(server.base, 'GET', '/api/v1/auth/me', undefined, admin)).json;
  assert.equal(me.workspace.utc_offset_minutes, 480, 'the demo workspace is on Beijing time');
  const { json: user } = await apiCall(server.base, 'POST', '/api/v1/users', { ...REP, role_id: 'sales' }, admin);
  ({ cookie: rep } = await apiCall(server.base, 'POST', '/api/v1/auth/login', { email: REP.email, password: REP.password }));
  await apiCall(server.base, 'PATCH', '/api/v1/auth/me', { locale: 'zh-CN' }, rep);
  const mine = { assigned_to: user.id };
  ids.overdue = await create(rep, 'task', { title: `回访报价 ${SCRIPT}`, due_date: day(-2), status: 'in_progress', ...mine });
  ids.today = await create(rep, 'task', { title: '准备周会材料', due_date: day(0), status: 'not_started', ...mine });
  await create(rep, 'task', { title: '明天的任务', due_date: day(1), status: 'not_started', ...mine });
  await create(rep, 'task', { title: '已完成的旧任务', due_date: day(-5), status: 'completed', ...mine });
  await create(admin, 'task', { title: '管理员的任务', due_date: day(-1), status: 'not_started' });
  ids.late = await create(rep, 'deal', { name: `华东区续约 ${SCRIPT}`, stage: 'negotiation', close_date: day(-3), amount: '120000.00' });
  await create(rep, 'deal', { name: '已赢单的商机', stage: 'closed_won', close_date: day(-3) });
  await create(rep, 'deal', { name: '推进中的商机', stage: 'proposal', close_date: day(20) });
  ids.meeting = await create(rep, 'activity', { subject: '与星河科技的方案会', type: 'meeting', occurred_at: at(2) });
  await create(rep, 'activity', { subject: '电话回访', type: 'call', occurred_at: at(2) });
  await create(admin, 'activity', { subject: '管理员的会议', type: 'meeting', occurred_at: at(1) });

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

/** The titles a card lists, in order. */
async function titles(card) {
  return card.locator('.ant-list-item-meta-title').allInnerTexts();
}

async function assertInert() {
  assert.deepEqual(dialogs, [], 'a dialog opened: record text ran as script');
  assert.equal(await page.locator('img[src="x"]').count(), 0, 'record text became an <img> element');
}

async function assertFits() {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
}

test('a salesperson lands on her work: tasks due, deals needing attention, meetings (Chinese, tablet)', async () => {
  await page.goto(url('/'));
  await page.waitForURL(/\/login/);
  await page.getByLabel('邮箱').fill(REP.email);
  await page.getByLabel('密码').fill(REP.password);
  await page.getByRole('button', { name: /登\s*录/ }).click();
  await page.getByRole('heading', { name: '工作台' }).waitFor();

  const tasks = page.getByTestId('my-tasks');
  await tasks.locator('.ant-list-item').first().waitFor();
  assert.deepEqual(await titles(tasks), [`回访报价 ${SCRIPT}`, '准备周会材料']);
  assert.match(await tasks.innerText(), /已逾期/);
  assert.match(await tasks.innerText(), /今天到期/);
  assert.match(await tasks.locator('.ant-card-head').innerText(), /我的待办\s*2/);

  const deals = page.getByTestId('my-deals');
  await deals.locator('.ant-list-item').first().waitFor();
  assert.deepEqual(await titles(deals), [`华东区续约 ${SCRIPT}`]);
  assert.match(await deals.innerText(), /已过预计成交日期/);

  const meetings = page.getByTestId('my-meetings');
  await meetings.locator('.ant-list-item').first().waitFor();
  assert.deepEqual(await titles(meetings), ['与星河科技的方案会']);
  await assertInert();
  await assertFits();
  await page.screenshot({ path: join(SHOTS, 'home-tablet.png') });
});

test('she completes a task from the home page', async () => {
  const tasks = page.getByTestId('my-tasks');
  const item = tasks.locator('.ant-list-item').filter({ hasText: '准备周会材料' });
  await item.getByRole('button', { name: '标记为已完成' }).click();
  await page.locator('.ant-message-notice').filter({ hasText: '已完成“准备周会材料”' }).waitFor();
  await item.waitFor({ state: 'detached' });
  assert.deepEqual(await titles(tasks), [`回访报价 ${SCRIPT}`]);
  const stored = (await apiCall(server.base, 'GET', `/api/v1/objects/task/records/${ids.today}`, undefined, rep)).json;
  assert.equal(stored.values.status, 'completed');
});

test('"see all" opens the list filtered the same way, and a reload keeps the filter', async () => {
  await page.getByTestId('my-tasks').getByRole('link', { name: '查看全部' }).click();
  await page.waitForURL(/\/o\/task\?filter=/);
  const rows = page.locator('[data-testid=record-table] .ant-table-row');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 1);
  assert.match(await rows.first().innerText(), /回访报价/);
  await page.reload();
  await rows.first().waitFor();
  assert.equal(await rows.count(), 1);
  await assertInert();
});

test('a stage of the open pipeline opens its deals', async () => {
  await page.goto(url('/'));
  const stages = page.getByTestId('pipeline-stages');
  await stages.getByRole('link').first().waitFor();
  const names = await stages.getByRole('link').allInnerTexts();
  assert.ok(!names.some((n) => n.includes('赢单') || n.includes('输单')), `closed stages are not open pipeline: ${names}`);
  await stages.getByRole('link', { name: /商务谈判/ }).click();
  await page.waitForURL(/\/o\/deal\?filter=/);
  const rows = page.locator('[data-testid=record-table] .ant-table-row');
  await rows.first().waitFor();
  const texts = await rows.allInnerTexts();
  assert.ok(texts.length > 0 && texts.every((t) => t.includes('商务谈判')), texts.join('\n'));
});

test("a company's related deals name their contacts, never by id", async () => {
  const filter = { all: [{ field: 'company', op: 'is_not_empty' }, { field: 'contact', op: 'is_not_empty' }] };
  const { json } = await apiCall(
    server.base, 'GET', `/api/v1/objects/deal/records?limit=1&expand=contact&filter=${encodeURIComponent(JSON.stringify(filter))}`, undefined, rep,
  );
  const deal = json.data[0];
  const contactName = deal.expanded.contact.name;
  await page.goto(url(`/o/company/${deal.values.company}`));
  await page.getByRole('tab', { name: '相关记录' }).click();
  const row = page.locator('.ant-table-row').filter({ hasText: deal.name }).first();
  await row.waitFor();
  assert.ok((await row.innerText()).includes(contactName), `${await row.innerText()} should name ${contactName}`);
  const tables = await page.getByRole('tabpanel').innerText();
  assert.doesNotMatch(tables, /\b[0-9a-f]{8}\b/, 'a related list shows an id');
});

test('a new task is hers, not started and due tomorrow before she types anything', async () => {
  await page.goto(url('/o/task'));
  await page.getByTestId('new-record').click();
  const form = page.getByTestId('record-form');
  await form.waitFor();
  const text = await form.innerText();
  assert.match(text, /王芳/, 'assigned to the creator');
  assert.match(text, /未开始/, 'status starts at its first option');
  await form.getByLabel('标题').fill('给星河科技发合同');
  const created = page.waitForResponse((r) => r.url().endsWith('/api/v1/objects/task/records') && r.request().method() === 'POST');
  await page.getByTestId('record-form-save').click();
  const body = await (await created).json();
  const me = (await apiCall(server.base, 'GET', '/api/v1/auth/me', undefined, rep)).json;
  assert.equal(body.values.assigned_to, me.user.id);
  assert.equal(body.values.status, 'not_started');
  assert.equal(body.values.due_date, day(1));
});

test('the same home in English on a phone', async () => {
  await apiCall(server.base, 'PATCH', '/api/v1/auth/me', { locale: 'en' }, rep);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(url('/'));
  await page.getByRole('heading', { name: 'Home' }).waitFor();
  const tasks = page.getByTestId('my-tasks');
  await tasks.locator('.ant-list-item').first().waitFor();
  assert.match(await tasks.locator('.ant-card-head').innerText(), /My tasks due\s*1/);
  assert.match(await tasks.innerText(), /Overdue since/);
  assert.match(await page.getByTestId('my-deals').innerText(), /Close date passed/);
  assert.match(await page.getByTestId('my-meetings').innerText(), /与星河科技的方案会/);
  await assertInert();
  await assertFits();
  await page.screenshot({ path: join(SHOTS, 'home-phone.png') });
});
