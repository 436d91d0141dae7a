// A resident reports a problem on a phone (390×844): with JavaScript off, placing it by two clicks on the
// server-drawn map (city → district → the spot), and with JavaScript on, by the browser's location; then
// follows it by its number. Nothing personal shows on the progress page or in the city's Open311 reads.
// A report placed by its address alone, with a photo, is handled by the street official on the tablet
// (who sees the photo, stripped of where it was taken), step by step, while the resident follows each
// step on the report's page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, launchBrowser, artifacts, signIn, openTab } from './harness.mjs';

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

// A real JPEG as a phone sends it: the browser's own rendering, with an EXIF segment naming where it
// was taken and the phone spliced in after the start marker.
async function phonePhoto() {
  const ctx = await browser.newContext({ viewport: { width: 320, height: 240 } });
  const page = await ctx.newPage();
  await page.setContent('<body style="margin:0;background:#8a6d3b"><div style="width:160px;height:120px;background:#556b2f"></div></body>');
  const jpeg = await page.screenshot({ type: 'jpeg', quality: 80 });
  await ctx.close();
  const exif = Buffer.from('Exif\0\0GPS 30.0023N 120.5821E Xiaomi 14 2026:12:01 08:00', 'latin1');
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, (exif.length + 2) >> 8, (exif.length + 2) & 0xff]), exif]);
  return Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
}

test('placed by its address (JavaScript off), with a photo, followed by the resident while the street official handles it on the tablet', async () => {
  const photo = await phonePhoto();
  const phone = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 }, isMobile: true });
  const resident = await phone.newPage();
  await resident.goto(server.url + '/report');
  await resident.selectOption('select[name=service_code]', 'environment');
  const description = '河道边堆满建筑垃圾，气味很大';
  await resident.fill('textarea[name=description]', description);
  await resident.setInputFiles('input[name=photo]', { name: 'IMG_0001.jpg', mimeType: 'image/jpeg', buffer: photo });
  // The street alone is too coarse to send anyone: refused with the reason, nothing typed lost.
  await resident.fill('input[name=address_string]', '塔山街道解放北路');
  await resident.click('button[name=submit]');
  assert.match(await resident.textContent('[role=alert]'), /地址只写到了塔山街道/);
  assert.equal(await resident.inputValue('textarea[name=description]'), description);
  // The photo sent with the refused press is held: the page says so and sends it on with the report.
  assert.match(await resident.textContent('#photo-held'), /已附照片/);
  await resident.fill('input[name=address_string]', '塔山街道花园社区8幢旁');
  await resident.click('button[name=submit]');
  assert.match(resident.url(), /\/report\/R\d{8}[2-9A-Z]{8}\?lang=zh$/);
  const number = (await resident.textContent('.report-number strong')).trim();
  assert.match(await resident.textContent('main'), /塔山街道 花园社区/);
  assert.ok(!(await resident.content()).includes('8幢'), 'the exact address is not published');
  assert.match(await resident.textContent('#photo-received'), /仅工作人员可见/);

  const tablet = await browser.newContext({ viewport: { width: 1024, height: 768 }, hasTouch: true });
  const desk = await tablet.newPage();
  const errors = [];
  desk.on('pageerror', (e) => errors.push(String(e)));
  // Someone tried tashan's account with a wrong password: after signing in, the official is told.
  await desk.goto(`${server.url}/login?next=%2Fdesk`);
  await desk.fill('input[name="username"]', 'tashan');
  await desk.fill('input[name="password"]', 'guessed-wrong-1');
  await desk.click('button[type="submit"]');
  await desk.waitForSelector('.login-error, [role=alert]');
  await signIn(desk, server.url, 'tashan', '/desk');
  await desk.waitForSelector('#desk[data-hydrated="true"]', { timeout: 30_000 });
  await desk.waitForSelector('#last-sign-in.warn', { timeout: 10_000 });
  assert.match(await desk.textContent('#last-sign-in'), /^(首次登录|上次登录 \d{4}-\d{2}-\d{2} \d{2}:\d{2} · 来自 127\.0\.0\.1)；此[前后]有 1 次登录失败/);
  await openTab(desk, 'tab-reports', `.case-card[data-case="${number}"]`, 15_000);
  const card = desk.locator(`.case-card[data-case="${number}"]`);
  await card.tap();
  await desk.waitForSelector(`#case-detail[data-case="${number}"]`, { timeout: 15_000 });
  assert.match(await desk.textContent('#detail-address'), /^塔山街道花园社区/, 'the official reads where to go');
  // The photo, as the browser decodes it: the picture taken, without the EXIF that named the spot.
  await desk.waitForFunction(() => document.getElementById('detail-photo')?.complete && document.getElementById('detail-photo').naturalWidth > 0, null, { timeout: 15_000 });
  assert.deepEqual(await desk.evaluate(() => [document.getElementById('detail-photo').naturalWidth, document.getElementById('detail-photo').naturalHeight]), [320, 240]);
  const served = await desk.evaluate(async () => {
    const r = await fetch(document.getElementById('detail-photo').src);
    return [r.status, new TextDecoder('latin1').decode(await r.arrayBuffer())];
  });
  assert.equal(served[0], 200);
  assert.ok(!served[1].includes('GPS') && !served[1].includes('Xiaomi'), 'no position, no phone');
  await desk.screenshot({ path: join(artifacts, 'desk-report-photo.png') });

  const department = '越城区综合行政执法局';
  const reply = '建筑垃圾已于当日清运完毕，感谢您的反映。';
  // Dispatching without naming the department is refused on the tablet before anything is sent.
  await desk.locator('#act-accept').tap();
  await desk.waitForSelector('#detail-timeline li[data-action="accept"]', { timeout: 15_000 });
  await desk.locator('#act-dispatch').tap();
  await desk.waitForSelector('#detail-message.bad', { timeout: 10_000 });
  assert.match(await desk.textContent('#detail-message'), /承办部门/);
  const steps = [
    ['dispatch', department, '分拨'],
    ['start', '', '处置'],
    ['resolve', reply, '办结'],
  ];
  await resident.reload();
  assert.match(await resident.textContent('.report-steps'), /受理/);
  for (const [action, note, stage] of steps) {
    if (note) await desk.fill('#supervise-note', note);
    await desk.locator(`#act-${action}`).tap();
    await desk.waitForSelector(`#detail-timeline li[data-action="${action}"]`, { timeout: 15_000 });
    await resident.reload();
    const last = await resident.locator('.report-steps li').last().textContent();
    assert.ok(last.includes(stage), `${action}: ${last}`);
    if (note) assert.ok(last.includes(note), `${action}: ${last}`);
  }
  const page = await resident.textContent('main');
  assert.ok(page.includes(department), page);
  await resident.screenshot({ path: join(artifacts, 'report-followed-phone.png'), fullPage: true });
  const open311 = await (await fetch(`${server.url}/open311/v2/requests/${number}.json`)).json();
  assert.equal(open311[0].agency_responsible, department);
  assert.equal(open311[0].status_notes, reply);
  assert.deepEqual(errors, []);
  await tablet.close();
  await phone.close();
});

test('an unknown number says so', async () => {
  const r = await fetch(`${server.url}/report/R20261202ZZZZZZZZ`);
  assert.equal(r.status, 404);
  assert.match(await r.text(), /未找到该编号/);
});
