// A salesperson works a deal and her lists, in a real browser against the real binary (林晓, a
// new salesperson, so what is "hers" is known exactly): the deal's stage path moves the deal
// and its win probability; a call logged on the deal is linked to the deal's company and
// contact and shows on their timelines; the deal's related tab lists its activities and tasks;
// a task is completed from the timeline and from the task list. Her lists have a built-in
// "mine" view, the filter as removable chips that travel in the URL, a totals row over the
// whole filtered list, and the rank of each sort key. Names carry script-like text that must
// stay text. Chinese at desktop width, then English.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN, ROOT, apiCall, launchBrowser, signedInPage, startServer } from './harness.mjs';

const SCRIPT = '<img src=x onerror=alert(1)>';
const REP = { name: '林晓', email: 'linxiao@rapport.local', password: 'Sales-2026-linxiao!' };

let server;
let browser;
let page;
let admin;
let rep;
let repId;
const dialogs = [];
const ids = {};

const url = (path) => `${server.base}${path}`;

async function create(cookie, object, values) {
  const { json } = await apiCall(server.base, 'POST', `/api/v1/objects/${object}/records`, { values }, cookie);
  return json.id;
}

const get = async (object, id) => (await apiCall(server.base, 'GET', `/api/v1/objects/${object}/records/${id}`, undefined, rep)).json;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  ({ cookie: admin } = await apiCall(server.base, 'POST', '/api/v1/auth/login', ADMIN));
  const { json: user } = await apiCall(server.base, 'POST', '/api/v1/users', { ...REP, role_id: 'sales' }, admin);
  repId = user.id;
  ({ cookie: rep } = await apiCall(server.base, 'POST', '/api/v1/auth/login', { email: REP.email, password: REP.password }));
  await apiCall(server.base, 'PATCH', '/api/v1/auth/me', { locale: 'zh-CN' }, rep);
  ids.company = await create(rep, 'company', { name: `星河科技 ${SCRIPT}` });
  ids.contact = await create(rep, 'contact', { name: '张伟', company: ids.company });
  ids.deal = await create(rep, 'deal', {
    name: `星河科技扩容 ${SCRIPT}`, stage: 'proposal', company: ids.company, contact: ids.contact,
    amount: { amount: '120000.00', currency: 'CNY' },
  });
  ids.small = await create(rep, 'deal', { name: '小额试用', stage: 'prospecting', amount: { amount: '30000.50', currency: 'CNY' } });
  ids.task = await create(rep, 'task', { title: '列表里完成的任务', assigned_to: repId, status: 'not_started' });

  ({ page } = await signedInPage(browser, server.base, rep, dialogs));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function assertInert() {
  assert.deepEqual(dialogs, [], 'a dialog opened: record text ran as script');
  assert.equal(await page.locator('img[src="x"]').count(), 0, 'record text became an <img> element');
}

const rows = () => page.locator('[data-testid=record-table] .ant-table-row');

/** A second browser window, signed in as the administrator (Chinese). */
async function openAsAdmin() {
  await apiCall(server.base, 'PATCH', '/api/v1/auth/me', { locale: 'zh-CN' }, admin);
  const { context, page: adminPage } = await signedInPage(browser, server.base, admin, dialogs);
  return { adminPage, context };
}


test("the deal's stage path moves the deal, and the win probability follows", async () => {
  await page.goto(url(`/o/deal/${ids.deal}`));
  const path = page.getByTestId('stage-path');
  await path.waitFor();
  assert.equal(await path.locator('[aria-current=step]').getAttribute('data-stage'), 'proposal');
  assert.equal(await path.locator('.stage-done').count(), 2, 'the two stages before the proposal are done');
  await path.getByRole('button', { name: '商务谈判' }).click();
  await page.locator('.ant-message-notice').filter({ hasText: '已进入「商务谈判」' }).waitFor();
  await path.locator('[aria-current=step][data-stage=negotiation]').waitFor();
  const deal = await get('deal', ids.deal);
  assert.equal(deal.values.stage, 'negotiation');
  assert.equal(deal.values.probability, '75.00');
  // The move is in the timeline like any other change.
  await page.getByTestId('timeline').locator('[data-field=probability]').first().waitFor();
  await assertInert();
});

test("a call logged on the deal is linked to its company and contact, and shows on their timelines", async () => {
  await page.getByRole('button', { name: '记录活动' }).click();
  await page.getByRole('menuitem', { name: '记录通话' }).click();
  const form = page.getByTestId('record-form');
  await form.waitFor();
  await form.getByText(`星河科技 ${SCRIPT}`, { exact: true }).waitFor();
  await form.getByText('张伟', { exact: true }).waitFor();
  await form.getByLabel('主题').fill('确认扩容预算');
  const created = page.waitForResponse((r) => r.url().endsWith('/api/v1/objects/activity/records') && r.request().method() === 'POST');
  await page.getByTestId('record-form-save').click();
  const call = await (await created).json();
  assert.equal(call.values.deal, ids.deal);
  assert.equal(call.values.company, ids.company);
  assert.equal(call.values.contact, ids.contact);
  assert.equal(call.values.type, 'call');
  await page.getByTestId('timeline').getByText('确认扩容预算').waitFor();
  for (const [object, id] of [['company', ids.company], ['contact', ids.contact]]) {
    await page.goto(url(`/o/${object}/${id}`));
    await page.getByTestId('timeline').getByText('确认扩容预算').waitFor();
  }
  await assertInert();
});

test("the deal's related tab lists its activities and tasks, and a task is completed from the timeline", async () => {
  ids.dealTask = await create(rep, 'task', { title: '发送扩容报价', deal: ids.deal, assigned_to: repId, status: 'not_started' });
  await page.goto(url(`/o/deal/${ids.deal}`));
  await page.getByRole('tab', { name: '相关记录' }).click();
  const related = page.getByRole('tabpanel');
  await related.locator('.ant-table-row').filter({ hasText: '确认扩容预算' }).waitFor();
  await related.locator('.ant-table-row').filter({ hasText: '发送扩容报价' }).waitFor();

  const item = page.getByTestId('timeline').locator('.ant-timeline-item').filter({ hasText: '发送扩容报价' });
  await item.getByTestId('complete-task').click();
  await page.locator('.ant-message-notice').filter({ hasText: '已完成“发送扩容报价”' }).waitFor();
  await item.getByTestId('complete-task').waitFor({ state: 'detached' });
  assert.equal((await get('task', ids.dealTask)).values.status, 'completed');
  await item.locator('del').filter({ hasText: '发送扩容报价' }).waitFor();
});

test('"my deals" shows hers only, its filter is a chip, and removing the chip shows all', async () => {
  await page.goto(url('/o/deal'));
  await rows().first().waitFor();
  await page.getByLabel('视图名称').click();
  await page.locator('.ant-select-item-option').filter({ hasText: '我的商机' }).click();
  await page.waitForURL(/view=mine/);
  await page.getByTestId('list-total').filter({ hasText: /^共 2 条$/ }).waitFor();
  const names = await rows().locator('a[href^="/o/deal/"]').allInnerTexts();
  assert.deepEqual(names.sort(), [`星河科技扩容 ${SCRIPT}`, '小额试用'].sort());
  const chip = page.getByTestId('filter-chip');
  assert.equal(await chip.count(), 1);
  assert.match(await chip.innerText(), /负责人 等于 林晓/);

  // The totals row sums the whole filtered list, exactly.
  const totals = page.getByTestId('list-totals');
  await totals.locator('[data-field=amount]').waitFor();
  assert.match(await totals.innerText(), /合计/);
  assert.match(await totals.locator('[data-field=amount]').innerText(), /150,000\.50/);

  await chip.getByLabel(/移除筛选/).click();
  await page.waitForURL(/filter=/);
  await page.getByTestId('filter-chips').waitFor({ state: 'detached' });
  const { json: all } = await apiCall(server.base, 'GET', '/api/v1/objects/deal/records?limit=1&total=true', undefined, rep);
  await page.getByTestId('list-total').filter({ hasText: `共 ${all.total.toLocaleString('en')} 条` }).waitFor();
  // Under a list longer than the screen the totals row stays in view.
  const box = await page.getByTestId('list-totals').locator('td').nth(1).boundingBox();
  assert.ok(box && box.y + box.height <= 900, `the totals row is out of view: ${JSON.stringify(box)}`);
  // A reload keeps the emptied filter instead of bringing the view's back.
  await page.reload();
  await page.getByTestId('list-total').filter({ hasText: `共 ${all.total.toLocaleString('en')} 条` }).waitFor();
  assert.equal(await page.getByTestId('filter-chip').count(), 0);
  await assertInert();
});

test('a filter from a link shows as a chip with names, not ids', async () => {
  const filter = { all: [{ field: 'company', op: 'eq', value: ids.company }, { field: 'stage', op: 'in', value: ['negotiation', 'proposal'] }] };
  await page.goto(url(`/o/deal?filter=${encodeURIComponent(JSON.stringify(filter))}`));
  const chips = page.getByTestId('filter-chip');
  await chips.nth(1).waitFor();
  await chips.first().filter({ hasText: `星河科技 ${SCRIPT}` }).waitFor();
  assert.match(await chips.nth(1).innerText(), /销售阶段 属于 商务谈判、方案报价/);
  assert.doesNotMatch(await page.getByTestId('filter-chips').innerText(), /[0-9a-f]{8}/);
  await rows().first().waitFor();
  assert.equal(await rows().count(), 1);
  await assertInert();
});

test('sorting by two columns shows each one\'s rank', async () => {
  await page.goto(url('/o/deal?view=mine'));
  await rows().first().waitFor();
  const header = (name) => page.locator('.ant-table-thead th').filter({ hasText: name });
  await header('金额').click();
  await header('商机名称').first().click();
  await page.getByTestId('sort-rank').nth(1).waitFor();
  assert.equal(await header('商机名称').first().getByTestId('sort-rank').innerText(), '1');
  assert.equal(await header('金额').getByTestId('sort-rank').innerText(), '2');
});

test('a task is completed from the task list', async () => {
  await page.goto(url('/o/task?view=mine'));
  const row = rows().filter({ hasText: '列表里完成的任务' });
  await row.getByTestId('complete-task').click();
  await page.locator('.ant-message-notice').filter({ hasText: '已完成“列表里完成的任务”' }).waitFor();
  await row.getByTestId('complete-task').waitFor({ state: 'detached' });
  assert.equal((await get('task', ids.task)).values.status, 'completed');
});

test('an admin makes a team on the Teams page; its lead gets "my team\'s" lists and her team\'s work at home', async () => {
  const { json: mate } = await apiCall(server.base, 'POST', '/api/v1/users',
    { name: '赵强', email: 'zhaoqiang@rapport.local', password: 'Sales-2026-zhaoqiang!', role_id: 'sales' }, admin);
  const { cookie: mateCookie } = await apiCall(server.base, 'POST', '/api/v1/auth/login', { email: 'zhaoqiang@rapport.local', password: 'Sales-2026-zhaoqiang!' });
  await create(mateCookie, 'deal', { name: '赵强的商机', stage: 'qualification', amount: { amount: '10000.00', currency: 'CNY' } });
  const yesterday = new Date(Date.now() + 480 * 60_000 - 86_400_000).toISOString().slice(0, 10);
  await create(mateCookie, 'task', { title: '赵强逾期的任务', assigned_to: mate.id, status: 'not_started', due_date: yesterday });

  const { adminPage, context } = await openAsAdmin();
  try {
    await adminPage.goto(url('/settings/teams'));
    await adminPage.getByTestId('new-team').click();
    const form = adminPage.getByTestId('team-form');
    await form.getByLabel('名称').fill(`华南销售组 ${SCRIPT}`);
    // Type a name and take the option, as a keyboard user does.
    const choose = async (label, name) => {
      await form.getByLabel(label).fill(name);
      await adminPage.locator('.ant-select-item-option-active').filter({ hasText: new RegExp(`^${name}$`) }).waitFor();
      await adminPage.keyboard.press('Enter');
    };
    await choose('成员', '林晓');
    await choose('成员', '赵强');
    await choose('负责人', '林晓');
    await adminPage.keyboard.press('Escape');
    await adminPage.waitForFunction(() => [...document.querySelectorAll('.ant-select-dropdown')].every((d) => d.offsetParent === null));
    await adminPage.locator('.ant-modal:visible').getByRole('button', { name: /保\s*存/ }).click();
    const row = adminPage.getByTestId('teams-table').locator('.ant-table-row').filter({ hasText: `华南销售组 ${SCRIPT}` });
    await row.waitFor();
    assert.match(await row.innerText(), /林晓[\s\S]*赵强/);
  } finally {
    await context.close();
  }

  await page.goto(url('/o/deal'));
  await rows().first().waitFor();
  await page.getByLabel('视图名称').click();
  await page.locator('.ant-select-item-option').filter({ hasText: '我团队的商机' }).click();
  await page.getByTestId('list-total').filter({ hasText: /^共 3 条$/ }).waitFor();
  await page.getByTestId('filter-chip').filter({ hasText: /负责人 属于 (林晓、赵强|赵强、林晓)/ }).waitFor();

  await page.goto(url('/'));
  // The deal she opened this morning is among her recent records, as a name.
  await page.getByTestId('my-recent').getByRole('link', { name: `星河科技扩容 ${SCRIPT}` }).waitFor();
  const scope = page.getByTestId('work-scope');
  await scope.getByText('我的团队').click();
  await page.getByTestId('my-tasks').getByText('赵强逾期的任务').waitFor();
  await scope.getByText('我的', { exact: true }).click();
  await page.getByTestId('my-tasks').getByText('赵强逾期的任务').waitFor({ state: 'detached' });
  await assertInert();
});

test('on a phone the menu is a drawer, lists are cards and the deal page fits the screen', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await page.goto(url('/o/deal?view=mine'));
    const cards = page.getByTestId('record-card');
    await cards.first().waitFor();
    assert.equal(await page.getByTestId('record-table').count(), 0, 'a phone gets cards, not a table');
    const card = cards.filter({ hasText: '小额试用' });
    assert.match(await card.innerText(), /金额[\s\S]*¥30,000\.50/);
    const fits = async () => {
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    };
    await fits();
    await page.screenshot({ path: join(ROOT, 'docs/screenshots/list-phone.png') });
    await page.getByTestId('open-menu').click();
    await page.locator('.ant-drawer .ant-menu-item').filter({ hasText: '任务' }).click();
    await page.waitForURL(/\/o\/task$/);
    await page.getByTestId('record-card').first().waitFor();
    await page.goto(url(`/o/deal/${ids.deal}`));
    await page.getByTestId('stage-path').waitFor();
    await fits();
    await assertInert();
  } finally {
    await page.setViewportSize({ width: 1440, height: 900 });
  }
});

test('a form checks as she types: a bad email is flagged and cleared when fixed, a taken one links to its contact', async () => {
  await apiCall(server.base, 'PATCH', `/api/v1/objects/contact/records/${ids.contact}`, { values: { email: 'zhangwei@xinghe.example' } }, rep);
  await page.goto(url('/o/contact'));
  await page.getByTestId('new-record').click();
  const form = page.getByTestId('record-form');
  await form.waitFor();
  const email = form.getByLabel('邮箱');
  const errors = form.locator('.ant-form-item-explain-error');
  await email.fill('zhangwei@');
  await errors.filter({ hasText: '不是有效的邮箱地址' }).waitFor();
  await email.fill('zhangwei@xinghe.example');
  // The format error goes, and the server says the address is taken — with a link to whose.
  await errors.filter({ hasText: '不是有效的邮箱地址' }).waitFor({ state: 'detached' });
  const taken = form.getByTestId('duplicate-of');
  await taken.getByRole('link', { name: '张伟' }).waitFor();
  await email.fill('zhangwei2@xinghe.example');
  await taken.waitFor({ state: 'detached' });
  // A save refused by the server shows its error until the field is changed.
  await form.getByLabel('姓名').fill('张伟');
  await email.fill('zhangwei@xinghe.example');
  await page.getByTestId('record-form-save').click();
  await taken.getByRole('link', { name: '张伟' }).waitFor();
  await taken.getByRole('link', { name: '张伟' }).click();
  await page.waitForURL(new RegExp(`/o/contact/${ids.contact}$`));
  await assertInert();
});

test('global search finds a serial number, tells two people of the same name apart, and shows all results', async () => {
  await apiCall(server.base, 'POST', '/api/v1/objects/company/fields', { label: { zh: '统一社会信用代码' }, type: 'text', config: { searchable: true } }, admin);
  const other = await create(rep, 'company', { name: '澄海测绘', tong_yi_she_hui_xin_yong_dai_ma: 'SN-2024-0850' });
  for (const company of [ids.company, other]) await create(rep, 'contact', { name: '王磊', company });
  await page.goto(url('/o/deal'));
  await rows().first().waitFor();
  await page.keyboard.press('Control+k');
  const box = page.getByRole('combobox', { name: '搜索' });
  await box.fill('sn-2024-0850');
  const hits = page.locator('#search-results [role=option]');
  await hits.filter({ hasText: '澄海测绘' }).filter({ hasText: 'SN-2024-0850' }).waitFor();
  await box.fill('王磊');
  await hits.nth(1).waitFor();
  await hits.filter({ hasText: '澄海测绘' }).waitFor();
  const details = (await hits.allInnerTexts()).filter((t) => t.includes('王磊') && (t.includes('澄海测绘') || t.includes(`星河科技 ${SCRIPT}`)));
  assert.equal(details.length, 2, details.join('\n'));
  assert.ok(details.every((t) => t.includes('林晓')), 'each hit names its owner');
  await page.getByTestId('search-all').click();
  await page.waitForURL(/\/search\?q=/);
  const results = page.getByTestId('search-page');
  await results.getByText('澄海测绘').first().waitFor();
  assert.equal(await results.locator('.ant-list-item').filter({ hasText: '王磊' }).filter({ hasText: '澄海测绘' }).count(), 1);
  await assertInert();
});

test('the kanban takes the list\'s filter as chips, totals in the cards\' format, and a card dragged by its title', async () => {
  const filter = encodeURIComponent(JSON.stringify({ field: 'owner_id', op: 'eq', value: repId }));
  await page.goto(url(`/o/deal/kanban?filter=${filter}`));
  await page.getByTestId('filter-chip').filter({ hasText: /负责人 等于 林晓/ }).waitFor();
  const from = page.getByTestId('kanban-column-prospecting');
  const to = page.getByTestId('kanban-column-qualification');
  await from.getByTestId('kanban-card').first().waitFor();
  assert.deepEqual(await from.getByTestId('kanban-card').evaluateAll((cards) => cards.map((c) => c.dataset.name)), ['小额试用']);
  assert.equal(await from.getByTestId('kanban-total').innerText(), '¥30,000.50');
  const title = from.getByRole('link', { name: '小额试用' });
  const a = await title.boundingBox();
  const b = await to.boundingBox();
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  // Toward the middle of the other column, whatever its height (a filtered column is short).
  const [x0, y0, x1, y1] = [a.x + a.width / 2, a.y + a.height / 2, b.x + b.width / 2, b.y + b.height / 2];
  for (let i = 1; i <= 12; i++) await page.mouse.move(x0 + ((x1 - x0) * i) / 12, y0 + ((y1 - y0) * i) / 12);
  await page.mouse.up();
  await page.locator('.ant-message-notice').filter({ hasText: '已移至「需求确认」' }).waitFor();
  await to.getByTestId('kanban-card').filter({ hasText: '小额试用' }).waitFor();
  assert.equal(page.url().includes('/kanban'), true, 'dragging the title does not open the deal');
  assert.equal((await get('deal', ids.small)).values.stage, 'qualification');
  await to.getByTestId('kanban-total').filter({ hasText: '¥30,000.50' }).waitFor();
  await assertInert();
});

test('the same in English', async () => {
  await apiCall(server.base, 'PATCH', '/api/v1/auth/me', { locale: 'en' }, rep);
  await page.goto(url('/o/deal?view=mine'));
  await rows().first().waitFor();
  await page.getByTestId('filter-chip').filter({ hasText: /Owner is 林晓/ }).waitFor();
  assert.match(await page.getByTestId('list-totals').innerText(), /Total/);
  await page.goto(url(`/o/deal/${ids.small}`));
  const path = page.getByTestId('stage-path');
  await path.getByRole('button', { name: 'Closed lost' }).click();
  await page.locator('.ant-message-notice').filter({ hasText: 'Moved to Closed lost' }).waitFor();
  await path.locator('.stage-lost[aria-current=step]').waitFor();
  assert.equal((await get('deal', ids.small)).values.probability, '0.00');
  await assertInert();
});

test('the audit log reads as sentences: actions in Chinese, targets by name, never an id', async () => {
  await apiCall(server.base, 'POST', '/api/v1/objects/contact/fields', { api_name: 'serial_no', label: { en: 'Serial', zh: `序列号 ${SCRIPT}` }, type: 'text' }, admin);
  const { json: token } = await apiCall(server.base, 'POST', '/api/v1/tokens', { name: 'ERP 同步' }, admin);
  await apiCall(server.base, 'DELETE', `/api/v1/tokens/${token.id}`, undefined, admin);
  const { adminPage, context } = await openAsAdmin();
  try {
    await adminPage.goto(url('/settings/audit'));
    const log = adminPage.getByTestId('audit-log');
    const row = (action) => log.locator('.ant-table-row').filter({ has: adminPage.locator(`[data-action="${action}"]`) });
    await row('field.create').filter({ hasText: `联系人 · 序列号 ${SCRIPT}` }).waitFor();
    assert.match(await row('field.create').first().innerText(), /新建字段/);
    await row('token.create').filter({ hasText: 'ERP 同步' }).waitFor();
    assert.match(await row('token.revoke').first().innerText(), /吊销 API 令牌\s+(ERP 同步|已删除的API 令牌)/);
    await row('user.create').filter({ hasText: '林晓' }).waitFor();
    assert.match(await row('login').first().innerText(), /登录/);
    const text = await log.innerText();
    assert.doesNotMatch(text, /[0-9a-f]{8}-[0-9a-f]{4}|\b[0-9a-f]{8}\b/, 'the audit log shows an id');
    assert.doesNotMatch(text, /\b(field|token|user)\.(create|revoke|update)\b/, 'the audit log shows an action code');
    assert.equal(await adminPage.locator('img[src="x"]').count(), 0);
  } finally {
    await context.close();
  }
});

test('the Chinese interface shows no English sentence from the server: data-health warnings, held events, errors', async () => {
  const { adminPage, context } = await openAsAdmin();
  const ENGLISH = /\b(the|could|not|refused|with|was|were|is|are|has)\b/i;
  // Where the server's words can reach a reader: warnings, alerts, tags, messages, form errors.
  const serverText = async () =>
    adminPage.locator('[data-testid=warning-sentence], .ant-alert, .ant-tag, .ant-message, .ant-form-item-explain, .ant-result, .ant-empty-description').allInnerTexts();
  try {
    await adminPage.goto(url('/cdp/health'));
    const sentences = adminPage.getByTestId('warning-sentence');
    await sentences.first().waitFor();
    for (const text of await serverText()) assert.doesNotMatch(text, ENGLISH, `English on the health page: ${text}`);
    assert.doesNotMatch((await adminPage.getByTestId('health-warnings').innerText()), /[0-9a-f]{8}-[0-9a-f]{4}/, 'a warning shows a profile id');
    await adminPage.goto(url('/cdp/registry'));
    await adminPage.getByTestId('event-types').locator('.ant-table-row').first().waitFor();
    for (const text of await serverText()) assert.doesNotMatch(text, ENGLISH, `English on the registry page: ${text}`);
    // A refused save: the field's error and the message are Chinese.
    await adminPage.goto(url('/o/contact'));
    await adminPage.getByTestId('new-record').click();
    const form = adminPage.getByTestId('record-form');
    await form.getByLabel('邮箱').fill('not an email');
    await adminPage.getByTestId('record-form-save').click();
    await form.locator('.ant-form-item-explain-error').first().waitFor();
    for (const text of await serverText()) assert.doesNotMatch(text, ENGLISH, `English in the form: ${text}`);
  } finally {
    await context.close();
  }
});

