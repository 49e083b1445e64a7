// Connectors in a real browser against the real binary: the admin adds a WeCom group robot in
// the settings (Chinese) pointed at a loopback stand-in that checks the robot's key as WeCom
// does, sends a test whose text reaches the stand-in exactly, changes the connector leaving the
// key empty (kept) and then with a wrong key (the test fails with WeCom's errcode), and reads
// both kinds of send in the log; a script payload in the name and the text stays text
// throughout; the page reads in English and works at tablet width.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { ADMIN, ROOT, apiCall, launchBrowser, signedInPage, startServer, until } from './harness.mjs';

const NAME = '<img src=x onerror=alert(1)>群';
const TEXT = '<script>window.__pwned=1</script> 测试消息';
const KEY = 'robot-key-7f3a';

let server;
let browser;
let page;
let cookie;
let robot;
/** What the stand-in received: the key of each call and its JSON body. */
const received = [];
const dialogs = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  ({ cookie } = await apiCall(server.base, 'POST', '/api/v1/auth/login', ADMIN));
  // A WeCom group robot: POST /cgi-bin/webhook/send?key=… with the key it was created with.
  robot = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const url = new URL(req.url, 'http://robot');
      const key = url.searchParams.get('key');
      received.push({ method: req.method, path: url.pathname, key, body: JSON.parse(body) });
      const ok = req.method === 'POST' && url.pathname === '/cgi-bin/webhook/send' && key === KEY;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { errcode: 0, errmsg: 'ok' } : { errcode: 93000, errmsg: 'invalid webhook url' }));
    });
  });
  await new Promise((ok) => robot.listen(0, '127.0.0.1', ok));
  ({ page } = await signedInPage(browser, server.base, cookie, dialogs));
});

after(async () => {
  robot?.close();
  await browser?.close();
  await server?.stop();
});

const url = (path) => `${server.base}${path}`;
const robotUrl = () => `http://127.0.0.1:${robot.address().port}/cgi-bin/webhook/send`;
const modal = () => page.locator('.ant-modal:visible');
// The test's robot: the demo has a WeCom robot of its own, so rows are told apart by name.
const row = () => page.getByTestId('connectors-table').locator('.ant-table-row').filter({ hasText: NAME });

async function assertInert() {
  assert.deepEqual(dialogs, [], 'a dialog opened: text ran as script');
  assert.equal(await page.locator('img[src="x"]').count(), 0, 'the name became an <img> element');
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'the test text ran as script');
}

/** Sends a test with TEXT from the connector's row and answers the result panel. */
async function sendTest() {
  await row().getByTestId('connector-test').click();
  const form = page.getByTestId('test-form');
  await form.getByLabel('正文').fill(TEXT);
  await page.getByTestId('test-send').click();
  const result = page.getByTestId('test-result');
  await result.getByTestId('send-state').waitFor();
  return result;
}

test('the admin adds a WeCom group robot; its form asks for what is missing', async () => {
  await page.goto(url('/settings/connectors'));
  await page.getByRole('heading', { name: '连接器' }).waitFor();
  // The demo's example connectors are listed, switched off.
  await page.getByTestId('connectors-table').locator('.ant-table-row').filter({ hasText: '销售群机器人' }).getByText('已停用').waitFor();
  await page.getByTestId('new-connector').click();
  const form = page.getByTestId('connector-form');
  await form.getByLabel('类型').click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: /^企业微信群机器人$/ }).click();
  // The kind's fields: its default address as a placeholder, the key a password input.
  assert.equal(await form.getByLabel('地址', { exact: true }).getAttribute('placeholder'), 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send');
  assert.equal(await form.getByLabel('机器人 key').getAttribute('type'), 'password');
  await form.getByLabel('名称').fill(NAME);
  await modal().getByRole('button', { name: /保\s*存/ }).click();
  await form.getByText('请填写“机器人 key”').waitFor();

  // An address Rapport does not call: refused on its field, in Chinese.
  await form.getByLabel('地址', { exact: true }).fill('http://10.1.2.3/cgi-bin/webhook/send');
  await form.getByLabel('机器人 key').fill(KEY);
  await modal().getByRole('button', { name: /保\s*存/ }).click();
  await form.getByText(/不会访问该地址/).waitFor();

  await form.getByLabel('地址', { exact: true }).fill(robotUrl());
  await modal().getByRole('button', { name: /保\s*存/ }).click();
  await row().getByTestId('connector-name').filter({ hasText: NAME }).waitFor();
  assert.equal(await row().getByTestId('connector-name').innerText(), NAME);
  await row().getByText('已启用').waitFor();
  await row().getByText('从未发送').waitFor();
  await assertInert();
  // The key is stored, never answered.
  const { json: list } = await apiCall(server.base, 'GET', '/api/v1/connectors', undefined, cookie);
  assert.deepEqual(list[0].secrets_set, ['key']);
  assert.ok(!JSON.stringify(list).includes(KEY));
});

test('a test message reaches the robot with its exact text, and the result shows it sent', async () => {
  const result = await sendTest();
  await result.getByTestId('send-state').filter({ hasText: '已发送' }).waitFor();
  await result.getByTestId('send-response').filter({ hasText: '"errcode":0' }).waitFor();
  const got = received.at(-1);
  assert.equal(got.key, KEY);
  assert.equal(got.body.msgtype, 'text');
  assert.equal(got.body.text.content, TEXT);
  // What was sent shows the text as text, the key left out.
  assert.match(await result.getByTestId('send-request').innerText(), /<script>window\.__pwned=1<\/script>/);
  assert.ok(!(await result.getByTestId('send-request').innerText()).includes(KEY));
  await assertInert();
  await modal().locator('.ant-modal-footer').getByRole('button', { name: /关\s*闭/ }).click();
  await row().getByText('从未发送').waitFor({ state: 'detached' });
});

test('an edit leaving the key empty keeps it; a wrong key makes the test fail with WeCom\'s errcode', async () => {
  await row().getByTestId('connector-edit').click();
  const form = page.getByTestId('connector-form');
  const key = form.getByLabel('机器人 key');
  assert.equal(await key.getAttribute('placeholder'), '已保存，留空则不变');
  assert.equal(await key.inputValue(), '');
  assert.ok(await form.getByLabel('类型').isDisabled());
  await form.getByLabel('说明').fill('销售群的通知');
  await modal().getByRole('button', { name: /保\s*存/ }).click();
  await row().getByText('销售群的通知').waitFor();
  const before = received.length;
  let result = await sendTest();
  await result.getByTestId('send-state').filter({ hasText: '已发送' }).waitFor();
  assert.equal(received.length, before + 1);
  assert.equal(received.at(-1).key, KEY);
  await modal().locator('.ant-modal-footer').getByRole('button', { name: /关\s*闭/ }).click();

  await row().getByTestId('connector-edit').click();
  await page.getByTestId('connector-form').getByLabel('机器人 key').fill('wrong-key');
  await modal().getByRole('button', { name: /保\s*存/ }).click();
  await modal().waitFor({ state: 'detached' });
  result = await sendTest();
  await result.getByTestId('send-state').filter({ hasText: '发送失败' }).waitFor();
  assert.match(await result.getByTestId('send-error').innerText(), /93000/);
  await result.getByTestId('send-response').filter({ hasText: 'invalid webhook url' }).waitFor();
  assert.equal(received.at(-1).key, 'wrong-key');
  await modal().locator('.ant-modal-footer').getByRole('button', { name: /关\s*闭/ }).click();
  await row().getByTestId('connector-last-error').filter({ hasText: '93000' }).waitFor();
  await assertInert();
});

test('the log lists the sends, newest first, their requests and answers as text', async () => {
  await row().getByTestId('connector-log-open').click();
  const drawer = page.getByTestId('connector-log');
  await drawer.getByText(`“${NAME}”的发送记录`).waitFor();
  const rows = drawer.locator('.ant-table-row');
  await until('three sends in the log', async () => (await rows.count()) === 3);
  await rows.nth(0).getByTestId('send-state').filter({ hasText: '发送失败' }).waitFor();
  await rows.nth(1).getByTestId('send-state').filter({ hasText: '已发送' }).waitFor();
  await rows.nth(2).getByTestId('send-state').filter({ hasText: '已发送' }).waitFor();
  await rows.nth(0).getByText('测试', { exact: true }).waitFor();
  await rows.nth(0).getByText(/93000/).waitFor();
  await rows.nth(0).locator('.ant-table-row-expand-icon').click();
  const detail = drawer.getByTestId('send-detail').first();
  await detail.getByTestId('send-response').filter({ hasText: 'invalid webhook url' }).waitFor();
  assert.match(await detail.getByTestId('send-message').innerText(), /<script>window\.__pwned=1<\/script>/);
  assert.match(await detail.getByTestId('send-request').innerText(), /<script>window\.__pwned=1<\/script>/);
  await assertInert();
  await page.locator('.ant-message-notice').first().waitFor({ state: 'detached' });
  await page.screenshot({ path: join(ROOT, 'docs/screenshots/connectors.png') });
  await page.keyboard.press('Escape');
  await drawer.waitFor({ state: 'hidden' });
});

test('the page reads in English', async () => {
  await page.getByTestId('language-switch').getByText('EN').click();
  await page.getByRole('heading', { name: 'Connectors' }).waitFor();
  await page.getByRole('menuitem', { name: 'Connectors' }).waitFor();
  const enRow = row();
  await enRow.getByText('Enabled').waitFor();
  await enRow.getByTestId('connector-test').filter({ hasText: 'Send test' }).waitFor();
  await enRow.getByTestId('connector-log-open').click();
  const drawer = page.getByTestId('connector-log');
  await drawer.getByText(`Sends of “${NAME}”`).waitFor();
  await drawer.getByTestId('send-state').filter({ hasText: 'Failed' }).first().waitFor();
  await drawer.getByTestId('send-state').filter({ hasText: 'Sent' }).first().waitFor();
  await page.keyboard.press('Escape');
  await drawer.waitFor({ state: 'hidden' });
  await enRow.getByTestId('connector-edit').click();
  const form = page.getByTestId('connector-form');
  assert.equal(await form.getByLabel('Robot key').getAttribute('placeholder'), 'Saved — leave empty to keep');
  await modal().getByRole('button', { name: 'Cancel' }).click();
  await assertInert();
});

test('works at tablet width', async () => {
  await page.setViewportSize({ width: 820, height: 1180 });
  await page.reload();
  const enRow = row();
  await enRow.waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px at tablet width`);
  // Every action is reachable: the table scrolls sideways to it, and the dialogs fit the screen.
  const test = enRow.getByTestId('connector-test');
  await test.scrollIntoViewIfNeeded();
  await test.click();
  const box = await modal().locator('.ant-modal-container, .ant-modal-content').first().boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 820, `the test dialog overflows: ${JSON.stringify(box)}`);
  await page.getByTestId('test-form').getByLabel('Text').fill('平板测试');
  await page.getByTestId('test-send').click();
  await page.getByTestId('test-result').getByTestId('send-state').filter({ hasText: 'Failed' }).waitFor();
  await modal().locator('.ant-modal-footer').getByRole('button', { name: 'Close' }).click();
  // The log fits its drawer: its rows and their unfolded request and answer wrap.
  await enRow.getByTestId('connector-log-open').scrollIntoViewIfNeeded();
  await enRow.getByTestId('connector-log-open').click();
  const drawer = page.getByTestId('connector-log');
  await drawer.locator('.ant-table-row').nth(3).waitFor();
  await drawer.locator('.ant-table-row-expand-icon').first().click();
  await drawer.getByTestId('send-request').waitFor();
  const fits = await drawer.locator('.ant-drawer-body').evaluate((body) => body.scrollWidth <= body.clientWidth);
  assert.ok(fits, 'the log scrolls sideways in its drawer');
  await page.keyboard.press('Escape');
  await drawer.waitFor({ state: 'hidden' });
  await enRow.getByTestId('connector-delete').scrollIntoViewIfNeeded();
  await enRow.getByTestId('connector-delete').click();
  await page.locator('.ant-modal-confirm').getByRole('button', { name: 'Delete' }).click();
  await row().waitFor({ state: 'detached' });
  // The demo's connectors stay.
  await page.getByTestId('connectors-table').locator('.ant-table-row').filter({ hasText: 'Aliyun' }).waitFor();
  await page.setViewportSize({ width: 1440, height: 900 });
  await assertInert();
});
