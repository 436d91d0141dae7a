// The public page, with JavaScript turned off: it must still show the district table.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, launchBrowser, artifacts } from './harness.mjs';

let server, browser;
before(async () => {
  server = await startServer({ rate: 30, backfillDays: 3 });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('/public shows the district table with JavaScript disabled, and no personal data', async () => {
  const ctx = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const resp = await page.goto(server.url + '/public');
  assert.equal(resp.status(), 200);
  const rows = await page.$$eval('table#districts tbody tr', (trs) =>
    trs.map((tr) => [...tr.children].map((td) => td.textContent.trim())));
  assert.equal(rows.length, 6);
  assert.deepEqual(rows.map((r) => r[0]).sort(), ['上虞区', '嵊州市', '新昌县', '柯桥区', '诸暨市', '越城区']);
  for (const r of rows) {
    for (const cell of r.slice(1)) assert.match(cell, /^(\d+|<5)$/);
  }
  const total = rows.reduce((s, r) => s + Number(r[1]), 0);
  assert.ok(total > 0, 'three days of cases were reported');
  const html = await page.content();
  assert.doesNotMatch(html, /网格员|worker/i, 'no grid worker on the public page');
  await page.screenshot({ path: join(artifacts, 'public-nojs.png'), fullPage: true });
  await ctx.close();
});
