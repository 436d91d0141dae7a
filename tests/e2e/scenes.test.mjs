// Every scene of the wall opened directly by its address, cold (a new browser context each time: no
// cache, only the session cookie), many times in a row: hydration never panics and the charts are drawn
// every time. A wall is switched on at a scene's address, not by clicking to it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, signIn } from './harness.mjs';

const LOADS = Number(process.env.COCKPIT_E2E_COLD_LOADS ?? 20);
let server, browser, session;

before(async () => {
  server = await startServer({ rate: Number(process.env.COCKPIT_E2E_RATE ?? 600), backfillDays: 3, backfillRate: 4 });
  browser = await launchBrowser();
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, server.url, 'leader', '/wall');
  session = await context.storageState();
  await context.close();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

// What each scene must show once hydrated: a figure and a chart holding data.
const scenes = {
  overview: { figure: '.kpi[data-kpi="open"] .kpi-value', chart: '#map' },
  flow: { figure: '#flow-on-time .kpi-value', chart: '#flow-sankey .chart' },
  safety: { figure: '#safety-alarms .kpi-value', chart: '#safety-areas .chart' },
};

/// Opens `path` in a fresh context; returns what went wrong ('' when nothing did).
async function coldLoad(path, { figure, chart }) {
  const context = await browser.newContext({ storageState: session, viewport: { width: 1920, height: 1080 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && /panicked|unreachable/.test(m.text())) errors.push(m.text()); });
  try {
    await page.goto(server.url + path);
    await page.waitForSelector('#wall[data-hydrated="true"]', { timeout: 20_000 });
    await page.waitForSelector(figure, { timeout: 20_000 });
    await page.waitForFunction((sel) => {
      const el = document.querySelector(sel);
      const c = el && window.echarts && window.echarts.getInstanceByDom(el);
      const s = c && c.getOption().series?.[0];
      return Boolean(s && (s.data?.length || s.links?.length));
    }, chart, { timeout: 20_000 });
    // The scene stays alive after hydration: its buttons still answer.
    await page.click('#scene-overview');
    await page.waitForSelector('.kpi[data-kpi="open"]', { timeout: 10_000 });
  } catch (e) {
    errors.push(e.message.split('\n')[0]);
  } finally {
    await context.close();
  }
  return errors.join(' | ');
}

for (const [scene, expect] of Object.entries(scenes)) {
  test(`/wall?scene=${scene} opened directly, cold, ${LOADS} times: hydrates and draws every time`, async () => {
    const failed = [];
    for (let i = 0; i < LOADS; i += 1) {
      const why = await coldLoad(`/wall?scene=${scene}`, expect);
      if (why) failed.push(`load ${i + 1}: ${why}`);
    }
    assert.deepEqual(failed, []);
  });
}
