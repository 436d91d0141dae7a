// The wall's watchdog in a real headless Chromium against the real server: a heap above its budget
// (lowered for the test with ?heap_budget_mb=1) makes the page reload itself once, cleanly, and the
// server counts the reload and its reason on /metrics; a second reload waits at least ten minutes, so a
// fresh page above budget does not loop.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, signIn } from './harness.mjs';

let server, browser;
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function reloads(admin, reason) {
  const text = await admin.evaluate(async () => (await fetch('/metrics')).text());
  const m = text.match(new RegExp(`cockpit_wall_reloads_total\\{reason="${reason}"\\} (\\d+)`));
  assert.ok(m, `the reload counter is on /metrics:\n${text.slice(-800)}`);
  return Number(m[1]);
}

test('a wall over its heap budget reloads itself once at a scene boundary, and the server counts why', async () => {
  server = await startServer({ rate: 120, backfillDays: 1, backfillRate: 2 });
  browser = await launchBrowser();
  const admin = await (await browser.newContext()).newPage();
  await signIn(admin, server.url, 'admin', '/wall');
  assert.equal(await reloads(admin, 'heap'), 0);

  const page = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  let loads = 0;
  page.on('load', () => { loads += 1; });
  const streams = [];
  page.on('request', (r) => { if (r.url().includes('/api/live')) streams.push(new URL(r.url()).search); });
  await signIn(page, server.url, 'leader', '/wall?heap_budget_mb=1');
  await page.waitForSelector('#wall[data-hydrated="true"][data-live="true"]', { timeout: 30_000 });
  const before = loads;

  // The watchdog looks every 15 s; without a playlist the boundary is now.
  const deadline = Date.now() + 40_000;
  while (loads === before && Date.now() < deadline) await page.waitForTimeout(500);
  assert.equal(loads, before + 1, 'the page reloaded itself');
  await page.waitForSelector('#wall[data-hydrated="true"][data-live="true"]', { timeout: 30_000 });
  assert.ok(streams.some((s) => s.includes('reloaded=heap')), `the first stream after the reload says why: ${streams.join(' ')}`);
  assert.equal(await reloads(admin, 'heap'), 1);
  assert.equal(await reloads(admin, 'stream'), 0);

  // Still over budget after the reload: no second reload within the ten minutes.
  await page.waitForTimeout(20_000);
  assert.equal(loads, before + 1, 'no reload loop');
  assert.equal(await reloads(admin, 'heap'), 1);
  assert.deepEqual(errors, []);
});
