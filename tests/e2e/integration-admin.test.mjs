// The semantic dictionary and inbound webhooks in a real browser against the real binary: the
// admin maps the deal's order status to ERP codes (shipped ↔ SHIPPED) in Chinese, a repeated
// value is caught before saving, a translation of an unmapped ERP code is refused with the
// reason and then listed as unmapped, one click maps it (signed ↔ CONTRACTED) and the
// translation succeeds; then the admin makes an inbound hook (Standard Webhooks) that finds
// deals by ERP order number and translates the status through the dictionary, copies its
// secret from the one-time dialog, and the test posts a signed request (signed here with Node's
// crypto as Standard Webhooks says) carrying a script payload, and an unsigned one: the log
// shows the accepted request with a link to its deal and the rejected one with its reason and
// no payload kept; script payloads stay text throughout; the pages read in English and work at
// tablet width.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { ADMIN, apiCall, launchBrowser, signedInPage, startServer, until } from './harness.mjs';

const SCRIPT = '<img src=x onerror=alert(1)>';
const HOOK = 'ERP 发货回传';

let server;
let browser;
let context;
let page;
let cookie;
let secret;
let hookPath;
const dialogs = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  ({ cookie } = await apiCall(server.base, 'POST', '/api/v1/auth/login', ADMIN));
  await apiCall(server.base, 'POST', '/api/v1/objects/deal/fields', {
    api_name: 'order_status',
    label: { zh: '订单状态', en: 'Order status' },
    type: 'select',
    config: { options: [{ value: 'signed', label: { zh: '已签约', en: 'Signed' } }, { value: 'shipped', label: { zh: '已发货', en: 'Shipped' } }] },
  }, cookie);
  await apiCall(server.base, 'POST', '/api/v1/objects/deal/fields', { api_name: 'erp_order_no', label: { zh: 'ERP 订单号', en: 'ERP order no.' }, type: 'text' }, cookie);
  ({ context, page } = await signedInPage(browser, server.base, cookie, dialogs));
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const url = (path) => `${server.base}${path}`;
const modal = () => page.locator('.ant-modal:visible');
const card = () => page.locator('[data-testid=value-map][data-field="deal.order_status"]');

async function assertInert() {
  assert.deepEqual(dialogs, [], 'a dialog opened: text ran as script');
  assert.equal(await page.locator('img[src="x"]').count(), 0, 'the payload became an <img> element');
}

/** Picks the option whose text is exactly `text` in a searchable select (its list is virtual: typed, then clicked). */
async function choose(select, text) {
  await select.click();
  await page.keyboard.type(text);
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }).click();
}

/** Tries a translation in the mapping's box; answers the box. */
async function translate(direction, value) {
  const box = card().getByTestId('translate-box');
  await box.getByText(direction, { exact: true }).click();
  await box.getByRole('textbox').fill(value);
  await box.getByTestId('translate-run').click();
  return box;
}

/** A request to the hook signed as Standard Webhooks says: HMAC-SHA256 under the base64 key after whsec_. */
async function postSigned(id, body) {
  const timestamp = Math.floor(Date.now() / 1000);
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return fetch(url(hookPath), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` },
    body,
  });
}

test('the admin maps the order status to ERP codes; a repeated value is caught before saving', async () => {
  await page.goto(url('/settings/dictionary'));
  await page.getByRole('heading', { name: '语义字典' }).waitFor();
  await page.getByRole('menuitem', { name: '语义字典' }).waitFor();
  // The demo's mapping of the deal stages to the ERP's codes.
  await page.locator('[data-testid=value-map][data-field="deal.stage"]').getByText('金蝶 ERP 的商机状态码').waitFor();
  const usage = await page.getByTestId('dictionary-usage').innerText();
  assert.match(usage, /\{\{record\.order_status \| map:ERP\}\}/);
  assert.match(usage, /"\/status \| map:ERP"/);

  await page.getByTestId('new-value-map').click();
  const form = page.getByTestId('value-map-form');
  await form.getByLabel('系统').fill('ERP');
  await choose(form.getByLabel('对象'), '商机');
  await choose(form.getByLabel('字段'), '订单状态 · 单选');
  const rows = form.getByTestId('entry-row');
  await choose(rows.nth(0).getByLabel('CRM 取值'), '已发货 (shipped)');
  await rows.nth(0).getByLabel('编码').fill('SHIPPED');
  await form.getByTestId('entry-add').click();
  await choose(rows.nth(1).getByLabel('CRM 取值'), '已发货 (shipped)');
  await rows.nth(1).getByLabel('编码').fill('SHIPPED');
  await modal().getByRole('button', { name: /保\s*存/ }).click();
  await form.getByText('该取值已在其他行中映射').first().waitFor();
  await form.getByText('该编码已在其他行中使用').first().waitFor();
  await rows.nth(1).getByTestId('entry-remove').click();
  await modal().getByRole('button', { name: /保\s*存/ }).click();
  await modal().waitFor({ state: 'detached' });

  assert.equal(await card().getByTestId('value-map-title').innerText(), 'ERP · 商机 · 订单状态');
  const entries = card().getByTestId('value-map-entries').locator('.ant-table-row');
  await entries.filter({ hasText: '已发货' }).filter({ hasText: 'SHIPPED' }).waitFor();
  assert.equal(await entries.count(), 1);
  assert.equal(await card().getByTestId('unmapped').count(), 0);
});

test('an unmapped code is refused with the reason, listed, and mapped in one click', async () => {
  let box = await translate('入站', 'CONTRACTED');
  await box.getByTestId('translate-error').filter({ hasText: '语义字典中没有此系统对该取值的映射；已拒绝并记录。' }).waitFor();

  await page.reload();
  const unmapped = card().getByTestId('unmapped');
  await unmapped.getByText('流量中出现了 1 个未映射的取值').waitFor();
  const miss = unmapped.locator('.ant-table-row').filter({ hasText: 'CONTRACTED' });
  await miss.getByText('入站', { exact: true }).waitFor();
  await miss.getByText('translation API').waitFor();
  await miss.getByTestId('unmapped-add').click();

  const form = page.getByTestId('value-map-form');
  assert.ok(await form.getByLabel('系统').isDisabled());
  const rows = form.getByTestId('entry-row');
  assert.equal(await rows.count(), 2);
  assert.equal(await rows.nth(1).getByLabel('编码').inputValue(), 'CONTRACTED');
  await choose(rows.nth(1).getByLabel('CRM 取值'), '已签约 (signed)');
  await modal().getByRole('button', { name: /保\s*存/ }).click();
  await modal().waitFor({ state: 'detached' });
  await card().getByTestId('value-map-entries').locator('.ant-table-row').filter({ hasText: '已签约' }).filter({ hasText: 'CONTRACTED' }).waitFor();
  // A mapping that covers a value met unmapped forgets it.
  await unmapped.waitFor({ state: 'detached' });

  box = await translate('入站', 'CONTRACTED');
  const result = box.getByTestId('translate-result');
  await result.waitFor();
  assert.match(await result.innerText(), /已签约\s*signed/);
  box = await translate('出站', 'shipped');
  assert.match(await box.getByTestId('translate-result').innerText(), /SHIPPED/);
  await assertInert();
});

test('the admin makes an inbound hook and copies its secret, shown once', async () => {
  await page.goto(url('/settings/inbound-hooks'));
  await page.getByRole('heading', { name: '接收地址' }).waitFor();
  await page.getByRole('menuitem', { name: '接收地址' }).waitFor();
  // The demo's hook, switched off.
  await page.getByTestId('hooks-table').locator('.ant-table-row').filter({ hasText: 'ERP 商机回传' }).getByText('已停用').waitFor();
  await page.getByText('发送说明').click();
  await page.getByTestId('hook-howto').getByText('webhook-signature').waitFor();

  await page.getByTestId('new-hook').click();
  const form = page.getByTestId('hook-form');
  await form.getByLabel('名称').fill(HOOK);
  await choose(form.getByLabel('对象'), '商机');
  const rows = form.getByTestId('mapping-row');
  await choose(rows.nth(0).getByLabel('字段'), 'ERP 订单号');
  await rows.nth(0).getByLabel('JSON 指针').fill('/orderNo');
  await form.getByTestId('mapping-add').click();
  await choose(rows.nth(1).getByLabel('字段'), '商机名称');
  await rows.nth(1).getByLabel('JSON 指针').fill('/customer');
  await form.getByTestId('mapping-add').click();
  await choose(rows.nth(2).getByLabel('字段'), '订单状态');
  await rows.nth(2).getByLabel('JSON 指针').fill('status');
  await rows.nth(2).getByLabel('经系统翻译（可选）').fill('ERP');
  await choose(form.getByLabel('匹配字段'), 'ERP 订单号');
  await modal().getByRole('button', { name: /保\s*存/ }).click();
  await form.getByText('JSON 指针须以 / 开头').waitFor();
  await rows.nth(2).getByLabel('JSON 指针').fill('/status');
  await modal().getByRole('button', { name: /保\s*存/ }).click();

  const shown = page.getByTestId('hook-secret');
  await shown.getByText('密钥仅显示这一次').waitFor();
  await shown.getByTestId('hook-secret-value').locator('.ant-typography-copy').click();
  secret = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(secret, /^whsec_[A-Za-z0-9+/=]+$/);
  assert.equal((await shown.getByTestId('hook-secret-value').innerText()).trim(), secret);
  const address = (await shown.getByTestId('hook-secret-url').innerText()).trim();
  assert.match(address, new RegExp(`^${server.base}/api/v1/hooks/[^/]+$`));
  hookPath = new URL(address).pathname;
  await shown.getByTestId('hook-howto').getByText('webhook-timestamp').waitFor();
  await modal().locator('.ant-modal-footer').getByRole('button', { name: /关\s*闭/ }).click();

  const row = page.getByTestId('hooks-table').locator('.ant-table-row').filter({ hasText: HOOK });
  await row.getByText('尚未收到请求').waitFor();
  await row.getByText('Standard Webhooks 签名').waitFor();
  assert.equal((await row.getByTestId('hook-url').innerText()).trim(), address);
  // The secret is never answered again.
  const { json: hooks } = await apiCall(server.base, 'GET', '/api/v1/inbound-hooks', undefined, cookie);
  assert.ok(!JSON.stringify(hooks).includes(secret));
  const made = hooks.find((h) => h.name === HOOK);
  assert.deepEqual(made.mapping, { erp_order_no: '/orderNo', name: '/customer', order_status: '/status | map:ERP' });
  assert.equal(made.match_field, 'erp_order_no');
  assert.equal(made.enabled, true);
});

test('a signed request writes a deal, an unsigned one is rejected; the log shows both as text', async () => {
  const body = JSON.stringify({ orderNo: 'SO-1001', customer: SCRIPT, status: 'SHIPPED' });
  const accepted = await postSigned('msg_e2e_1', body);
  assert.equal(accepted.status, 200, await accepted.clone().text());
  const { records } = await accepted.json();
  assert.equal(records.length, 1);
  const unsigned = await fetch(url(hookPath), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(unsigned.status, 401);
  assert.equal((await unsigned.json()).code, 'invalid_signature');
  const { json: deal } = await apiCall(server.base, 'GET', `/api/v1/objects/deal/records/${records[0].id}`, undefined, cookie);
  assert.equal(deal.values.order_status, 'shipped');
  assert.equal(deal.values.name, SCRIPT);

  const row = page.getByTestId('hooks-table').locator('.ant-table-row').filter({ hasText: HOOK });
  await row.getByTestId('hook-log-open').click();
  const drawer = page.getByTestId('hook-log');
  await drawer.getByText(`“${HOOK}”的请求记录`).waitFor();
  const requests = drawer.locator('.ant-table-row');
  await until('two requests in the log', async () => (await requests.count()) === 2);
  const rejected = requests.nth(0);
  await rejected.getByTestId('hook-request-state').filter({ hasText: '已拒绝' }).waitFor();
  await rejected.getByTestId('hook-request-code').filter({ hasText: '请求未使用此接收地址的密钥签名。' }).waitFor();
  const ok = requests.nth(1);
  await ok.getByTestId('hook-request-state').filter({ hasText: '已接收' }).waitFor();
  const link = ok.getByRole('link', { name: '已新建记录' });
  assert.equal(await link.getAttribute('href'), `/o/deal/${records[0].id}`);

  await rejected.locator('.ant-table-row-expand-icon').click();
  await drawer.getByTestId('hook-request-payload').filter({ hasText: '未保存（未通过验证）' }).waitFor();
  await ok.locator('.ant-table-row-expand-icon').click();
  const payload = drawer.locator('pre[data-testid=hook-request-payload]');
  await payload.waitFor();
  assert.match(await payload.innerText(), /"customer": "<img src=x onerror=alert\(1\)>"/);
  await drawer.getByText('msg_e2e_1').waitFor();
  await assertInert();

  await link.click();
  await page.waitForURL(`**/o/deal/${records[0].id}`);
  await page.getByText(SCRIPT).first().waitFor();
  await page.getByText('已发货').first().waitFor();
  await assertInert();
});

test('the pages read in English', async () => {
  await page.goto(url('/settings/dictionary'));
  await page.getByTestId('language-switch').getByText('EN').click();
  await page.getByRole('heading', { name: 'Value mappings' }).waitFor();
  await page.getByRole('menuitem', { name: 'Value mappings' }).waitFor();
  await page.getByRole('menuitem', { name: 'Inbound webhooks' }).waitFor();
  assert.equal(await card().getByTestId('value-map-title').innerText(), 'ERP · Deal · Order status');
  let box = await translate('Inbound', 'CONTRACTED');
  assert.match(await box.getByTestId('translate-result').innerText(), /Signed\s*signed/);
  box = await translate('Outbound', 'lost');
  await box.getByTestId('translate-error').filter({ hasText: 'This value has no mapping for the system in the semantic dictionary' }).waitFor();

  await page.getByRole('menuitem', { name: 'Inbound webhooks' }).click();
  await page.getByRole('heading', { name: 'Inbound webhooks' }).waitFor();
  const row = page.getByTestId('hooks-table').locator('.ant-table-row').filter({ hasText: HOOK });
  await row.getByText('Standard Webhooks signature').waitFor();
  await row.getByText(/^Last request /).waitFor();
  await row.getByTestId('hook-log-open').click();
  const drawer = page.getByTestId('hook-log');
  await drawer.getByText(`Requests to “${HOOK}”`).waitFor();
  await drawer.getByTestId('hook-request-state').filter({ hasText: 'Rejected' }).waitFor();
  await drawer.getByTestId('hook-request-state').filter({ hasText: 'Accepted' }).waitFor();
  await drawer.getByRole('link', { name: 'Record created' }).waitFor();
  await drawer.locator('.ant-table-row-expand-icon').first().click();
  await drawer.getByText('Not kept (not verified)').waitFor();
  await page.keyboard.press('Escape');
  await drawer.waitFor({ state: 'hidden' });
  await assertInert();
});

test('works at tablet width', async () => {
  await page.setViewportSize({ width: 820, height: 1180 });
  const noOverflow = async (where) => {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${where} scrolls sideways by ${overflow}px at tablet width`);
  };
  const fits = async (what) => {
    const box = await modal().locator('.ant-modal-container, .ant-modal-content').first().boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 820, `${what} overflows: ${JSON.stringify(box)}`);
  };

  await page.goto(url('/settings/dictionary'));
  await card().getByTestId('value-map-entries').locator('.ant-table-row').nth(1).waitFor();
  await noOverflow('the dictionary');
  // A value met unmapped outbound is a CRM value: the editor prefills its CRM side.
  await card().getByTestId('unmapped').locator('.ant-table-row').filter({ hasText: 'lost' }).getByTestId('unmapped-add').click();
  await fits('the mapping editor');
  const rows = page.getByTestId('value-map-form').getByTestId('entry-row');
  assert.equal(await rows.count(), 3);
  await modal().getByRole('button', { name: 'Cancel' }).click();
  await modal().waitFor({ state: 'detached' });

  await page.goto(url('/settings/inbound-hooks'));
  const row = page.getByTestId('hooks-table').locator('.ant-table-row').filter({ hasText: HOOK });
  await row.waitFor();
  await noOverflow('the inbound webhooks');
  await row.getByTestId('hook-edit').scrollIntoViewIfNeeded();
  await row.getByTestId('hook-edit').click();
  await fits('the hook form');
  assert.ok(await page.getByTestId('hook-form').getByLabel('Standard Webhooks signature').isDisabled());
  await modal().getByRole('button', { name: 'Cancel' }).click();
  await modal().waitFor({ state: 'detached' });
  await row.getByTestId('hook-log-open').scrollIntoViewIfNeeded();
  await row.getByTestId('hook-log-open').click();
  const drawer = page.getByTestId('hook-log');
  await drawer.locator('.ant-table-row').nth(1).waitFor();
  await drawer.locator('.ant-table-row-expand-icon').nth(1).click();
  await drawer.locator('pre[data-testid=hook-request-payload]').waitFor();
  const inDrawer = await drawer.locator('.ant-drawer-body').evaluate((body) => body.scrollWidth <= body.clientWidth);
  assert.ok(inDrawer, 'the log scrolls sideways in its drawer');
  await page.keyboard.press('Escape');
  await drawer.waitFor({ state: 'hidden' });

  // A new secret is shown once; the old one stops working.
  const old = secret;
  await row.getByTestId('hook-rotate').scrollIntoViewIfNeeded();
  await row.getByTestId('hook-rotate').click();
  await page.locator('.ant-modal-confirm').getByRole('button', { name: 'New secret' }).click();
  const shown = page.getByTestId('hook-secret');
  await shown.getByText('The old secret no longer works').waitFor();
  await fits('the secret dialog');
  secret = (await shown.getByTestId('hook-secret-value').innerText()).trim();
  assert.notEqual(secret, old);
  await modal().locator('.ant-modal-footer').getByRole('button', { name: 'Close' }).click();
  const body = JSON.stringify({ orderNo: 'SO-1001', customer: 'Li Wei', status: 'CONTRACTED' });
  const updated = await postSigned('msg_e2e_2', body);
  assert.equal(updated.status, 200, await updated.clone().text());
  const { records } = await updated.json();
  assert.equal(records[0].action, 'updated');
  const { json: deal } = await apiCall(server.base, 'GET', `/api/v1/objects/deal/records/${records[0].id}`, undefined, cookie);
  assert.equal(deal.values.order_status, 'signed');

  await row.getByTestId('hook-delete').scrollIntoViewIfNeeded();
  await row.getByTestId('hook-delete').click();
  await page.locator('.ant-modal-confirm').getByRole('button', { name: 'Delete' }).click();
  await row.waitFor({ state: 'detached' });
  await page.setViewportSize({ width: 1440, height: 900 });
  await assertInert();
});
