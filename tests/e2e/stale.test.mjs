// A case feed that stops delivering: past its cadence, the wall and the street official's tablet both
// name it over the figures it feeds, in a real headless Chromium against the real server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, signIn } from './harness.mjs';

// The patrol app's API is down (nothing listens on port 9), and it is expected every 2 seconds.
const CONFIG = `
[[feeds]]
name = "patrol-app"
type = "http_pull"
url = "http://127.0.0.1:9/cases"
interval_seconds = 1
cadence_seconds = 2
[feeds.mapping]
record = "case"
id = "id"
time = "updated"
status = "status"
status_map = { "accepted" = "accepted" }
category = "kind"
category_map = { "dispute" = "dispute" }
source = "grid_patrol"
region = "grid"
`;

let server, browser;
before(async () => {
  server = await startServer({ config: CONFIG });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

for (const [user, path, badge, viewport] of [
  ['leader', '/wall', '#wall-stale', { width: 1920, height: 1080 }],
  ['tashan', '/desk', '#desk-stale', { width: 1024, height: 768 }],
]) {
  test(`${path} names a stale case feed (${user})`, async () => {
    const context = await browser.newContext({ viewport, hasTouch: path === '/desk' });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await signIn(page, server.url, user, path);
    await page.waitForSelector(badge, { timeout: 30_000 });
    const text = await page.textContent(badge);
    assert.match(text, /数据过期/);
    assert.match(text, /patrol-app/);
    assert.doesNotMatch(text, /demo/, 'the demo feed delivers and is not stale');
    assert.deepEqual(errors, []);
    // Loaded while the feed is stale, the page comes with the badge from the server (and hydrates over it).
    const html = await (await page.request.get(server.url + path)).text();
    assert.match(html, /stale-badge[\s\S]{0,200}数据过期/, 'the server renders the badge with the page');
    assert.match(html, /patrol-app/);
    await page.goto(server.url + path);
    await page.waitForSelector(`${badge}`, { timeout: 30_000 });
    await page.waitForSelector('[data-hydrated="true"]', { timeout: 30_000 });
    assert.deepEqual(errors, [], 'a page loaded with the badge hydrates');
    await context.close();
  });
}
