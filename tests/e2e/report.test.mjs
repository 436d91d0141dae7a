// A resident reports a problem on a phone (390×844): with JavaScript off, placing it by two clicks on the
// server-drawn map (city → district → the spot), and with JavaScript on, by the browser's location; then
// follows it by its number. Nothing personal shows on the progress page or in the city's Open311 reads.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, launchBrowser, artifacts } from './harness.mjs';

let server, browser;
before(async () => {
  server = await startServer({ rate: 5, backfillDays: 1 });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const PHONE = '13700001234';

// The pixel of the first region label on the map the page shows now (a point inside that region).
async function labelPixel(page) {
  const src = await page.getAttribute('input.report-map', 'src');
  const svg = await (await fetch(new URL(src, server.url))).text();
  const m = svg.match(/<text x="([\d.]+)" y="([\d.]+)"/);
  assert.ok(m, svg.slice(0, 200));
  return { x: Number(m[1]), y: Number(m[2]) };
}

test('with JavaScript off: two clicks on the map place the report, the number leads to its progress', async () => {
  const ctx = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 }, isMobile: true });
  const page = await ctx.newPage();
  // Bytes on the wire (compressed bodies and headers) of the first load: the page weight without JavaScript.
  const sizes = [];
  const onFinished = (req) => sizes.push(req.sizes().then((s) => [req.url(), s.responseBodySize + s.responseHeadersSize]));
  page.on('requestfinished', onFinished);
  const resp = await page.goto(server.url + '/report', { waitUntil: 'load' });
  assert.equal(resp.status(), 200);
  page.off('requestfinished', onFinished);
  const loaded = await Promise.all(sizes);
  const firstLoad = loaded.reduce((sum, [, n]) => sum + n, 0);
  assert.ok(loaded.some(([u]) => u.includes('/report/map/')) && loaded.some(([u]) => u.endsWith('.css')), JSON.stringify(loaded));
  await page.selectOption('select[name=service_code]', 'hazard');
  await page.fill('textarea[name=description]', '人行道井盖缺失，夜里很危险，门牌5号旁');
  await page.fill('input[name=last_name]', '李秀英');
  await page.fill('input[name=phone]', PHONE);
  // Submitting before a place is chosen is refused with the reason, and nothing typed is lost.
  await page.click('button[name=submit]');
  assert.match(await page.textContent('[role=alert]'), /地图上选定位置/);
  assert.equal(await page.inputValue('textarea[name=description]'), '人行道井盖缺失，夜里很危险，门牌5号旁');
  // City → district.
  const city = await labelPixel(page);
  await page.click('input.report-map', { position: city });
  const legend = await page.textContent('legend');
  assert.match(legend, /位置 · \S+(区|县|市)$/, legend);
  assert.equal(await page.inputValue('input[name=phone]'), PHONE, 'contact kept across the zoom');
  // District → the spot (a town's label point).
  await page.click('input.report-map', { position: await labelPixel(page) });
  const placed = await page.textContent('#placed');
  assert.match(placed, /^已选位置：\S+ \S+ \S+$/, placed);
  await page.screenshot({ path: join(artifacts, 'report-phone.png'), fullPage: true });
  await page.click('button[name=submit]');
  assert.match(page.url(), /\/report\/R\d{8}[2-9A-Z]{8}\?lang=zh$/);
  const number = await page.textContent('.report-number strong');
  const text = await page.textContent('main');
  assert.match(text, /安全隐患/);
  assert.match(text, /上报/);
  assert.ok(text.includes(placed.replace('已选位置：', '')), text);
  for (const secret of [PHONE, '李秀英', '门牌5号']) assert.ok(!(await page.content()).includes(secret), secret);
  await page.screenshot({ path: join(artifacts, 'report-progress-phone.png'), fullPage: true });

  const open311 = await (await fetch(`${server.url}/open311/v2/requests/${number}.json`)).json();
  assert.equal(open311[0].service_code, 'hazard');
  assert.equal(open311[0].description, '人行道井盖缺失，夜里很危险，门牌*号旁');
  console.log(`# /report without JavaScript: ${firstLoad} bytes on the wire on first load in ${loaded.length} requests`);
  await ctx.close();
});

test('with JavaScript on: "use my location" places the report', async () => {
  // A point inside the city: the published point of a case the demo reported.
  const list = await (await fetch(`${server.url}/open311/v2/requests.json`)).json();
  assert.ok(list.length > 0);
  const { lat, long } = list[0];
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, geolocation: { latitude: lat, longitude: long }, permissions: ['geolocation'] });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url + '/report?lang=en');
  await page.selectOption('select[name=service_code]', 'environment');
  await page.fill('textarea[name=description]', 'Rubbish dumped by the river');
  await page.click('#locate');
  await page.waitForFunction(() => document.getElementById('lat').value !== '');
  assert.match(await page.textContent('#placed'), /^Place chosen: /);
  await page.click('button[name=submit]');
  await page.waitForURL(/\/report\/R[0-9A-Z]+\?lang=en$/);
  const text = await page.textContent('main');
  assert.match(text, /Environment/);
  assert.match(text, /Reported/);
  assert.ok(text.includes(list[0].address), `${text} / ${list[0].address}`);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('an unknown number says so', async () => {
  const r = await fetch(`${server.url}/report/R20261202ZZZZZZZZ`);
  assert.equal(r.status, 404);
  assert.match(await r.text(), /未找到该编号/);
});
