// The security suite in a real browser (issue 20): script payloads are stored in every place a
// user- or event-supplied string is shown — field values, field and object labels, option
// labels, trait and property names and values, event names, segment, snapshot, view, user and
// source names, a toast, and the chart tooltips of the data-health and home pages — then every
// page that shows them is opened. Any dialog, any element the payload would create, or any
// Content-Security-Policy violation fails the test. Every page carries the security headers,
// and a record id from the address bar cannot make the app call another API path.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, apiCall, launchBrowser, startServer } from './harness.mjs';

/** A payload that runs `alert` if it is ever parsed as HTML; `where` tells which place leaked. */
const X = (where) => `<img src=x onerror=alert('${where}')>"><svg onload=alert('${where}')>`;

let server;
let browser;
let page;
let cookie;
const dialogs = [];
const violations = [];
const pageErrors = [];
const requests = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  ({ cookie } = await apiCall(server.base, 'POST', '/api/v1/auth/login', ADMIN));
  await seed();
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
  // Collects CSP violations as the page reports them (the listener is added by the browser
  // driver, not by a script of the page, so CSP does not stop it).
  await context.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('dialog', async (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()} (on ${page.url()})`);
    await dialog.dismiss();
  });
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(`${message.text()} (on ${page.url()})`);
  });
  page.on('pageerror', (error) => pageErrors.push(`${error.message} (on ${page.url()})`));
  page.on('request', (request) => requests.push(request.url()));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const url = (path) => `${server.base}${path}`;
const api = (method, path, body) => apiCall(server.base, method, path, body, cookie);

async function sendBatch(writeKey, batch) {
  const res = await fetch(url('/v1/batch'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
    body: JSON.stringify({ batch }),
  });
  assert.equal(res.status, 200, await res.text());
}

const ids = {};

/** Stores a payload everywhere, through the API and the tracking API as an attacker would. */
async function seed() {
  // CRM: a field with a payload label, a select with a payload option label, a contact whose
  // values are payloads, a custom object with payload labels, a saved view and a user.
  await api('POST', '/api/v1/objects/contact/fields', { api_name: 'xss_note', label: X('field-label'), type: 'text' });
  await api('POST', '/api/v1/objects/contact/fields', {
    api_name: 'xss_tier',
    label: 'Tier',
    type: 'select',
    config: { options: [{ value: 'gold', label: { en: X('option-label-en'), zh: X('option-label-zh') } }] },
  });
  const { json: contact } = await api('POST', '/api/v1/objects/contact/records', {
    values: { name: X('contact-name'), title: X('contact-title'), xss_note: X('field-value'), xss_tier: 'gold', email: 'xss@e2e.example' },
  });
  ids.contact = contact.id;
  await api('POST', '/api/v1/objects', {
    api_name: 'xss_thing',
    label: { en: X('object-label-en'), zh: X('object-label-zh') },
    plural_label: { en: X('object-plural-en'), zh: X('object-plural-zh') },
  });
  await api('POST', '/api/v1/objects/xss_thing/records', { values: { name: X('custom-record') } });
  await api('POST', '/api/v1/objects/contact/views', { name: X('view-name'), kind: 'list', shared: true });
  await api('POST', '/api/v1/users', { email: 'xss.user@e2e.example', name: X('user-name'), password: 'a long e2e password 1', role_id: 'sales' });
  // The pipeline's first stage gets a payload label (the home page's chart and its tooltip).
  const { json: deal } = await api('GET', '/api/v1/objects/deal');
  const stage = deal.fields.find((f) => f.api_name === 'stage');
  const options = stage.config.options.map((o, i) => (i === 0 ? { ...o, label: { en: X('stage-label-en'), zh: X('stage-label-zh') } } : o));
  await api('PATCH', '/api/v1/objects/deal/fields/stage', { config: { ...stage.config, options } });
  await api('POST', '/api/v1/objects/deal/records', { values: { name: X('deal-name'), stage: options[0].value, amount: '1000' } });

  // CDP, with nothing but a public write key: a trait named like a payload (the data-health
  // fill-rate chart), trait values, an unregistered event named like a payload (the registry),
  // a registered event with payload property names and values (the journey).
  const { json: source } = await api('POST', '/api/v1/cdp/sources', { name: X('source-name'), kind: 'web' });
  ids.source = source.id;
  await api('POST', '/api/v1/cdp/event-types', { name: 'Viewed', schema: { type: 'object' } });
  await sendBatch(source.write_key, [
    { type: 'identify', userId: 'xss-user', traits: { [X('trait-name')]: X('trait-value'), email: 'xss@e2e.example', plan: X('plan-value') } },
    { type: 'track', userId: 'xss-user', event: X('event-name'), properties: { [X('property-name')]: X('property-value') } },
    { type: 'track', userId: 'xss-user', event: 'Viewed', properties: { [X('viewed-property-name')]: X('viewed-property-value') } },
    { type: 'page', userId: 'xss-user', name: X('page-name'), properties: { title: X('page-title') } },
  ]);
  const { json: profiles } = await api('GET', '/api/v1/cdp/profiles?identifier_type=user_id&identifier=xss-user');
  ids.profile = profiles.profiles[0].id;
  const { json: segment } = await api('POST', '/api/v1/cdp/segments', {
    name: X('segment-name'),
    description: X('segment-description'),
    tag: 'xss-tag',
    condition: { trait: 'plan', op: 'eq', value: X('plan-value') },
  });
  ids.segment = segment.id;
  for (let i = 0; i < 100; i++) {
    const { json } = await api('GET', `/api/v1/cdp/segments/${segment.id}`);
    if (json.state === 'live' && json.member_count > 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await api('POST', `/api/v1/cdp/segments/${segment.id}/snapshots`, { name: X('snapshot-name') });
}

/** Opens `path`, checks its security headers, waits for `ready`, then checks nothing ran. */
async function visit(path, ready) {
  const response = await page.goto(url(path));
  const headers = response.headers();
  const csp = headers['content-security-policy'] ?? '';
  for (const directive of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"]) {
    assert.ok(csp.includes(directive), `${path}: ${directive} missing in "${csp}"`);
  }
  assert.equal(headers['x-content-type-options'], 'nosniff', path);
  assert.equal(headers['referrer-policy'], 'same-origin', path);
  assert.equal(headers['x-frame-options'], 'DENY', path);
  await ready();
  await assertNothingRan(path);
}

async function assertNothingRan(where) {
  // Give handlers of a smuggled element a moment to fire before looking.
  await page.waitForTimeout(300);
  const injected = await page.evaluate(() => document.querySelectorAll('img[src="x"], svg[onload], [onerror]').length);
  assert.equal(injected, 0, `${where}: a payload became markup`);
  const reported = await page.evaluate(() => window.__violations ?? []);
  assert.deepEqual([...violations, ...reported], [], `${where}: Content-Security-Policy violations`);
  assert.deepEqual(dialogs, [], `${where}: a payload ran`);
  assert.deepEqual(pageErrors, [], `${where}: errors in the page`);
}

/** Sweeps the mouse over a chart until its tooltip shows `text`; returns the tooltip's text. */
async function hoverChart(testId, text, direction) {
  const chart = page.getByTestId(testId);
  await chart.locator('canvas').first().waitFor();
  await chart.scrollIntoViewIfNeeded();
  const box = await chart.boundingBox();
  for (let step = 1; step < 40; step++) {
    const x = direction === 'vertical' ? box.x + box.width * 0.6 : box.x + (box.width * step) / 40;
    const y = direction === 'vertical' ? box.y + (box.height * step) / 40 : box.y + box.height * 0.6;
    await page.mouse.move(x, y);
    await page.waitForTimeout(60);
    const [shown, markup] = await chart.evaluate((el) => [el.innerText, el.querySelectorAll('img[src="x"], svg[onload]').length]);
    assert.equal(markup, 0, `${testId}: a payload became markup in the tooltip`);
    if (shown.includes(text)) return shown;
  }
  assert.fail(`the ${testId} tooltip never showed ${text}`);
}

test('log in', async () => {
  await visit('/login', () => page.getByLabel('邮箱').waitFor());
  await page.getByLabel('邮箱').fill(ADMIN.email);
  await page.getByLabel('密码').fill(ADMIN.password);
  await page.getByRole('button', { name: /登\s*录/ }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  await assertNothingRan('after login');
});

test('the home page chart shows a stage label as text, in its tooltip too', async () => {
  await visit('/', () => page.locator('canvas').first().waitFor());
  const tooltip = await hoverChart('dashboard-pipeline', "<img src=x onerror=alert('stage-label-zh')>", 'horizontal');
  assert.ok(tooltip.includes('svg onload'), tooltip);
  await assertNothingRan('home chart tooltip');
});

test('record lists, record pages and settings show field values, labels and option labels as text', async () => {
  await visit('/o/contact', () => page.locator('.ant-table-row').first().waitFor());
  await page.getByText("<img src=x onerror=alert('contact-name')>", { exact: false }).first().waitFor();
  await assertNothingRan('contact list');
  await visit(`/o/contact/${ids.contact}`, () => page.getByText("alert('field-value')", { exact: false }).first().waitFor());
  await page.getByText("alert('option-label-zh')", { exact: false }).first().waitFor();
  await page.getByText("alert('field-label')", { exact: false }).first().waitFor();
  await assertNothingRan('contact record');
  await visit('/o/xss_thing', () => page.getByText("alert('custom-record')", { exact: false }).first().waitFor());
  await visit('/o/deal/kanban', () => page.getByText("alert('deal-name')", { exact: false }).first().waitFor());
  await visit('/settings/objects', () => page.getByText("alert('object-label-zh')", { exact: false }).first().waitFor());
  await visit('/settings/objects/contact', () => page.getByText("alert('field-label')", { exact: false }).first().waitFor());
  await visit('/settings/users', () => page.getByText("alert('user-name')", { exact: false }).first().waitFor());
  await visit('/settings/audit', () => page.locator('.ant-table-row').first().waitFor());
});

test('data health shows a trait name as text, in the fill-rate tooltip too', async () => {
  await visit('/cdp/health', () => page.getByTestId('chart-traits').waitFor());
  const tooltip = await hoverChart('chart-traits', "<img src=x onerror=alert('trait-name')>", 'vertical');
  assert.ok(tooltip.includes('%'), tooltip);
  await assertNothingRan('trait tooltip');
});

test('sources, the registry, profiles, journeys and segments show event data as text', async () => {
  await visit('/cdp/sources', () => page.getByText("alert('source-name')", { exact: false }).first().waitFor());
  await visit('/cdp/registry', () => page.getByText("alert('event-name')", { exact: false }).first().waitFor());
  await visit(`/cdp/profiles/${ids.profile}`, () => page.getByText("alert('trait-value')", { exact: false }).first().waitFor());
  await page.getByText("alert('viewed-property-value')", { exact: false }).first().waitFor();
  await visit(`/o/contact/${ids.contact}`, () => page.getByText("alert('field-value')", { exact: false }).first().waitFor());
  await visit('/cdp/segments', () => page.getByText("alert('segment-name')", { exact: false }).first().waitFor());
  await visit(`/cdp/segments/${ids.segment}`, () => page.getByText("alert('segment-description')", { exact: false }).first().waitFor());
  await page.getByRole('tab', { name: '快照' }).click();
  await page.getByText("alert('snapshot-name')", { exact: false }).first().waitFor();
  await page.getByRole('tab', { name: '成员' }).click();
  await assertNothingRan('segment page');
});

test('a toast shows a name as text', async () => {
  await visit('/cdp/sources', () => page.getByTestId('new-source').waitFor());
  await page.getByTestId('new-source').click();
  await page.getByTestId('source-form').getByLabel('名称').fill(X('toast'));
  await page.locator('.ant-modal:visible').getByRole('button', { name: /新\s*建/ }).click();
  await page.locator('.ant-message-notice').filter({ hasText: "alert('toast')" }).first().waitFor();
  await assertNothingRan('toast');
});

test('a record id from the address bar cannot reach another API path', async () => {
  requests.length = 0;
  // The address bar's `%2E%2E%2F` reaches the app as `../` in the record id.
  await visit('/o/contact/%2E%2E%2F%2E%2E%2F%2E%2E%2Fcdp%2Fsigning-secret', () => page.locator('.ant-result').first().waitFor());
  const paths = requests.map((r) => new URL(r).pathname);
  assert.ok(!paths.includes('/api/v1/cdp/signing-secret'), `the app called another path: ${paths.join(', ')}`);
  assert.ok(paths.includes('/api/v1/objects/contact/records/..%2F..%2F..%2Fcdp%2Fsigning-secret'), paths.join(', '));
});
