// Outbound webhooks in a real browser against the real binary: the admin adds an endpoint in
// the settings (Chinese), copies its signing secret, and a change made through the API reaches
// a loopback receiver that verifies the signature with the Standard Webhooks reference library
// (`standardwebhooks` from npm, independent of Rapport); the delivery log shows it delivered
// with its webhook-id, "send again" delivers the same id once more, an address Rapport does not
// call is refused on the form in Chinese, a script payload in the description stays text; a
// destination that stops answering shows its breaker open and its last error, and its parked
// messages arrive once it is back, all watched on the integration health map; and the pages
// read in English.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { ADMIN, apiCall, launchBrowser, signedInPage, startServer, until } from './harness.mjs';

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

let secret;

test('the admin adds an endpoint and copies its signing secret', async () => {
  await page.goto(url('/settings/webhooks'));
  await page.getByRole('heading', { name: 'Webhook 推送' }).waitFor();
  // The demo's example endpoints, switched off until pointed at real systems.
  const example = page.getByTestId('webhooks-table').locator('.ant-table-row').filter({ hasText: 'erp.example.cn' });
  await example.getByText('已停用').waitFor();
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
  const row = page.getByTestId('webhooks-table').locator('.ant-table-row').filter({ hasText: PAYLOAD });
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
  await page.getByTestId('webhooks-table').locator('.ant-table-row').filter({ hasText: PAYLOAD }).getByTestId('webhook-deliveries').click();
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

test('a destination that stops answering opens its breaker, and its parked messages drain when it is back', async () => {
  await page.keyboard.press('Escape');
  // A second receiver that holds every request past the endpoint's one-second timeout while down.
  let down = true;
  const got = [];
  const flaky = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (down) {
        setTimeout(() => res.writeHead(200).end('late'), 3000);
        return;
      }
      got.push(body);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise((ok) => flaky.listen(0, '127.0.0.1', ok));
  try {
    const { json: endpoint } = await apiCall(
      server.base,
      'POST',
      '/api/v1/webhooks',
      {
        url: `http://127.0.0.1:${flaky.address().port}/erp`,
        topics: ['record.created'],
        objects: ['deal'],
        description: 'ERP 熔断演示',
        timeout_seconds: 1,
        breaker: { timeouts: 3, cooldown_seconds: 2 },
      },
      cookie,
    );
    const deals = [];
    for (const name of ['熔断商机 一', '熔断商机 二', '熔断商机 三', '熔断商机 四']) {
      deals.push((await apiCall(server.base, 'POST', '/api/v1/objects/deal/records', { values: { name } }, cookie)).json.id);
    }
    // The breaker opens: the webhooks page shows it, with the last error, and its settings are
    // on the form.
    await until('the breaker to open', async () => (await apiCall(server.base, 'GET', `/api/v1/webhooks/${endpoint.id}`, undefined, cookie)).json.breaker_state !== 'closed');
    await page.reload();
    const row = page.getByTestId('webhooks-table').locator('.ant-table-row').filter({ hasText: 'ERP 熔断演示' });
    await row.getByTestId('webhook-breaker').filter({ hasText: /已熔断|试探恢复中/ }).waitFor();
    await row.getByText(/最近错误：/).waitFor();
    await row.getByRole('button', { name: '编辑' }).click();
    await page.getByText('投递与熔断').click();
    assert.equal(await page.getByLabel('超时（秒）').inputValue(), '1');
    assert.equal(await page.getByLabel('首次试探前等待（秒）').inputValue(), '2');
    await page.locator('.ant-modal:visible').getByRole('button', { name: /取\s*消/ }).click();

    // The health map: the dead destination red with its parked messages, the healthy one green;
    // the script payload of the first endpoint's description is text on the map.
    await page.getByRole('menuitem', { name: '集成健康图' }).click();
    await page.getByRole('heading', { name: '集成健康图' }).waitFor();
    const node = page.getByTestId('health-node').filter({ hasText: 'ERP 熔断演示' });
    await until('the dead node', async () => ['open', 'half_open'].includes(await node.getAttribute('data-status')), 30_000);
    await page.getByTestId('health-node').filter({ hasText: PAYLOAD.slice(0, 28) }).waitFor();
    assert.equal(await page.getByTestId('health-node').filter({ hasText: PAYLOAD.slice(0, 28) }).getAttribute('data-status'), 'healthy');
    const tableRow = page.getByTestId('health-table').locator('.ant-table-row').filter({ hasText: 'ERP 熔断演示' });
    await tableRow.getByTestId('health-status').filter({ hasText: /已熔断|试探恢复中/ }).waitFor();
    await tableRow.getByText('no answer within 1 s').waitFor();
    assert.match(await tableRow.getByTestId('health-queue').innerText(), /暂存 [1-4]/);
    assert.equal(await page.locator('img[src="x"]').count(), 0);

    // Back: a probe closes the breaker, every parked message arrives, and the map turns green
    // with nothing waiting.
    down = false;
    // (Probes failed while it was down, each putting the next off twice as long.)
    await until('every parked message', () => deals.every((id) => got.some((b) => b.includes(id))), 90_000);
    await until('the map to show it healthy', async () => (await node.getAttribute('data-status')) === 'healthy', 30_000);
    await tableRow.getByTestId('health-queue').filter({ hasText: '排队 0 · 暂存 0 · 顺序等待 0' }).waitFor();
    // Its delivery log, from the map: every message delivered.
    await node.click();
    const drawer = page.getByTestId('deliveries-drawer');
    await until('every message delivered in the log', async () => (await drawer.getByTestId('delivery-state').filter({ hasText: '已送达' }).count()) === deals.length);
    await page.keyboard.press('Escape');
    await page.getByRole('menuitem', { name: 'Webhook 推送' }).click();
    assert.deepEqual(dialogs, []);
  } finally {
    flaky.close();
  }
});

test('the page reads in English', async () => {
  await page.keyboard.press('Escape');
  await page.getByTestId('language-switch').getByText('EN').click();
  await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
  await page.getByTestId('webhooks-table').getByText('Record created').first().waitFor();
  await page.getByTestId('webhooks-table').getByText('Enabled').first().waitFor();
  await page.getByRole('menuitem', { name: 'Integration health' }).click();
  await page.getByRole('heading', { name: 'Integration health' }).waitFor();
  await page.getByTestId('health-table').getByText('Healthy').first().waitFor();
  await page.getByTestId('health-table').getByText(/0 queued · 0 parked · 0 in line/).first().waitFor();
});
