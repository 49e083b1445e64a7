// The customer data platform's administration in a real browser against the real binary: the
// admin edits a source's rate limit and schema policy, rotates its write key (the old key gets
// 401 at once, the new one works), archives it (401) and restores it; finds a customer profile
// by email, sees the merge of the anonymous visitor with its cause and undoes it; and adds a
// custom identifier type in the identity settings, kept after a reload, while a bad value shows
// the server's message.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, apiCall, launchBrowser, startServer } from './harness.mjs';

const SOURCE = 'E2E 门店 POS';
const EMAIL = 'wang.fang@e2e.example';

let server;
let browser;
let page;
let cookie;
let source;
let writeKey;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  ({ cookie } = await apiCall(server.base, 'POST', '/api/v1/auth/login', ADMIN));
  ({ json: source } = await apiCall(server.base, 'POST', '/api/v1/cdp/sources', { name: SOURCE, kind: 'pos' }, cookie));
  writeKey = source.write_key;
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

/** Sends a batch the way a Segment-style client does (HTTP Basic, the write key as user name). */
async function sendBatch(key, batch) {
  const res = await fetch(url('/v1/batch'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` },
    body: JSON.stringify({ batch }),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

const probe = (key) => sendBatch(key, [{ type: 'identify', anonymousId: 'e2e-probe', traits: { plan: 'pro' } }]);

async function storedSource() {
  const { json } = await apiCall(server.base, 'GET', '/api/v1/cdp/sources', undefined, cookie);
  return json.find((s) => s.id === source.id);
}

test('the admin logs in and edits a source\'s rate limit and schema policy', async () => {
  await page.goto(url('/cdp/sources'));
  await page.waitForURL(/\/login/);
  await page.getByLabel('邮箱').fill(ADMIN.email);
  await page.getByLabel('密码').fill(ADMIN.password);
  await page.getByRole('button', { name: /登\s*录/ }).click();
  await page.waitForURL(/\/cdp\/sources$/);
  const row = page.getByTestId('sources').locator('.ant-table-row').filter({ hasText: SOURCE });
  await row.waitFor();
  assert.ok((await row.innerText()).includes('不限'));

  await row.getByRole('button', { name: '编辑' }).click();
  const form = page.getByTestId('source-form');
  await form.waitFor();
  await form.getByLabel('速率限制').fill('120');
  await form.getByRole('radio', { name: '拒绝' }).check();
  await page.locator('.ant-modal:visible').getByRole('button', { name: /保\s*存/ }).click();
  await toast('已保存');
  await row.filter({ hasText: '120 条/秒' }).waitFor();
  assert.ok((await row.innerText()).includes('拒绝'));

  const stored = await storedSource();
  assert.equal(stored.rate_limit, 120);
  assert.equal(stored.schema_policy, 'reject');
  // The key still works after an edit.
  assert.equal((await probe(writeKey)).status, 200);
});

test('rotating the write key: the old key gets 401 at once, the new one works', async () => {
  const row = page.getByTestId('sources').locator('.ant-table-row').filter({ hasText: SOURCE });
  await row.getByRole('button', { name: '更换密钥' }).click();
  const confirm = page.locator('.ant-modal-confirm');
  await confirm.filter({ hasText: `更换 ${SOURCE} 的写入密钥？` }).waitFor();
  await confirm.getByRole('button', { name: '更换密钥' }).click();
  await toast('已生成新的写入密钥');
  const key = page.getByTestId('write-key');
  await key.waitFor();
  const rotated = (await key.innerText()).trim();
  assert.match(rotated, /^wk_\w+$/);
  assert.notEqual(rotated, writeKey);
  assert.equal((await storedSource()).write_key, rotated);
  await page.locator('.ant-modal:visible').getByRole('button', { name: /关\s*闭/ }).first().click();

  assert.equal((await probe(writeKey)).status, 401);
  const fresh = await probe(rotated);
  assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
  assert.equal(fresh.body.accepted, 1);
  writeKey = rotated;
});

test('archiving a source stops its key (401); restoring it brings the key back', async () => {
  const row = page.getByTestId('sources').locator('.ant-table-row').filter({ hasText: SOURCE });
  await row.getByRole('button', { name: /归\s*档/ }).click();
  const confirm = page.locator('.ant-modal-confirm');
  await confirm.filter({ hasText: `归档 ${SOURCE}？` }).waitFor();
  await confirm.getByRole('button', { name: /归\s*档/ }).click();
  await toast('数据源已归档');
  await row.locator('.ant-tag').filter({ hasText: '已归档' }).waitFor();
  assert.ok(await row.getByRole('button', { name: '更换密钥' }).isDisabled(), 'an archived source\'s key cannot be rotated');
  assert.ok((await storedSource()).archived_at);
  assert.equal((await probe(writeKey)).status, 401);

  await row.getByRole('button', { name: /恢\s*复/ }).click();
  await toast('数据源已恢复');
  await row.locator('.ant-tag').filter({ hasText: '已归档' }).waitFor({ state: 'detached' });
  await row.getByRole('button', { name: /归\s*档/ }).waitFor();
  assert.equal((await storedSource()).archived_at, null);
  assert.equal((await probe(writeKey)).status, 200);
});

test('a profile found by email shows the merge with its cause; undoing it splits the visitor off', async () => {
  const first = await sendBatch(writeKey, [{ type: 'identify', anonymousId: 'e2e-visitor', traits: { city: '杭州' } }]);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const second = await sendBatch(writeKey, [{ type: 'identify', userId: 'e2e-member-42', anonymousId: 'e2e-visitor', traits: { email: EMAIL } }]);
  assert.equal(second.status, 200, JSON.stringify(second.body));
  assert.equal(second.body.accepted, 1, JSON.stringify(second.body));

  await page.getByTestId('cdp-menu').getByText('客户档案').click();
  await page.waitForURL(/\/cdp\/profiles$/);
  const profiles = page.getByTestId('profiles');
  await profiles.locator('.ant-table-row').first().waitFor();
  const search = page.getByTestId('cdp-profiles').locator('form');
  await search.getByLabel('值').fill(EMAIL);
  await search.getByRole('button', { name: /搜\s*索/ }).click();
  await profiles.getByText('具有此标识符的客户').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=profiles] .ant-table-row').length === 1);
  await profiles.getByRole('link', { name: EMAIL }).click();
  await page.waitForURL(/\/cdp\/profiles\/[0-9a-f-]{36}$/);

  const card = page.getByTestId('cdp-profile').locator('.ant-card').first();
  for (const tag of [`用户ID：e2e-member-42`, '匿名ID：e2e-visitor', `邮箱：${EMAIL}`]) {
    await card.locator('.ant-tag').filter({ hasText: tag }).waitFor();
  }
  const merge = page.getByTestId('merges').locator('.ant-table-row');
  await merge.first().waitFor();
  assert.equal(await merge.count(), 1);
  await merge.locator('.ant-tag').filter({ hasText: '匿名ID：e2e-visitor' }).waitFor();
  assert.match(await merge.locator('code').innerText(), /^[0-9a-f-]{36}$/, 'the merge names the message that caused it');

  await merge.getByRole('button', { name: '撤销合并' }).click();
  const confirm = page.locator('.ant-modal-confirm');
  await confirm.filter({ hasText: 'e2e-visitor 不再关联它们' }).waitFor();
  await confirm.getByRole('button', { name: '撤销合并' }).click();
  await toast('已撤销合并');
  await merge.locator('.ant-tag').filter({ hasText: /^已于 .+ 撤销$/ }).waitFor();
  await card.locator('.ant-tag').filter({ hasText: '匿名ID：e2e-visitor' }).waitFor({ state: 'detached' });
  await card.locator('.ant-tag').filter({ hasText: `邮箱：${EMAIL}` }).waitFor();
  assert.equal(await merge.getByRole('button', { name: '撤销合并' }).count(), 0);

  // The visitor is a customer of their own again.
  const { json } = await apiCall(server.base, 'GET', '/api/v1/cdp/profiles?identifier_type=anonymous_id&identifier=e2e-visitor', undefined, cookie);
  assert.equal(json.profiles.length, 1);
  assert.ok(!json.profiles[0].identifiers.some((i) => i.type === 'email'), JSON.stringify(json.profiles[0].identifiers));
  assert.ok(!page.url().endsWith(json.profiles[0].id));

  // A customer is called by name, email, phone or user id, never by its profile id: the visitor,
  // split off with an anonymous id and a city, is an anonymous visitor.
  await page.goto(url(`/cdp/profiles/${json.profiles[0].id}`));
  const title = page.getByTestId('cdp-profile').getByRole('heading', { level: 3 });
  await title.filter({ hasText: '匿名访客' }).waitFor();
  assert.doesNotMatch(await title.innerText(), /[0-9a-f]{8}/);
});

test('identity settings: a custom identifier type is kept; a bad value shows the server\'s message', async () => {
  await page.getByTestId('cdp-menu').getByText('身份设置').click();
  await page.waitForURL(/\/cdp\/settings$/);
  const settings = page.getByTestId('cdp-identity');
  await settings.getByText('user_id', { exact: true }).waitFor();
  await page.getByLabel('新标识符类型的名称').fill('member_no');
  await page.getByLabel('英文名称').last().fill('Member number');
  await page.getByLabel('中文名称').last().fill('会员号');
  await page.getByRole('button', { name: '添加标识符类型' }).click();
  const toggle = page.getByRole('switch', { name: '会员号 合并档案' });
  await toggle.waitFor();
  assert.equal(await toggle.getAttribute('aria-checked'), 'true');
  const saved = page.waitForResponse((r) => r.url().endsWith('/api/v1/cdp/settings') && r.request().method() === 'PUT');
  await page.getByTestId('save-identity').click();
  assert.equal((await saved).status(), 200);
  await toast('已保存');

  await page.reload();
  await settings.getByText('member_no', { exact: true }).waitFor();
  assert.equal(await page.getByRole('switch', { name: '会员号 合并档案' }).getAttribute('aria-checked'), 'true');
  const { json } = await apiCall(server.base, 'GET', '/api/v1/cdp/settings', undefined, cookie);
  assert.deepEqual(json.identifier_types.find((i) => i.name === 'member_no'), { name: 'member_no', label_en: 'Member number', label_zh: '会员号', merge: true });

  // A region code the server does not know: the refusal is shown in Chinese (by its code, never
  // the server's English message), nothing is saved.
  const region = page.locator('.ant-form-item').filter({ hasText: '手机号地区' }).locator('input');
  await region.fill('qq');
  assert.equal(await region.inputValue(), 'QQ');
  await page.getByTestId('save-identity').click();
  await page.getByTestId('identity-error').filter({ hasText: '身份设置无效' }).waitFor();
  assert.ok(!(await page.getByTestId('identity-error').innerText()).includes('region code'));
  const { json: after } = await apiCall(server.base, 'GET', '/api/v1/cdp/settings', undefined, cookie);
  assert.equal(after.phone_region, 'CN');
  await page.getByRole('button', { name: /重\s*置/ }).click();
  assert.equal(await region.inputValue(), 'CN');
  await page.getByTestId('identity-error').waitFor({ state: 'detached' });
});

test('the registry names events and their properties in both languages', async () => {
  await page.goto(url('/cdp/registry'));
  const types = page.getByTestId('event-types');
  // The demo's event types show by their Chinese names, the raw name beneath.
  const row = types.locator('.ant-table-row').filter({ hasText: 'Ad Clicked' });
  await row.getByText('点击广告', { exact: true }).waitFor();
  await row.getByRole('button', { name: /编\s*辑/ }).click();
  const form = page.getByTestId('event-type-form');
  assert.equal(await form.getByTestId('event-label-zh').inputValue(), '点击广告');
  assert.equal(await form.getByTestId('event-label-en').inputValue(), 'Ad clicked');
  const labels = form.getByTestId('property-labels');
  assert.equal(await labels.getByLabel('campaign 中文名称').inputValue(), '广告活动');
  // A new Chinese name only, and a script payload that must stay text.
  await form.getByTestId('event-label-zh').fill('点击投放广告');
  await form.getByTestId('event-label-en').fill('<img src=x onerror=window.__xss=1>');
  await labels.getByLabel('channel 中文名称').fill('投放渠道');
  await labels.getByLabel('channel 英文名称').fill('');
  const saved = page.waitForResponse((r) => r.url().endsWith('/api/v1/cdp/event-types') && r.request().method() === 'POST');
  await page.getByRole('dialog').getByRole('button', { name: /保\s*存/ }).click();
  assert.equal((await saved).status(), 200);
  await row.getByText('点击投放广告', { exact: true }).waitFor();
  const { json } = await apiCall(server.base, 'GET', '/api/v1/cdp/event-types', undefined, cookie);
  const clicked = json.find((t) => t.name === 'Ad Clicked');
  assert.deepEqual(clicked.label, { zh: '点击投放广告', en: '<img src=x onerror=window.__xss=1>' });
  // The English name left blank takes the Chinese one.
  assert.deepEqual(clicked.property_labels.channel, { zh: '投放渠道', en: '投放渠道' });
  assert.equal(await page.evaluate(() => window.__xss), undefined);
});
