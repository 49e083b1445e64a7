// Outbound webhooks in a real browser against the real binary: the admin adds an endpoint in
// the settings (Chinese), copies its signing secret, and a change made through the API reaches
// a loopback receiver that verifies the signature with the Standard Webhooks reference library
// (`standardwebhooks` from npm, independent of Rapport); the delivery log shows it delivered
// with its webhook-id, "send again" delivers the same id once more, an address Rapport does not
// call is refused on the form in Chinese, a script payload in the description stays text, and
// the page reads in English.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { ADMIN, apiCall, launchBrowser, signedInPage, startServer } from './harness.mjs';

const PAYLOAD = '<img src=x onerror=alert(1)>';

let server;
let browser;
let page;
let cookie;
let receiver;
const received = [];
const dialogs = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  ({ cookie } = await apiCall(server.base, 'POST', '/api/v1/auth/login', ADMIN));
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise((ok) => receiver.listen(0, '127.0.0.1', ok));
  ({ page } = await signedInPage(browser, server.base, cookie, dialogs));
});

after(async () => {
  receiver?.close();
  await browser?.close();
  await server?.stop();
});

const url = (path) => `${server.base}${path}`;

async function until(what, check) {
  for (let i = 0; i < 200; i += 1) {
    if (await check()) return;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let secret;

test('the admin adds an endpoint and copies its signing secret', async () => {
  await page.goto(url('/settings/webhooks'));
  await page.getByRole('heading', { name: 'Webhook 推送' }).waitFor();
  await page.getByTestId('webhooks-table').getByText('还没有推送地址').waitFor();
  await page.getByTestId('new-webhook').click();
  const form = page.getByTestId('webhook-form');
  // An address Rapport does not call: refused on the field, in Chinese.
  await form.getByLabel('地址').fill('http://10.1.2.3/hooks');
  await form.getByLabel('说明').fill(PAYLOAD);
  await page.locator('.ant-modal:visible').getByRole('button', { name: /保\s*存/ }).click();
  await form.getByText(/不会访问该地址/).waitFor();

  await form.getByLabel('地址').fill(`http://127.0.0.1:${receiver.address().port}/rapport`);
  await form.getByLabel('对象').click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: /^商机$/ }).click();
  await page.keyboard.press('Escape');
  await page.locator('.ant-modal:visible').getByRole('button', { name: /保\s*存/ }).click();
  const shown = page.getByTestId('webhook-secret');
  await shown.waitFor();
  secret = (await shown.locator('code').innerText()).trim();
  assert.match(secret, /^whsec_[A-Za-z0-9+/=]+$/);
  await page.locator('.ant-modal:visible .ant-modal-footer').getByRole('button', { name: /关\s*闭/ }).click();
  const row = page.getByTestId('webhooks-table').locator('.ant-table-row').first();
  await row.getByText(PAYLOAD, { exact: true }).waitFor();
  await row.getByText('记录创建').waitFor();
  await row.getByText('商机', { exact: true }).waitFor();
  assert.equal(await page.locator('img[src="x"]').count(), 0);
});

test('a change reaches the receiver, signed as Standard Webhooks says', async () => {
  const { json: deal } = await apiCall(server.base, 'POST', '/api/v1/objects/deal/records', { values: { name: 'Webhook 测试商机' } }, cookie);
  await apiCall(server.base, 'POST', '/api/v1/objects/contact/records', { values: { name: '不推送的联系人' } }, cookie);
  await until('the delivery', () => received.some((r) => r.body.includes(deal.id)));
  const message = received.find((r) => r.body.includes(deal.id));
  // The reference library verifies the signature (it throws when it does not match).
  const verified = new Webhook(secret).verify(message.body, {
    'webhook-id': message.headers['webhook-id'],
    'webhook-timestamp': message.headers['webhook-timestamp'],
    'webhook-signature': message.headers['webhook-signature'],
  });
  assert.equal(verified.type, 'record.created');
  assert.equal(verified.data.object, 'deal');
  assert.equal(verified.data.id, deal.id);
  assert.throws(() => new Webhook(secret).verify(`${message.body} `, message.headers));
  assert.ok(!received.some((r) => r.body.includes('不推送的联系人')), 'contacts were not subscribed');
});

test('the delivery log shows it, and "send again" repeats its webhook-id', async () => {
  const id = received.at(-1).headers['webhook-id'];
  await page.getByTestId('webhook-deliveries').first().click();
  const drawer = page.getByTestId('deliveries-drawer');
  const row = drawer.locator('.ant-table-row').first();
  await row.getByTestId('delivery-state').filter({ hasText: '已送达' }).waitFor();
  await row.locator('.ant-table-row-expand-icon').click();
  await drawer.getByTestId('delivery-detail').getByText(id).waitFor();
  const before = received.length;
  await row.getByTestId('resend-delivery').click();
  await until('the second delivery', () => received.length > before);
  assert.equal(received.at(-1).headers['webhook-id'], id);
  await until('two attempts in the log', async () => (await row.locator('td').nth(4).innerText()).trim() === '2');
  assert.deepEqual(dialogs, []);
});

test('the page reads in English', async () => {
  await page.keyboard.press('Escape');
  await page.getByTestId('language-switch').getByText('EN').click();
  await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
  await page.getByTestId('webhooks-table').getByText('Record created').waitFor();
  await page.getByTestId('webhooks-table').getByText('Enabled').waitFor();
});
