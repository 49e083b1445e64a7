// A list's columns, in a real browser against the real binary: at 1440 px the deal list's
// default columns fit without scrolling sideways; dragging a header's edge widens its column
// without sorting it, and the width is still there after a reload; at 820 px the table scrolls
// sideways and the name column stays in view at the left.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, apiCall, launchBrowser, signedInPage, startServer } from './harness.mjs';

let server;
let browser;
let page;
const dialogs = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const { cookie } = await apiCall(server.base, 'POST', '/api/v1/auth/login', ADMIN);
  await apiCall(server.base, 'PATCH', '/api/v1/auth/me', { locale: 'zh-CN' }, cookie);
  ({ page } = await signedInPage(browser, server.base, cookie, dialogs));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const table = () => page.getByTestId('record-table');
const header = (name) => table().locator('.ant-table-thead th').filter({ hasText: name });
const width = async (locator) => (await locator.boundingBox()).width;

async function openDeals() {
  await page.goto(`${server.base}/o/deal`);
  await table().locator('.ant-table-row').first().waitFor();
}

test('the default columns fit at 1440 px', async () => {
  await openDeals();
  const body = table().locator('.ant-table-body');
  const { scroll, client } = await body.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
  assert.ok(scroll <= client, `the table is ${scroll} px wide in ${client} px`);
});

test("dragging a header's edge widens the column, does not sort, and is kept after a reload", async () => {
  await openDeals();
  const amount = header('金额');
  const before = await width(amount);
  const handle = amount.getByTestId('column-resize');
  const box = await handle.boundingBox();
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width / 2, y);
  await page.mouse.down();
  for (const dx of [40, 80, 120]) await page.mouse.move(box.x + box.width / 2 + dx, y);
  await page.mouse.up();
  const after = await width(amount);
  assert.ok(after >= before + 100, `the column went from ${before} to ${after} px`);
  assert.equal(await amount.getAttribute('aria-sort'), null, 'ending the drag sorted the column');
  assert.doesNotMatch(page.url(), /sort/);
  const stored = JSON.parse(await page.evaluate(() => localStorage.getItem('rapport.columnWidths.deal')));
  assert.ok(stored.amount >= before + 100, JSON.stringify(stored));

  // A click on the header still sorts.
  await amount.locator('.ant-table-column-title').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=record-table] th[aria-sort]') !== null);

  await page.reload();
  await table().locator('.ant-table-row').first().waitFor();
  const kept = await width(header('金额'));
  assert.ok(Math.abs(kept - after) <= 2, `after a reload the column is ${kept} px, was ${after}`);

  // Not narrower than 80 px however far it is dragged.
  const edge = await header('金额').getByTestId('column-resize').boundingBox();
  await page.mouse.move(edge.x + 4, edge.y + 4);
  await page.mouse.down();
  await page.mouse.move(edge.x - 600, edge.y + 4, { steps: 4 });
  await page.mouse.up();
  assert.ok((await width(header('金额'))) >= 80);
  assert.deepEqual(dialogs, []);
});

test('at 820 px the table scrolls sideways and the name column stays at the left', async () => {
  await page.setViewportSize({ width: 820, height: 900 });
  await openDeals();
  const body = table().locator('.ant-table-body');
  const { scroll, client } = await body.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
  assert.ok(scroll > client, 'the columns fit at 820 px: nothing to scroll');
  await body.evaluate((el) => el.scrollTo({ left: el.scrollWidth }));
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid=record-table] .ant-table-body');
    return el.scrollLeft + el.clientWidth >= el.scrollWidth - 1;
  });
  const tableBox = await body.boundingBox();
  const name = table().locator('.ant-table-row').first().locator('td').nth(1);
  const nameBox = await name.boundingBox();
  assert.ok(nameBox.x >= tableBox.x && nameBox.x < tableBox.x + 60, `the name cell is at ${nameBox.x}, the table at ${tableBox.x}`);
  await name.locator('a[href^="/o/deal/"]').click({ trial: true });
  // The last column scrolled into view beside it.
  const owner = header('负责人');
  const ownerBox = await owner.boundingBox();
  assert.ok(ownerBox.x + ownerBox.width <= tableBox.x + tableBox.width + 1, 'the last column is not in view');
  await page.setViewportSize({ width: 1440, height: 900 });
});
