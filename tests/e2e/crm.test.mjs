// The salesperson's day in a real browser against the real binary: a new user logs in, creates
// the custom object 设备 / Equipment with three fields, adds a record, filters the list, deletes
// a record and restores it from the recycle bin, drags a deal to another stage on the kanban,
// finds the change in the deal's history, restores the old value, and switches the language.
// Takes the README's screenshots and measures the first meaningful paint of a list view
// (reported, never asserted). Last, a kanban column of more than 50 deals pages in with
// "load more".
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg, tmpdir } from 'node:os';
import { ADMIN, ROOT, apiCall, launchBrowser, startServer } from './harness.mjs';

const SHOTS = join(ROOT, 'docs/screenshots');
const USER = { name: '李雷', email: 'lilei@rapport.local', password: 'Sales-2026-rapport!' };

let server;
let browser;
let page;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const { cookie } = await apiCall(server.base, 'POST', '/api/v1/auth/login', ADMIN);
  await apiCall(server.base, 'POST', '/api/v1/users', { ...USER, role_id: 'admin' }, cookie);
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const url = (path) => `${server.base}${path}`;

async function expectText(locator, text) {
  await locator.filter({ hasText: text }).first().waitFor({ state: 'visible' });
}

async function toast(text) {
  await page.locator('.ant-message-notice').filter({ hasText: text }).first().waitFor({ state: 'visible' });
}

test('a new user logs in, and the session survives a reload', async () => {
  await page.goto(url('/o/deal'));
  await page.waitForURL(/\/login/);
  await page.getByLabel('邮箱').fill(USER.email);
  await page.getByLabel('密码').fill('wrong password');
  await page.getByRole('button', { name: /登\s*录/ }).click();
  await page.getByRole('alert').filter({ hasText: '邮箱或密码错误' }).waitFor();
  await page.getByLabel('密码').fill(USER.password);
  await page.getByRole('button', { name: /登\s*录/ }).click();
  await page.waitForURL(/\/o\/deal$/);
  await page.locator('.ant-table-row').first().waitFor();
  await page.reload();
  await page.locator('.ant-table-row').first().waitFor();
  assert.match(page.url(), /\/o\/deal$/);
});

test('creates the custom object 设备 / Equipment with three fields; it appears in the menu', async () => {
  await page.goto(url('/settings/objects'));
  await page.getByTestId('new-object').click();
  const form = page.getByTestId('new-object-form');
  await form.getByLabel('中文名称').nth(0).fill('设备');
  await form.getByLabel('英文名称').nth(0).fill('Equipment');
  await form.getByLabel('中文名称').nth(1).fill('设备');
  await form.getByLabel('英文名称').nth(1).fill('Equipment');
  // The API name is left to the server, which makes it from the English name.
  assert.equal(await form.getByLabel('API 名称').inputValue(), '');
  await page.getByRole('button', { name: /新\s*建/ }).last().click();
  await page.waitForURL(/\/settings\/objects\/equipment$/);

  const addField = async (type, zh, en, extra) => {
    await page.getByTestId('new-field').click();
    const f = page.getByTestId('new-field-form');
    await f.waitFor();
    if (type) {
      await f.getByLabel('类型').click();
      await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: new RegExp(`^${type}$`) }).click();
    }
    await f.getByLabel('中文名称').fill(zh);
    if (en) await f.getByLabel('英文名称').fill(en);
    if (extra) await extra(f);
    await page.locator('.ant-modal:visible').getByRole('button', { name: /新\s*建/ }).click();
    await toast(`已添加字段「${zh}」`);
    await page.locator('.ant-modal:visible').waitFor({ state: 'detached' }).catch(() => {});
  };
  await addField(null, '序列号', 'Serial number', async (f) => f.getByLabel('唯一').check());
  await addField('单选', '状态', 'Status', async (f) => {
    for (const [zh, en] of [['在用', 'In use'], ['维修中', 'Under repair']]) {
      await f.getByRole('button', { name: '添加选项' }).click();
      await f.getByPlaceholder('中文名称').last().fill(zh);
      await f.getByPlaceholder('英文名称').last().fill(en);
    }
  });
  await addField('金额', '采购价', 'Purchase price');
  // Chinese only: the English name is optional, the API name and option values are pinyin.
  await addField('单选', '保修级别', null, async (f) => {
    for (const zh of ['金牌', '银牌']) {
      await f.getByRole('button', { name: '添加选项' }).click();
      await f.getByPlaceholder('中文名称').last().fill(zh);
    }
  });
  await toast('API 名称：bao_xiu_ji_bie');
  const rows = page.locator('.ant-table-row');
  await expectText(rows, 'purchase_price');
  await expectText(rows, 'bao_xiu_ji_bie');
  assert.equal(await rows.count(), 5);
  const { cookie } = await apiCall(server.base, 'POST', '/api/v1/auth/login', ADMIN);
  const { json: equipment } = await apiCall(server.base, 'GET', '/api/v1/objects/equipment', undefined, cookie);
  const level = equipment.fields.find((f) => f.api_name === 'bao_xiu_ji_bie');
  assert.deepEqual(level.config.options.map((o) => [o.value, o.label.en, o.label.zh]), [['jin_pai', '金牌', '金牌'], ['yin_pai', '银牌', '银牌']]);

  // The menu comes from metadata: the new object is there without a deploy.
  await page.locator('.ant-menu-item').filter({ hasText: '设备' }).click();
  await page.waitForURL(/\/o\/equipment$/);
});

test('adds a record through the generated form, with the server\'s validation on the field', async () => {
  // Another record exists already, added the way an integration adds one.
  const { cookie } = await apiCall(server.base, 'POST', '/api/v1/auth/login', ADMIN);
  await apiCall(server.base, 'POST', '/api/v1/objects/equipment/records', { values: { name: '激光切割机 LC-7', serial_number: 'SN-0001', status: 'under_repair' } }, cookie);

  await page.getByTestId('new-record').click();
  const form = page.getByTestId('record-form');
  await form.getByLabel('名称').fill('数控机床 CNC-001');
  await form.getByLabel('序列号').fill('SN-0001');
  await form.getByLabel('状态').click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: '在用' }).click();
  await form.getByLabel('采购价', { exact: true }).fill('128000.50');
  await page.getByTestId('record-form-save').click();
  // The serial number is unique: the server says so, on that field.
  await form.locator('.ant-form-item-explain-error').filter({ hasText: '已有其他记录使用此值' }).waitFor();
  await form.getByLabel('序列号').fill('SN-0002');
  await page.getByTestId('record-form-save').click();
  await page.waitForURL(/\/o\/equipment\/[0-9a-f-]{36}$/);
  await expectText(page.getByTestId('record-title'), '数控机床 CNC-001');
  await expectText(page.getByTestId('record-page'), '¥128,000.50');
});

test('filters the list with the visual filter builder', async () => {
  await page.goto(url('/o/equipment'));
  const rows = page.locator('[data-testid=record-table] .ant-table-row');
  await rows.nth(1).waitFor();
  assert.equal(await rows.count(), 2);
  await page.getByTestId('open-filter').click();
  await page.getByRole('button', { name: '添加条件' }).first().click();
  const rule = page.getByTestId('filter-rule').first();
  await rule.getByLabel('字段').click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: /^状态$/ }).click();
  await rule.getByLabel('值').click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: '在用' }).click();
  await page.getByTestId('apply-filter').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=record-table] .ant-table-row').length === 1);
  await expectText(rows, '数控机床 CNC-001');
  await expectText(page.getByTestId('list-total'), '共 1 条');
});

test('deletes a record and restores it from the recycle bin', async () => {
  await page.goto(url('/o/equipment'));
  const rows = page.locator('[data-testid=record-table] .ant-table-row');
  await rows.nth(1).waitFor();
  await rows.filter({ hasText: '激光切割机 LC-7' }).getByRole('checkbox').check();
  await page.getByRole('button', { name: '批量删除' }).click();
  await page.locator('.ant-modal-confirm').getByRole('button', { name: /删\s*除/ }).click();
  await toast('已删除 1 条记录');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=record-table] .ant-table-row').length === 1);

  await page.getByTestId('open-recycle-bin').click();
  await page.waitForURL(/\/o\/equipment\/recycle-bin$/);
  const bin = page.getByTestId('recycle-bin');
  await bin.locator('.ant-table-row').filter({ hasText: '激光切割机 LC-7' }).getByTestId('restore-record').click();
  await toast('已恢复「激光切割机 LC-7」');
  await bin.getByText('回收站是空的').waitFor();

  await page.getByRole('link', { name: '返回设备' }).click();
  await page.waitForURL(/\/o\/equipment$/);
  await expectText(rows, '激光切割机 LC-7');
  assert.equal(await rows.count(), 2);
});

let movedDeal;

test('drags a deal to another stage on the kanban', async () => {
  await page.goto(url('/o/deal/kanban'));
  const from = page.getByTestId('kanban-column-prospecting');
  const to = page.getByTestId('kanban-column-qualification');
  const card = from.getByTestId('kanban-card').first();
  await card.waitFor();
  await to.getByTestId('kanban-card').first().waitFor();
  await to.getByTestId('kanban-total').waitFor();
  movedDeal = await card.getAttribute('data-name');
  const before = await to.getByTestId('kanban-count').innerText();
  await page.screenshot({ path: join(SHOTS, 'kanban.png') });

  const a = await card.boundingBox();
  const b = await to.boundingBox();
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) {
    await page.mouse.move(a.x + a.width / 2 + ((b.x + b.width / 2 - a.x - a.width / 2) * i) / 12, a.y + 40 + (i * 10));
  }
  await page.mouse.up();
  await toast('已移至「需求确认」');
  await to.getByTestId('kanban-card').filter({ hasText: movedDeal }).first().waitFor();
  await page.waitForFunction(
    ([selector, old]) => document.querySelector(selector)?.textContent !== old,
    ['[data-testid=kanban-column-qualification] [data-testid=kanban-count]', before],
  );
});

test('finds the change in the deal history and restores the old value', async () => {
  await page.getByTestId('kanban-column-qualification').getByRole('link', { name: movedDeal }).first().click();
  await page.waitForURL(/\/o\/deal\/[0-9a-f-]{36}$/);
  const change = page.getByTestId('history-change').filter({ has: page.locator('[data-testid=history-new]', { hasText: '需求确认' }) }).first();
  await change.waitFor();
  await expectText(change.getByTestId('history-old'), '初步接洽');
  await expectText(change, '网页端');
  await change.getByTestId('restore-change').click();
  await toast('旧值已恢复');
  // The restore is itself a recorded change, back to the old stage.
  const restored = page.getByTestId('history-change').filter({ has: page.locator('[data-testid=history-new]', { hasText: '初步接洽' }) }).first();
  await restored.waitFor();
  await expectText(restored.getByTestId('history-old'), '需求确认');
  await page.locator('.ant-message-notice').first().waitFor({ state: 'detached', timeout: 10_000 });
  await page.screenshot({ path: join(SHOTS, 'record.png') });
});

test('switches the language; the choice is kept in the profile', async () => {
  // The choice is saved in the user's profile; reload only once the server has it.
  const saved = page.waitForResponse(
    (r) => r.url().endsWith('/api/v1/auth/me') && r.request().method() === 'PATCH' && r.ok(),
  );
  await page.getByTestId('language-switch').getByText('EN').click();
  await saved;
  await expectText(page.locator('.ant-menu'), 'Home');
  await expectText(page.locator('.ant-tabs-tab'), 'Details');
  await expectText(page.locator('.ant-card-head'), 'Timeline');
  await page.reload();
  await expectText(page.locator('.ant-menu'), 'Deals');
  await expectText(page.getByTestId('timeline'), 'Restore old value');
  await page.goto(url('/o/deal'));
  await page.locator('.ant-table-row').first().waitFor();
  await expectText(page.locator('.ant-table-thead'), 'Deal name');
  await page.screenshot({ path: join(SHOTS, 'list.png') });
});

test('works at tablet width', async () => {
  await page.setViewportSize({ width: 820, height: 1180 });
  await page.goto(url('/o/deal'));
  await page.locator('.ant-table-row').first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px at tablet width`);
  await page.setViewportSize({ width: 1440, height: 900 });
});

test('measures the first meaningful paint of a list view (reported, not asserted)', async () => {
  // A new context: the signed-in session, but an empty HTTP cache, so the first load is cold.
  const context = await browser.newContext({
    viewport: { width: 1440, height: 900 },
    locale: 'zh-CN',
    storageState: await page.context().storageState(),
  });
  const fresh = await context.newPage();
  // Marks the moment the first table rows are in the document, relative to navigation start.
  await fresh.addInitScript(() => {
    const observer = new MutationObserver(() => {
      if (document.querySelector('[data-testid=record-table] .ant-table-row')) {
        window.__rowsAt = performance.now();
        observer.disconnect();
      }
    });
    observer.observe(document, { childList: true, subtree: true });
  });
  // The app's own scripts and styles come precompressed (brotli, which Chromium accepts).
  const uncompressed = [];
  const watch = async (response) => {
    const path = new URL(response.url()).pathname;
    if (!/\.(js|css)$/.test(path) || response.status() !== 200) return;
    const headers = await response.allHeaders();
    if (Number(headers['content-length'] ?? 2048) >= 1024 && headers['content-encoding'] !== 'br') {
      uncompressed.push(`${path}: ${headers['content-encoding'] ?? 'identity'}`);
    }
  };
  fresh.on('response', watch);
  const samples = [];
  let scripts = 0;
  let transferred = 0;
  let decoded = 0;
  let api = 0;
  for (let i = 0; i < 6; i++) {
    await fresh.goto(url('/o/deal'), { waitUntil: 'commit' });
    await fresh.waitForFunction(() => typeof window.__rowsAt === 'number', null, { timeout: 30_000 });
    const { rowsAt, js, bytes, body, json } = await fresh.evaluate(() => {
      const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
      return {
        rowsAt: window.__rowsAt,
        js: performance.getEntriesByType('resource').filter((r) => r.name.endsWith('.js')).length,
        bytes: entries.reduce((sum, e) => sum + (e.transferSize ?? 0), 0),
        body: entries.reduce((sum, e) => sum + (e.decodedBodySize ?? 0), 0),
        json: entries.filter((e) => new URL(e.name).pathname.startsWith('/api/')).reduce((sum, e) => sum + (e.transferSize ?? 0), 0),
      };
    });
    samples.push(rowsAt);
    if (i === 0) {
      scripts = js;
      transferred = bytes;
      decoded = body;
      api = json;
    }
  }
  fresh.off('response', watch);
  assert.deepEqual(uncompressed, [], 'scripts and styles served without compression');
  await context.close();
  const warm = samples.slice(1).sort((x, y) => x - y);
  const result = {
    cold_ms: Math.round(samples[0]),
    cold_transferred_kib: Math.round(transferred / 1024),
    cold_decoded_kib: Math.round(decoded / 1024),
    // Of the transfer: the API's answers (JSON; the rest is the app's files).
    cold_api_kib: Math.round(api / 1024),
    warm_median_ms: Math.round(warm[Math.floor(warm.length / 2)]),
    samples_ms: samples.map(Math.round),
    scripts_loaded: scripts,
    cores: cpus().length,
    load_average_1m: Number(loadavg()[0].toFixed(2)),
  };
  const out = join(tmpdir(), 'rapport-e2e-first-paint.json');
  writeFileSync(out, JSON.stringify(result, null, 2));
  console.log(`first meaningful paint of /o/deal (rows visible): ${JSON.stringify(result)} (also in ${out})`);
});

test('a kanban column with more than 50 cards loads the rest with "load more"', async () => {
  const { cookie } = await apiCall(server.base, 'POST', '/api/v1/auth/login', ADMIN);
  const { json: deal } = await apiCall(server.base, 'GET', '/api/v1/objects/deal', undefined, cookie);
  const required = deal.fields.filter((f) => f.required && !f.archived_at).map((f) => f.api_name);
  assert.deepEqual(required.filter((f) => !['name', 'stage', 'amount'].includes(f)), [], 'a deal needs only a name');
  const records = Array.from({ length: 60 }, (_, i) => ({
    values: { name: `E2E 批量商机 ${i + 1}`, stage: 'negotiation', amount: { amount: String(1000 + i), currency: 'CNY' } },
  }));
  await apiCall(server.base, 'POST', '/api/v1/objects/deal/records/batch/create', { records }, cookie);
  const { json: totals } = await apiCall(server.base, 'POST', '/api/v1/objects/deal/records/aggregate', { group_by: 'stage', metrics: [] }, cookie);
  const count = totals.groups.find((g) => g.key === 'negotiation').count;
  assert.ok(count >= 60 && count <= 100, `negotiation has ${count} deals`);

  await page.goto(url('/o/deal/kanban'));
  const column = page.getByTestId('kanban-column-negotiation');
  const cards = column.getByTestId('kanban-card');
  await cards.nth(49).waitFor();
  await expectText(column.getByTestId('kanban-count'), `${count} cards`);
  assert.equal(await cards.count(), 50);
  const more = column.getByTestId('kanban-load-more');
  await expectText(more, `Load more (50 of ${count})`);
  await more.click();
  await cards.nth(count - 1).waitFor();
  assert.equal(await cards.count(), count);
  await more.waitFor({ state: 'detached' });
  assert.equal(new Set(await cards.evaluateAll((els) => els.map((e) => e.dataset.name))).size, count, 'no card is shown twice');
});

mkdirSync(SHOTS, { recursive: true });
