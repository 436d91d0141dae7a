// A wall device's playlist in a real headless Chromium against the real server: an administrator sets
// it through the API, two screens of the same wall (opened seconds apart) rotate through its scenes and
// regions in step, because the item on screen is a function of the server's clock; a touch pauses one.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, signIn } from './harness.mjs';

let server, browser;
after(async () => {
  await browser?.close();
  await server?.stop();
});

const SCENES = ['overview', 'flow', 'safety'];

/// Where a screen stands: the playlist item, how far through it, and the scene button lit.
const standing = (page) => page.evaluate(() => {
  const bar = document.querySelector('#playlist-progress');
  return {
    item: bar ? Number(bar.dataset.item) : null,
    done: bar ? parseFloat(bar.style.width) / 100 : null,
    scene: document.querySelector('.scenes button.on')?.id.replace('scene-', '') ?? null,
  };
});

test('two screens of one wall rotate through the device\'s playlist in step; a touch pauses one', async () => {
  server = await startServer({ rate: 120, backfillDays: 1, backfillRate: 4 });
  browser = await launchBrowser();
  const admin = await (await browser.newContext()).newPage();
  await signIn(admin, server.url, 'admin', '/wall');
  const set = await admin.evaluate(async () => {
    const me = await (await fetch('/api/me')).json();
    const post = (path, body) => fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf }, body: JSON.stringify(body) });
    const device = await (await post('/api/admin/devices', { name: '指挥中心 拼接屏', scope: '330600' })).json();
    const items = [
      { scene: 'overview', dwell_secs: 10 },
      { scene: 'flow', region: '330602', dwell_secs: 10 },
      { scene: 'safety', dwell_secs: 10 },
    ];
    const r = await post(`/api/admin/devices/${device.id}/playlist`, { items });
    return { activate: device.activate, status: r.status };
  });
  assert.equal(set.status, 200);
  await admin.context().close();

  const first = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const a = await first.newPage();
  await a.goto(server.url + set.activate);
  await a.waitForSelector('#wall[data-hydrated="true"] #playlist-progress', { timeout: 30_000 });
  await a.waitForTimeout(3_000);
  // The second screen of the same wall, switched on later.
  const second = await browser.newContext({ viewport: { width: 1280, height: 720 }, storageState: await first.storageState() });
  const b = await second.newPage();
  const errors = [];
  for (const p of [a, b]) p.on('pageerror', (e) => errors.push(String(e)));
  await b.goto(server.url + '/wall');
  await b.waitForSelector('#wall[data-hydrated="true"] #playlist-progress', { timeout: 30_000 });

  const seen = new Set();
  let skew = 0;
  // Screens agree to within half a round trip to the server plus one 250 ms step: "the same second".
  const nearEdge = (s) => s.done === null || s.done < 0.08 || s.done > 0.92;
  for (let i = 0; i < 50; i += 1) {
    const [sa, sb] = await Promise.all([standing(a), standing(b)]);
    if (!nearEdge(sa) && !nearEdge(sb)) {
      assert.equal(sa.item, sb.item, `sample ${i}: both screens show the same item (${JSON.stringify([sa, sb])})`);
      assert.ok(Math.abs(sa.done - sb.done) < 0.08, `sample ${i}: within the same second of it (${sa.done} vs ${sb.done})`);
      assert.equal(sa.scene, SCENES[sa.item], `sample ${i}: item ${sa.item} is the ${SCENES[sa.item]} scene`);
      assert.equal(sb.scene, SCENES[sb.item]);
      seen.add(sa.item);
      skew = Math.max(skew, Math.abs(sa.done - sb.done) * 10_000);
    }
    await a.waitForTimeout(600);
  }
  assert.deepEqual([...seen].sort(), [0, 1, 2], 'the whole playlist came round');
  console.log(`# largest difference between the two screens: ${Math.round(skew)} ms`);
  // The flow item is for 越城区: the scene shows that district's towns.
  await b.waitForFunction(() => document.querySelector('#playlist-progress')?.dataset.item === '1', null, { timeout: 40_000, polling: 200 });
  await b.waitForSelector('#flow-by-region tbody tr', { timeout: 30_000 });
  assert.match(await b.textContent('#flow-by-region'), /塔山街道/, 'the item\'s region');

  // A touch on the first screen pauses its rotation; the second goes on.
  await a.mouse.click(5, 700);
  await a.waitForSelector('#playlist-progress', { state: 'detached', timeout: 5_000 });
  const held = (await standing(a)).scene;
  const before = (await standing(b)).item;
  await b.waitForFunction((before) => document.querySelector('#playlist-progress')?.dataset.item !== String(before), before, { timeout: 15_000, polling: 200 });
  assert.equal((await standing(a)).scene, held, 'the paused screen stays on its scene');
  assert.deepEqual(errors, []);
  await first.close();
  await second.close();
});
