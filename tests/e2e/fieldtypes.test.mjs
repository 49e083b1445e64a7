// The four field types of issue 11 in a real browser against the real binary: an administrator
// adds an auto number (with its preview), a multi-user, an address and an images-only
// attachment field to deals in the object manager; a new deal's form has no input for the auto
// number, takes two people by name, a region picked as 上海市 › 徐汇区 and a street, and a picture
// made here, while a text file and a too large picture are refused in Chinese; the record page,
// the list, the kanban and the phone cards show names, the address as one line and the
// thumbnail; the list is filtered by region and by person. Street and file name carry
// script-like text that must stay text. Chinese at desktop width, then English, then the record
// page at 390 px.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { ADMIN, apiCall, launchBrowser, signedInPage, startServer } from './harness.mjs';

const SCRIPT = '<img src=x onerror=alert(1)>';
const PICTURE = `${SCRIPT}.png`;
const YEAR = new Date().getUTCFullYear();
const NUMBER = new RegExp(`^HT-${YEAR}-\\d{4}$`);

let server;
let browser;
let page;
let admin;
const dialogs = [];
const ids = {};
const users = {};

const url = (path) => `${server.base}${path}`;
const get = async (path) => (await apiCall(server.base, 'GET', path, undefined, admin)).json;

/** A PNG of one colour, made here: the server judges pictures by their content. */
function png(width, height, rgb) {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per sample
  header[9] = 2; // RGB
  const row = Buffer.from([0, ...Array.from({ length: width }, () => rgb).flat()]);
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixels)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  ({ cookie: admin } = await apiCall(server.base, 'POST', '/api/v1/auth/login', ADMIN));
  await apiCall(server.base, 'PATCH', '/api/v1/auth/me', { locale: 'zh-CN' }, admin);
  for (const u of await get('/api/v1/users')) users[u.name] = u.id;
  ({ page } = await signedInPage(browser, server.base, admin, dialogs));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function assertInert() {
  assert.deepEqual(dialogs, [], 'a dialog opened: record text ran as script');
  assert.equal(await page.locator('img[src="x"]').count(), 0, 'record text became an <img> element');
}

/** Screenshots for a look at the pages, when E2E_SHOTS names a directory. */
async function shot(name) {
  if (!process.env.E2E_SHOTS) return;
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(process.env.E2E_SHOTS, `fieldtypes-${name}.png`), fullPage: true });
}

const toast = (text) => page.locator('.ant-message-notice').filter({ hasText: text }).first().waitFor();

/** Types into a select and takes the option, as a keyboard user does. */
async function choose(select, name) {
  await select.fill(name);
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option-active').filter({ hasText: new RegExp(`^${name}$`) }).waitFor();
  await page.keyboard.press('Enter');
}

/** Closes open dropdowns with a click on the drawer's title (Escape would close the drawer). */
async function closeDropdowns() {
  await page.locator('.ant-drawer-title:visible').click();
  await page.waitForFunction(() => [...document.querySelectorAll('.ant-select-dropdown, .ant-cascader-dropdown')].every((d) => d.offsetParent === null));
}

test('an administrator adds an auto number, a multi-user, an address and an attachment field to deals', async () => {
  await page.goto(url('/settings/objects/deal'));
  const addField = async (type, zh, en, api, extra) => {
    await page.getByTestId('new-field').click();
    const f = page.getByTestId('new-field-form');
    await f.waitFor();
    await choose(f.getByLabel('类型'), type);
    await f.getByLabel('中文名称').fill(zh);
    await f.getByLabel('英文名称').fill(en);
    await f.getByLabel('API 名称').fill(api);
    if (extra) await extra(f);
    await page.locator('.ant-modal:visible').getByRole('button', { name: /新\s*建/ }).click();
    await toast(`已添加字段「${zh}」`);
    await page.locator('.ant-modal:visible').waitFor({ state: 'detached' }).catch(() => {});
  };
  await addField('自动编号', '合同编号', 'Contract no.', 'contract_no', async (f) => {
    // Required and unique make no sense for a number the server gives.
    assert.equal(await f.getByLabel('必填').count(), 0);
    const format = f.getByLabel('编号格式');
    const preview = f.getByTestId('auto-number-preview');
    await format.fill('HT-{YYYY}');
    await preview.waitFor({ state: 'detached' });
    await f.getByText('需要恰好一组花括号中的 0，如 {0000}').waitFor();
    await format.fill('HT-{YYYY}-{0000}');
    assert.equal(await preview.innerText(), `示例：HT-${YEAR}-0001`);
    await shot('auto-number');
  });
  await addField('多个用户', '评审人', 'Reviewers', 'reviewers');
  await addField('地址', '签约地址', 'Site address', 'site');
  await addField('附件', '现场照片', 'Site photos', 'photos', async (f) => {
    await f.getByLabel('仅限图片（PNG、JPEG、GIF、WebP）').check();
    await f.getByLabel('每条记录最多文件数').fill('3');
    await f.getByLabel('单个文件上限（MB）').fill('1');
    await shot('attachment-settings');
  });

  const deal = (await get('/api/v1/objects')).find((o) => o.api_name === 'deal');
  const byName = Object.fromEntries(deal.fields.map((f) => [f.api_name, f]));
  assert.equal(byName.contract_no.type, 'auto_number');
  assert.equal(byName.contract_no.config.format, 'HT-{YYYY}-{0000}');
  assert.equal(byName.reviewers.type, 'multi_user');
  assert.equal(byName.site.type, 'address');
  assert.deepEqual(
    { type: byName.photos.type, ...byName.photos.config },
    { type: 'attachment', images_only: true, max_files: 3, max_size_mb: 1 },
  );
  for (const [api, type] of [['contract_no', '自动编号'], ['reviewers', '多个用户'], ['site', '地址'], ['photos', '附件']]) {
    await page.locator('.ant-table-row').filter({ hasText: api }).getByText(type, { exact: true }).waitFor();
  }

  // The new fields lead the deal's first section, so lists, cards and kanban cards show them.
  const layout = deal.layout.map((s, i) => (i === 0 ? { ...s, fields: ['name', 'contract_no', 'reviewers', 'site', 'photos', ...s.fields.filter((f) => f !== 'name')] } : s));
  await apiCall(server.base, 'PATCH', '/api/v1/objects/deal', { layout }, admin);
});

test('a new deal takes two people, a region and a street, and a picture; a text file and a too large picture are refused', async () => {
  await page.goto(url('/o/deal'));
  await page.getByTestId('new-record').click();
  const form = page.getByTestId('record-form');
  await form.waitFor();
  // The server gives the auto number: no input for it.
  assert.equal(await form.getByText('合同编号').count(), 0);
  await form.getByLabel('商机名称').fill(`扩容合同 ${SCRIPT}`);
  await choose(form.getByLabel('销售阶段'), '方案报价');
  await closeDropdowns();
  const reviewers = form.getByLabel('评审人', { exact: true });
  await choose(reviewers, '张伟');
  await choose(reviewers, '李娜');
  await closeDropdowns();

  await form.getByLabel('签约地址 省 / 市 / 区').click();
  await page.locator('.ant-cascader-menu-item').filter({ hasText: /^上海市$/ }).click();
  await page.locator('.ant-cascader-menu-item').filter({ hasText: /^徐汇区$/ }).click();
  await form.getByLabel('签约地址 详细地址').fill(SCRIPT);

  const files = form.locator('input#photos[type=file]');
  await form.getByText('最多 3 张图片（PNG、JPEG、GIF、WebP），每张不超过 1 MB').waitFor();
  await files.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') });
  await toast('此字段只接受图片（PNG、JPEG、GIF 或 WebP）。');
  const big = Buffer.concat([png(4, 4, [0, 0, 255]), Buffer.alloc(1024 * 1024 + 1)]);
  await files.setInputFiles({ name: 'big.png', mimeType: 'image/png', buffer: big });
  await toast('文件超过此字段允许的大小。');
  await files.setInputFiles({ name: PICTURE, mimeType: 'image/png', buffer: png(24, 16, [31, 111, 235]) });
  await form.getByRole('img', { name: PICTURE, exact: true }).waitFor();
  await shot('form');

  const created = page.waitForResponse((r) => r.url().endsWith('/api/v1/objects/deal/records') && r.request().method() === 'POST');
  await page.getByTestId('record-form-save').click();
  const deal = await (await created).json();
  ids.shanghai = deal.id;
  assert.match(deal.values.contract_no, NUMBER);
  assert.deepEqual([...deal.values.reviewers].sort(), [users['张伟'], users['李娜']].sort());
  assert.deepEqual(deal.values.site, { code: '310104', province: '上海市', city: '上海市', district: '徐汇区', street: SCRIPT });
  assert.equal(deal.values.photos.length, 1);
  assert.equal(deal.values.photos[0].name, PICTURE);
  assert.equal(deal.values.photos[0].content_type, 'image/png');
  ids.number = deal.values.contract_no;
  await assertInert();
});

/** The value of a field in the record page's details. */
const detail = (label) =>
  page.locator('[data-testid=record-page] .ant-descriptions-item').filter({ has: page.locator('.ant-descriptions-item-label', { hasText: new RegExp(`^${label}$`) }) });

async function seesTheDealOnItsPage() {
  await page.goto(url(`/o/deal/${ids.shanghai}`));
  await page.getByTestId('record-title').waitFor();
  await detail('合同编号').getByText(ids.number, { exact: true }).waitFor();
  assert.deepEqual(await detail('评审人').locator('.ant-tag').allInnerTexts(), ['张伟', '李娜'].sort((a, b) => (users[a] < users[b] ? -1 : 1)));
  await detail('签约地址').getByText(`上海市 徐汇区 ${SCRIPT}`, { exact: true }).waitFor();
  const thumbnail = detail('现场照片').getByRole('img', { name: PICTURE, exact: true });
  await thumbnail.waitFor();
  assert.match(await thumbnail.getAttribute('src'), /^\/api\/v1\/files\/[^/]+$/);
  await page.waitForFunction((name) => [...document.images].some((i) => i.alt === name && i.complete && i.naturalWidth === 24), PICTURE);
}

test('the record page shows the auto number, the people by name, the address as one line and the thumbnail', async () => {
  await seesTheDealOnItsPage();
  await shot('record');
  // The auto number cannot be edited in place; the others can.
  assert.equal(await detail('合同编号').locator('.inline-cell-edit').count(), 0);
  assert.equal(await detail('签约地址').locator('.inline-cell-edit').count(), 1);
  await assertInert();
});

test('the list and the kanban show the same', async () => {
  await page.goto(url('/o/deal'));
  const row = page.locator('[data-testid=record-table] .ant-table-row').filter({ hasText: ids.number });
  await row.waitFor();
  await row.getByText('张伟', { exact: true }).waitFor();
  await row.getByText('李娜', { exact: true }).waitFor();
  await row.getByText(`上海市 徐汇区 ${SCRIPT}`, { exact: true }).waitFor();
  await row.getByRole('img', { name: PICTURE, exact: true }).waitFor();
  await shot('list');

  await page.goto(url('/o/deal/kanban'));
  const card = page.getByTestId('kanban-card').filter({ hasText: `扩容合同 ${SCRIPT}` });
  await card.waitFor();
  // A kanban card shows the first three fields of the layout.
  await card.getByText(ids.number, { exact: true }).waitFor();
  await card.getByText('张伟', { exact: true }).waitFor();
  await card.getByText(`上海市 徐汇区 ${SCRIPT}`, { exact: true }).waitFor();
  await shot('kanban');
  await assertInert();
});

test('the list is filtered by region and by person', async () => {
  const { json } = await apiCall(server.base, 'POST', '/api/v1/objects/deal/records', {
    values: { name: '深圳门店合同', stage: 'proposal', reviewers: [users['王芳']], site: { code: '440305', street: '科技园 1 号' } },
  }, admin);
  ids.shenzhen = json.id;
  const names = async () => (await page.locator('[data-testid=record-table] .ant-table-row a[href^="/o/deal/"]').allInnerTexts()).sort();

  await page.goto(url('/o/deal'));
  await page.locator('[data-testid=record-table] .ant-table-row').first().waitFor();
  await page.getByTestId('open-filter').click();
  await page.getByRole('button', { name: '添加条件' }).first().click();
  const rule = page.getByTestId('filter-rule').first();
  await choose(rule.getByLabel('字段'), '签约地址');
  await rule.getByLabel('值').click();
  // Any level: all of Shanghai.
  await page.locator('.ant-cascader-menu-item').filter({ hasText: /^上海市$/ }).locator('.ant-cascader-checkbox').click();
  await rule.locator('.ant-select-selection-item[title="上海市"]').waitFor();
  await closeDropdowns();
  await page.getByTestId('apply-filter').click();
  const chip = page.getByTestId('filter-chip');
  await chip.filter({ hasText: '签约地址 属于 上海市' }).waitFor();
  await page.getByTestId('list-total').filter({ hasText: /^共 1 条$/ }).waitFor();
  assert.deepEqual(await names(), [`扩容合同 ${SCRIPT}`]);
  await shot('filter-region');
  assert.deepEqual(JSON.parse(new URL(page.url()).searchParams.get('filter')), { all: [{ field: 'site', op: 'in', value: ['31'] }] });

  await chip.getByLabel(/移除筛选/).click();
  await page.getByTestId('open-filter').click();
  await page.getByRole('button', { name: '添加条件' }).first().click();
  const byPerson = page.getByTestId('filter-rule').first();
  await choose(byPerson.getByLabel('字段'), '评审人');
  await choose(byPerson.getByLabel('值'), '王芳');
  await page.getByTestId('apply-filter').click();
  await chip.filter({ hasText: '评审人 包含 王芳' }).waitFor();
  await page.getByTestId('list-total').filter({ hasText: /^共 1 条$/ }).waitFor();
  assert.deepEqual(await names(), ['深圳门店合同']);
  await assertInert();
});

test('the same in English', async () => {
  await apiCall(server.base, 'PATCH', '/api/v1/auth/me', { locale: 'en' }, admin);
  await page.evaluate(() => localStorage.setItem('rapport.locale', 'en'));
  await page.goto(url('/settings/objects/deal'));
  for (const [api, type] of [['contract_no', 'Auto number'], ['reviewers', 'Multiple users'], ['site', 'Address'], ['photos', 'Attachment']]) {
    await page.locator('.ant-table-row').filter({ hasText: api }).getByText(type, { exact: true }).waitFor();
  }
  await page.goto(url(`/o/deal/${ids.shanghai}`));
  // Place names read the same in both languages.
  await page.locator('.ant-descriptions-item').filter({ hasText: 'Site address' }).getByText(`上海市 徐汇区 ${SCRIPT}`, { exact: true }).waitFor();
  await page.getByTestId('edit-record').click();
  const form = page.getByTestId('record-form');
  await form.getByText('Up to 3 images (PNG, JPEG, GIF, WebP), 1 MB each').waitFor();
  await form.locator('input#photos[type=file]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') });
  await toast('This field takes images only (PNG, JPEG, GIF or WebP).');
  await page.keyboard.press('Escape');
  await apiCall(server.base, 'PATCH', '/api/v1/auth/me', { locale: 'zh-CN' }, admin);
  await page.evaluate(() => localStorage.setItem('rapport.locale', 'zh-CN'));
  await assertInert();
});

test('on a phone (390 px) the record page and the cards show the same, without sideways scrolling', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await seesTheDealOnItsPage();
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'the record page scrolls sideways');
    await shot('record-phone');
    await page.goto(url('/o/deal'));
    const card = page.getByTestId('record-card').filter({ hasText: `扩容合同 ${SCRIPT}` });
    await card.waitFor();
    await card.getByText(ids.number, { exact: true }).waitFor();
    await card.getByText('张伟', { exact: true }).waitFor();
    await card.getByText(`上海市 徐汇区 ${SCRIPT}`, { exact: true }).waitFor();
    await card.getByRole('img', { name: PICTURE, exact: true }).waitFor();
    await assertInert();
  } finally {
    await page.setViewportSize({ width: 1440, height: 900 });
  }
});
