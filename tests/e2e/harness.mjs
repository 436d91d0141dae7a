// Starts the real `cockpit` server on a free port with a fresh data directory, and a real headless
// Chromium (Debian's), for the browser tests. Nothing is mocked.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const artifacts = join(root, 'tests', 'artifacts');
mkdirSync(artifacts, { recursive: true });

// The server's clock starts here, whatever the machine's date: a Wednesday morning in Shanghai, a
// working day with patrols under way and deadlines falling due. Screens and figures do not change with
// the day the tests run.
export const PINNED = '2026-12-02T10:00:00+08:00';

// `config`: TOML for a config file (e.g. `[[feeds]]`); the demo's settings still come from the environment.
// `dataDir` and `listen` restart a server on the data and address of one that was killed (outage tests).
// `twoFactor`: who must give a second factor; tests that are not about it sign administrators in with
// passwords alone ('off'); the product's default is 'administrators'.
// `env`: more environment for the server (a secret, say).
export async function startServer({ rate = 240, backfillDays = 2, backfillRate = 6, config, clockStart = PINNED, dataDir, listen = '127.0.0.1:0', twoFactor = 'off', env = {} } = {}) {
  const bin = process.env.COCKPIT_BIN ?? join(root, 'target', 'debug', 'cockpit');
  dataDir ??= mkdtempSync(join(tmpdir(), 'cockpit-e2e-'));
  const configEnv = {};
  if (config) {
    configEnv.COCKPIT_CONFIG = join(dataDir, 'cockpit.toml');
    writeFileSync(configEnv.COCKPIT_CONFIG, config);
  }
  const child = spawn(bin, ['--listen', listen, '--data-dir', dataDir], {
    env: {
      ...process.env,
      COCKPIT_SITE_ROOT: process.env.COCKPIT_SITE_ROOT ?? join(root, 'target', 'site'),
      COCKPIT_DEMO_RATE_PER_MINUTE: String(rate),
      COCKPIT_DEMO_BACKFILL_DAYS: String(backfillDays),
      COCKPIT_DEMO_BACKFILL_RATE_PER_MINUTE: String(backfillRate),
      COCKPIT_LOG: 'warn,sqlx::query=error',
      COCKPIT_CLOCK_START: clockStart,
      COCKPIT_TWO_FACTOR: twoFactor,
      ...configEnv,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not print its address: ${out}`)), 60_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  // The address is printed when the port is bound; /healthz answers once the city is loaded.
  const deadline = Date.now() + 180_000;
  for (;;) {
    try { if ((await fetch(url + '/healthz')).ok) break; } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error('server never became healthy');
    await new Promise((r) => setTimeout(r, 250));
  }
  const exited = new Promise((r) => child.once('exit', r));
  return {
    url,
    dataDir,
    pid: child.pid,
    /// Ends the process with `signal` and keeps its data (an outage).
    async kill(signal = 'SIGTERM') {
      child.kill(signal);
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => { child.once('exit', r); setTimeout(r, 10_000); });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/// Waits until the ECharts instance on `selector` holds series data, and returns the area names.
export async function mapNames(page, min = 1) {
  const h = await page.waitForFunction((min) => {
    const el = document.querySelector('#map');
    const c = el && window.echarts && window.echarts.getInstanceByDom(el);
    const d = c && c.getOption().series?.[0]?.data;
    return d && d.length >= min ? d.map((x) => x.name) : null;
  }, min, { timeout: 30_000 });
  return h.jsonValue();
}

/// Clicks the map area named `name` at its label point.
export async function clickArea(page, name) {
  const pt = await page.evaluate((name) => {
    const el = document.querySelector('#map');
    const c = window.echarts.getInstanceByDom(el);
    const map = c.getOption().series[0].map;
    const f = window.echarts.getMap(map).geoJSON.features.find((f) => f.properties.name === name);
    const [x, y] = c.convertToPixel({ seriesIndex: 0 }, f.properties.cp);
    const r = el.getBoundingClientRect();
    return { x: r.left + x, y: r.top + y };
  }, name);
  await page.mouse.click(pt.x, pt.y);
}

export const DEMO_PASSWORD = 'cockpit-demo-2026';

/// Signs in through the real form, as a person would; lands on `next`.
export async function signIn(page, baseUrl, user, next = '/wall') {
  await page.goto(`${baseUrl}/login?next=${encodeURIComponent(next)}`);
  await page.fill('input[name="username"]', user);
  await page.fill('input[name="password"]', DEMO_PASSWORD);
  await Promise.all([page.waitForURL(`**${next}`), page.click('button[type="submit"]')]);
}

/// A fresh browser context signed in as `user` on `next`, collecting the page's uncaught errors.
export async function signedIn(browser, baseUrl, user, next, options) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await signIn(page, baseUrl, user, next);
  return { context, page, errors };
}

/// Records what `page` transfers (Chrome DevTools Protocol): per finished response its URL, encoded bytes
/// on the wire, headers and whether the cache answered. `list()` returns them; `clear()` starts over;
/// `clearCache()` empties the browser's cache (a cold load).
export async function recordTransfer(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const seen = new Map();
  let done = [];
  cdp.on('Network.responseReceived', (e) => seen.set(e.requestId, {
    url: e.response.url,
    status: e.response.status,
    headers: Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v])),
    cached: !!(e.response.fromDiskCache || e.response.fromMemoryCache || e.response.fromPrefetchCache),
  }));
  cdp.on('Network.requestServedFromCache', (e) => { const r = seen.get(e.requestId); if (r) r.cached = true; });
  cdp.on('Network.loadingFinished', (e) => {
    const r = seen.get(e.requestId);
    if (r) done.push({ ...r, bytes: e.encodedDataLength });
  });
  return { list: () => done, clear: () => { done = []; }, clearCache: () => cdp.send('Network.clearBrowserCache') };
}

/// A port free now on 127.0.0.1 (for a server whose address must be known before it starts).
export async function freePort() {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/// Taps the desk's tab `id` and waits for `selector` in its panel. A tap that did not take (the tab not
/// marked on) is tried once more, as a person would; if the panel never shows `selector`, the error says
/// what it showed instead (an error note, the loading line, another tab), and a screenshot is kept.
export async function openTab(page, id, selector, timeout = 30_000) {
  const tab = page.locator(`#${id}`);
  await tab.tap();
  try {
    await page.waitForSelector(`#${id}.on`, { timeout: 5_000 });
  } catch {
    await tab.tap();
    await page.waitForSelector(`#${id}.on`, { timeout: 5_000 });
  }
  try {
    await page.waitForSelector(selector, { timeout });
  } catch (e) {
    await page.screenshot({ path: join(artifacts, `tab-${id}-failed.png`) }).catch(() => {});
    const shown = await page.evaluate(() => document.querySelector('.desk-list')?.innerText.slice(0, 600)).catch((x) => String(x));
    throw new Error(`${selector} not shown ${timeout} ms after ${id} was on; the panel shows: ${shown}`, { cause: e });
  }
}
