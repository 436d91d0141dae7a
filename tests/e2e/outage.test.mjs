// A wall through outages, in a real headless Chromium against the real server: the server is stopped
// (SIGTERM) and killed (SIGKILL), stays down, and comes back on the same address and data. The wall keeps
// its last figures, marks itself offline within the stream's expected interval (a beat every 5 s), never
// shows an error card or an error page, and is live again within 5 s of the server answering, without a
// reload and with its device session intact.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, launchBrowser, signIn, artifacts, PINNED } from './harness.mjs';

const DOWN_SECS = Number(process.env.COCKPIT_E2E_OUTAGE_SECS ?? 35);
let server, browser;
after(async () => {
  await browser?.close();
  await server?.stop();
});

/// The pinned clock moved on by the real time since the first start, so a restarted server goes on
/// from where the first one was rather than back to the pinned start.
function clockAfter(startedAt) {
  return new Date(Date.parse(PINNED) + (Date.now() - startedAt)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function healthy(url) {
  for (;;) {
    try { if ((await fetch(url + '/healthz')).ok) return Date.now(); } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('the wall keeps its figures through outages, marks itself offline at once and is live again within 5 s', async () => {
  const startedAt = Date.now();
  server = await startServer({ rate: 240, backfillDays: 1, backfillRate: 4 });
  const listen = new URL(server.url).host;
  browser = await launchBrowser();

  // An administrator issues a wall device; the wall activates it once.
  const admin = await (await browser.newContext()).newPage();
  await signIn(admin, server.url, 'admin', '/wall');
  const activate = await admin.evaluate(async () => {
    const me = await (await fetch('/api/me')).json();
    const r = await fetch('/api/admin/devices', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf }, body: JSON.stringify({ name: '指挥中心 1', scope: '330602' }) });
    return (await r.json()).activate;
  });
  await admin.context().close();
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations += 1; });
  await page.goto(server.url + activate);
  await page.waitForSelector('#wall[data-hydrated="true"][data-live="true"]', { timeout: 30_000 });
  const loads = navigations;

  // The safety scene refreshes every 30 s: an outage longer than that sees a refresh fail.
  await page.click('#scene-safety');
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector('#safety-alarms .kpi-value')?.textContent ?? ''), null, { timeout: 60_000, polling: 500 });

  for (const [signal, down] of [['SIGTERM', DOWN_SECS], ['SIGKILL', 10]]) {
    const figures = await page.textContent('#safety-scene');
    const wentAt = Date.now();
    await server.kill(signal);
    await page.waitForSelector('#wall.offline[data-live="false"]', { timeout: 15_000 });
    const markedAfter = Date.now() - wentAt;
    // The page allows 7 s of silence (a beat every 5 s); 2 s more for a busy machine.
    assert.ok(markedAfter <= 9_000, `${signal}: marked offline after ${markedAfter} ms`);
    await page.waitForTimeout(Math.max(0, down * 1000 - (Date.now() - wentAt)));
    assert.equal(await page.locator('.error-note').count(), 0, `${signal}: no error card during the outage`);
    assert.equal(await page.textContent('#safety-scene'), figures, `${signal}: the last figures stay`);
    assert.match(await page.textContent('#wall-live'), /离线/);
    if (signal === 'SIGTERM') await page.screenshot({ path: join(artifacts, 'wall-offline-1920x1080.png') });

    server = await startServer({ rate: 240, backfillDays: 1, backfillRate: 4, dataDir: server.dataDir, listen, clockStart: clockAfter(startedAt) });
    const up = await healthy(server.url);
    await page.waitForSelector('#wall[data-live="true"]:not(.offline)', { timeout: 15_000 });
    const liveAfter = Date.now() - up;
    assert.ok(liveAfter < 5_000, `${signal}: live again ${liveAfter} ms after the server answered`);
    console.log(`# ${signal}: offline mark after ${markedAfter} ms; live again ${liveAfter} ms after healthy`);
  }
  assert.equal(navigations, loads, 'never reloaded, never an error page');
  assert.equal(new URL(page.url()).pathname, '/wall');
  // The device session survived both restarts: the wall still reads its scope.
  assert.equal((await page.evaluate(async () => (await fetch('/api/wall')).status)), 200);
  assert.deepEqual(errors, []);
  await context.close();
});
