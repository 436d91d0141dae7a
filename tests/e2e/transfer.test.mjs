// What a wall transfers: its static files come compressed by the build (brotli) under content-hashed
// names that browsers keep for a year, so a reloaded wall (the watchdog's, or a screen's restart) fetches
// none of them again. The sizes it prints go in docs/BENCHMARKS.md.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, signIn, mapNames, recordTransfer } from './harness.mjs';

let server, browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const isStatic = (url) => /\/(pkg|assets)\//.test(new URL(url).pathname);

test('a wall loads its static files compressed and hashed, and a reload fetches none of them again', async () => {
  const page = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
  // Signed in first, landing on a page that loads no app code; then a cold cache.
  await signIn(page, server.url, 'leader', '/api/me');
  const net = await recordTransfer(page);
  await net.clearCache();
  await page.goto(server.url + '/wall');
  await mapNames(page, 6);
  await page.waitForLoadState('networkidle').catch(() => {});
  const cold = net.list().filter((r) => isStatic(r.url));
  const names = cold.map((r) => new URL(r.url).pathname);
  assert.ok(!names.some((n) => n.includes('/pkg/cockpit.') && !n.endsWith('.css')), `the wall loads its own bundle, not every page's: ${names}`);
  for (const kind of [/\/pkg\/wall\.[0-9a-f]{12}\.wasm$/, /\/pkg\/wall\.[0-9a-f]{12}\.js$/, /\/pkg\/cockpit\.[0-9a-f]{12}\.css$/, /\/assets\/echarts\.[0-9a-f]{12}\.js$/]) {
    const r = cold.find((r) => kind.test(new URL(r.url).pathname));
    assert.ok(r, `${kind} loaded: ${names}`);
    assert.equal(r.status, 200);
    assert.ok(r.bytes > 0 && !r.cached, `${r.url} came over the wire on a cold load`);
    assert.equal(r.headers['content-encoding'], 'br', `${r.url} brotli`);
    assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable', r.url);
  }
  const wire = cold.reduce((n, r) => n + r.bytes, 0);
  const everything = net.list().reduce((n, r) => n + r.bytes, 0);
  console.log(`cold load: static ${(wire / 1024).toFixed(0)} KiB on the wire (${cold.length} files); with the page and its data ${(everything / 1024).toFixed(0)} KiB`);

  net.clear();
  await page.reload();
  await mapNames(page, 6);
  await page.waitForLoadState('networkidle').catch(() => {});
  const warm = net.list().filter((r) => isStatic(r.url));
  assert.ok(warm.length >= 4, `the reloaded page uses its static files: ${warm.map((r) => r.url)}`);
  const fetched = warm.filter((r) => !r.cached && r.bytes > 0);
  assert.deepEqual(fetched.map((r) => r.url), [], 'a reload fetches no static file again');
  const again = net.list().reduce((n, r) => n + r.bytes, 0);
  console.log(`reload: ${(again / 1024).toFixed(1)} KiB on the wire in all`);
  await page.context().close();
});
