// The customer data platform in a real browser against the real binary: the admin logs in,
// creates a source and copies its write key, a Segment-style client sends a batch (an anonymous
// visitor's unregistered track, an identify with a demo contact's email, a page and a registered
// track), the arrived event type is registered in one step and its quarantine replayed, data
// health shows the counts and charts, the contact's Journey tab shows the events, and the
// language switch changes the CDP labels. Takes the README's cdp-health.png and journey.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN, ROOT, apiCall, launchBrowser, startServer } from './harness.mjs';

const SHOTS = join(ROOT, 'docs/screenshots');
const SOURCE = 'E2E 商城 App';
const EVENT = 'Trial Started';

let server;
let browser;
let page;
let cookie;
let writeKey;
let contact;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  ({ cookie } = await apiCall(server.base, 'POST', '/api/v1/auth/login', ADMIN));
  const { json } = await apiCall(server.base, 'GET', '/api/v1/objects/contact/records?limit=20', undefined, cookie);
  contact = json.data.find((r) => r.values.email && r.name !== r.values.email);
  assert.ok(contact, 'the demo data has a contact with a name and an email');
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const url = (path) => `${server.base}${path}`;

async function toast(text) {
  await page.locator('.ant-message-notice').filter({ hasText: text }).first().waitFor({ state: 'visible' });
}

/** The answer to the next `method` request for `path` (with the given query parameters). */
function answer(method, path, query = {}) {
  return page.waitForResponse((res) => {
    const address = new URL(res.url());
    return res.request().method() === method && address.pathname === path &&
      Object.entries(query).every(([name, value]) => address.searchParams.get(name) === value);
  });
}

/** Waits until no finite CSS animation or transition runs (a modal opening, a tab's ink bar). */
async function animationsDone() {
  await page.waitForFunction(() =>
    document.getAnimations().every((a) => a.playState !== 'running' || a.effect?.getComputedTiming().iterations === Infinity));
}

/** Waits until every chart has drawn its last frame: no canvas changed between two checks. */
async function chartsDrawn() {
  await page.waitForFunction(() => {
    const pixels = [...document.querySelectorAll('[data-testid^=chart-] canvas')].map((c) => c.toDataURL()).join();
    const same = pixels === window.__chartPixels;
    window.__chartPixels = pixels;
    return same;
  }, null, { polling: 250 });
}

test('the admin logs in and creates a source; its write key and snippets are shown', async () => {
  await page.goto(url('/cdp/sources'));
  await page.waitForURL(/\/login/);
  await page.getByLabel('邮箱').fill(ADMIN.email);
  await page.getByLabel('密码').fill(ADMIN.password);
  await page.getByRole('button', { name: /登\s*录/ }).click();
  await page.waitForURL(/\/cdp\/sources$/);
  await page.getByTestId('sources').locator('.ant-table-row').first().waitFor();

  await page.getByTestId('new-source').click();
  const form = page.getByTestId('source-form');
  await form.getByLabel('名称').fill(SOURCE);
  await form.getByLabel('类型').click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: /^网站$/ }).click();
  // A website is a client source by default; this one stands for the company's own site
  // backend, whose identifies may link the CRM contact by email.
  assert.ok(await form.getByTestId('source-trust-input').getByLabel('客户端').isChecked());
  await form.getByTestId('source-trust-input').getByText('服务端').click();
  const created = answer('POST', '/api/v1/cdp/sources');
  await page.locator('.ant-modal:visible').getByRole('button', { name: /新\s*建/ }).click();
  assert.equal((await created).status(), 201);
  await toast(`已创建数据源 ${SOURCE}`);

  const key = page.getByTestId('write-key');
  await key.waitFor();
  writeKey = (await key.innerText()).trim();
  assert.match(writeKey, /^wk_\w+$/);
  assert.ok((await page.getByTestId('snippet-curl').innerText()).includes(`${server.base}/v1/batch`));
  await page.getByRole('tab', { name: 'Python' }).click();
  await page.getByRole('tab', { name: 'Python', selected: true }).waitFor();
  const python = page.getByTestId('snippet-python');
  await python.waitFor({ state: 'visible' });
  assert.ok((await python.innerText()).includes(`analytics.host = "${server.base}"`));
  await page.locator('.ant-modal:visible').getByRole('button', { name: /关\s*闭/ }).first().click();
  const row = page.getByTestId('sources').locator('.ant-table-row').filter({ hasText: SOURCE });
  await row.waitFor();
  assert.equal((await row.getByTestId('source-trust').innerText()).trim(), '服务端');
});

test('a Segment-style client sends a batch with the write key (HTTP Basic)', async () => {
  const res = await fetch(url('/v1/batch'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
    body: JSON.stringify({
      batch: [
        { type: 'track', anonymousId: 'e2e-anon', event: EVENT, properties: { plan: 'pro', seats: 5 } },
        { type: 'identify', anonymousId: 'e2e-anon', traits: { email: contact.values.email } },
        { type: 'page', anonymousId: 'e2e-anon', name: 'Pricing', properties: { path: '/pricing' } },
        { type: 'track', anonymousId: 'e2e-anon', event: 'Product Viewed', properties: { sku: 'A-100', series: 'A', price: 1999 } },
      ],
    }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.accepted, 3, JSON.stringify(body));
  assert.deepEqual(body.quarantined.map((q) => q.code), ['unregistered_event_type']);
});

test('the registry registers the arrived event type in one step and replays its quarantine', async () => {
  await page.goto(url('/cdp/registry'));
  const row = page.getByTestId('observed').locator('.ant-table-row').filter({ hasText: EVENT });
  await row.waitFor();
  await row.getByTestId('register-observed').click();
  const proposed = page.getByTestId('proposed-schema');
  await proposed.waitFor();
  const schema = JSON.parse(await proposed.innerText());
  assert.deepEqual(Object.keys(schema.properties).sort(), ['plan', 'seats']);
  await page.locator('.ant-modal:visible').getByRole('button', { name: /注\s*册/ }).click();
  await toast(`已注册 ${EVENT}`);
  await page.getByTestId('event-types').locator('.ant-table-row').filter({ hasText: EVENT }).waitFor();
  await row.getByTestId('replay-observed').waitFor();

  await page.locator(`[data-testid=replay][data-name="${EVENT}"]`).click();
  const report = page.getByTestId('replay-report');
  await report.waitFor();
  assert.equal((await report.getByTestId('replayed-count').innerText()).trim(), '1');
  await page.locator('.ant-modal:visible').getByRole('button', { name: /关\s*闭/ }).click();
  await page.locator(`[data-testid=replay][data-name="${EVENT}"]`).waitFor({ state: 'detached' });
  await row.waitFor({ state: 'detached' });
});

test('data health shows the source counts and draws its charts', async () => {
  await page.goto(url('/cdp/health'));
  const card = page.getByTestId('health-source').filter({ hasText: SOURCE });
  await card.waitFor();
  // three accepted at once, one more when the quarantined event was replayed
  assert.equal((await card.getByTestId('health-accepted').innerText()).trim(), '4');
  assert.equal((await card.getByTestId('health-quarantined').innerText()).trim(), '1');
  for (const chart of ['chart-events', 'chart-delay', 'chart-reasons', 'chart-traits']) {
    await page.getByTestId(chart).locator('canvas').first().waitFor();
  }
  await page.getByTestId('health-warnings').waitFor();
  const day = answer('GET', '/api/v1/cdp/health', { minutes: '1440' });
  await page.getByTestId('health-window').getByText('24 小时').click();
  await day;
  await page.getByTestId('health-window').locator('.ant-segmented-item-selected').filter({ hasText: '24 小时' }).waitFor();
  await card.waitFor();
  for (const chart of ['chart-events', 'chart-delay', 'chart-reasons', 'chart-traits']) {
    await page.getByTestId(chart).locator('canvas').first().waitFor();
  }
  await animationsDone();
  await chartsDrawn();
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, 'cdp-health.png'), fullPage: true });
});

test("the contact's Journey tab shows the events from the source and the CRM", async () => {
  await page.goto(url(`/o/contact/${contact.id}`));
  await page.getByRole('tab', { name: '客户旅程' }).click();
  const journey = page.getByTestId('journey');
  // A registered event shows by its Chinese display name (浏览商品 for Product Viewed).
  for (const title of [EVENT, 'Pricing', '浏览商品']) {
    await journey.getByTestId('journey-entry').filter({ hasText: title }).first().waitFor();
  }
  await journey.locator('[data-category=field_change], [data-category=record]').first().waitFor();
  await animationsDone();
  await page.screenshot({ path: join(SHOTS, 'journey.png') });

  await journey.getByTestId('journey-types').click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: /^页面$/ }).click();
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => {
    const entries = [...document.querySelectorAll('[data-testid=journey-entry]')];
    return entries.length > 0 && entries.every((e) => e.textContent.includes('页面'));
  });
  assert.ok(await journey.getByTestId('journey-entry').filter({ hasText: 'Pricing' }).count());
});

test('switching the language changes the CDP labels', async () => {
  await page.getByTestId('language-switch').getByText('EN').click();
  await page.getByRole('tab', { name: 'Journey' }).waitFor();
  await page.getByRole('menuitem', { name: 'Customer data' }).click();
  await page.waitForURL(/\/cdp\/health$/);
  await page.getByRole('heading', { name: 'Data health' }).waitFor();
  await page.getByTestId('cdp-menu').getByText('Schema registry').waitFor();
  await page.getByTestId('language-switch').getByText('中文').click();
  await page.getByRole('heading', { name: '数据健康度' }).waitFor();
});
