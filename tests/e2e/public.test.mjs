// The transparency portal, with JavaScript turned off: the city's record per district and town.
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

test('/public is the portal: this month per district with JavaScript disabled, and no personal data', async () => {
  const ctx = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const resp = await page.goto(server.url + '/public');
  assert.equal(resp.status(), 200);
  assert.match(await page.textContent('h1'), /2026-12$/, 'the current month by default');
  const rows = await page.$$eval('table#record-districts tbody tr', (trs) =>
    trs.map((tr) => [...tr.children].map((td) => td.textContent.trim())));
  assert.equal(rows.length, 6);
  assert.deepEqual(rows.map((r) => r[0]).sort(), ['上虞区', '嵊州市', '新昌县', '柯桥区', '诸暨市', '越城区']);
  for (const r of rows) {
    for (const cell of r.slice(1, 5)) assert.match(cell, /^(\d+|<5)$/);
    // Median time to close: hours up to two days, days beyond, or withheld under five closed.
    assert.match(r[6], /^(\d+\.\d (小时|天)|—)$/, r.join(' | '));
  }
  assert.ok(rows.some((r) => r[6] !== '—'), 'some district closed five or more cases');
  assert.match(await page.textContent('#record-close-median'), /^\d+\.\d (小时|天)$/);
  const total = rows.reduce((s, r) => s + Number(r[1]), 0);
  assert.ok(total > 0, 'three days of cases were reported');
  assert.equal(await page.getAttribute('.record-report a', 'href'), '/report?lang=zh');
  const html = await page.content();
  assert.doesNotMatch(html, /网格员|worker/i, 'no grid worker on the public page');
  await page.screenshot({ path: join(artifacts, 'public-nojs.png'), fullPage: true });
  await ctx.close();
});

test('/public/record: the city\'s month per district and town, a map and a trend, without JavaScript, on a phone', async () => {
  const ctx = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 }, isMobile: true });
  const page = await ctx.newPage();
  const sizes = [];
  const onFinished = (req) => sizes.push(req.sizes().then((s) => s.responseBodySize + s.responseHeadersSize));
  page.on('requestfinished', onFinished);
  const resp = await page.goto(server.url + '/public/record?month=2026-12', { waitUntil: 'load' });
  assert.equal(resp.status(), 200);
  page.off('requestfinished', onFinished);
  const bytes = (await Promise.all(sizes)).reduce((a, b) => a + b, 0);
  const districts = await page.$$eval('table#record-districts tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent.trim())));
  assert.equal(districts.length, 6);
  for (const r of districts) {
    for (const cell of r.slice(1, 5)) assert.match(cell, /^(\d+|<5)$/);
    assert.match(r[5], /^(\d+\.\d%|—)$/);
  }
  assert.ok((await page.$$('table#record-towns tbody tr')).length > 100);
  // 诉调对接 in the city: the simulated court's referrals and their mediation, small counts withheld.
  assert.match((await page.textContent('#record-court')).trim(), /^诉调对接 法院委派 (\d+|<5) · 人民调解 (\d+|<5) · 成功 (\d+|<5) · 司法确认 (\d+|<5)$/);
  // And per district (every district has a court referring in the demo), withheld the same way.
  const courtRows = await page.locator('#record-court-districts tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
  assert.ok(courtRows.length >= 1 && courtRows.every((r) => r.length === 4 && r.every((c) => /^(\d+|<5)$/.test(c))), JSON.stringify(courtRows));
  assert.equal(await page.locator('figure svg').count(), 2, 'the map and the trend, drawn on the server');
  assert.equal(await page.locator('figure svg path').count(), 6, 'one shape per district');
  const html = await page.content();
  assert.doesNotMatch(html, /<script/, 'no script at all');
  await page.screenshot({ path: join(artifacts, 'public-record-phone.png'), fullPage: true });
  // Another year, chosen with the form (a GET, no script needed).
  await page.fill('input[name=month]', '');
  await page.fill('input[name=year]', '2026');
  await page.click('form.record-period button');
  assert.match(page.url(), /year=2026/);
  assert.match(await page.textContent('h1'), /2026$/);
  console.log(`# /public/record without JavaScript: ${bytes} bytes on the wire on first load`);
  await ctx.close();
});
