// Bench: the wall left alone. An accelerated day (the server's clock at 96× real time, the demo at its
// realistic 2 cases a minute of that clock, so ~2,900 cases in ~15 minutes) on a wall device whose
// playlist rotates through every scene (overview, case flow, safety, a district's overview; 20 s each),
// in headless Chromium. Once a playlist cycle (so always on the same scene): the JS heap after a forced garbage collection, DOM nodes, documents
// and event listeners (Chrome DevTools Protocol), the renderer process's RSS, and the server's RSS.
// Prints the samples' first, last and growth per hour of wall time and per playlist cycle, against the
// targets (< 5 MB heap and < 50 MB renderer growth over the accelerated day, flat DOM). Beside the
// browser's wall, `WALLS - 1` more walls (each its own device, at the city, a district or a town) hold
// live streams read by this script, so that the server's RSS is sampled with 50 walls connected.
// Usage: node tests/bench/soak.mjs [minutes=15] [walls=50]
import { readFileSync, readdirSync } from 'node:fs';
import { startServer, launchBrowser, signIn } from '../e2e/harness.mjs';

const MINUTES = Number(process.argv[2] ?? 15);
const WALLS = Number(process.argv[3] ?? 50);
// Where the other walls look: the city, its six districts and some towns, as a command centre's would.
const PLACES = ['330600', '330602', '330603', '330604', '330624', '330681', '330683', '330602001', '330681001', '330683002'];
const RATE = 96;
const DWELL = 20;
const ITEMS = [{ scene: 'overview', dwell_secs: DWELL }, { scene: 'flow', dwell_secs: DWELL }, { scene: 'safety', dwell_secs: DWELL }, { scene: 'overview', region: '330681', dwell_secs: DWELL }];

process.env.COCKPIT_CLOCK_RATE = String(RATE);
const server = await startServer({ rate: 2, backfillDays: 30, backfillRate: 2 });
const browser = await launchBrowser();

const rssMiB = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)[1]) / 1024;
/// The largest Chromium renderer process: the wall's (the admin page is closed before sampling starts).
function rendererRss() {
  let best = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('--type=renderer')) best = Math.max(best, rssMiB(pid));
    } catch { /* gone */ }
  }
  return best;
}

try {
  const admin = await (await browser.newContext()).newPage();
  await signIn(admin, server.url, 'admin', '/wall');
  const [activate, others] = await admin.evaluate(async ([items, n, places]) => {
    const me = await (await fetch('/api/me')).json();
    const h = { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf };
    const issue = async (name, scope) => {
      const r = await fetch('/api/admin/devices', { method: 'POST', headers: h, body: JSON.stringify({ name, scope }) });
      if (!r.ok) throw new Error(`device: ${r.status} ${await r.text()}`);
      return r.json();
    };
    const d = await issue('指挥中心 soak', '330600');
    const r = await fetch(`/api/admin/devices/${d.id}/playlist`, { method: 'POST', headers: h, body: JSON.stringify({ items }) });
    if (!r.ok) throw new Error(`playlist: ${r.status} ${await r.text()}`);
    const others = [];
    for (let i = 1; i < n; i++) {
      const scope = places[i % places.length];
      others.push({ scope, activate: (await issue(`soak wall ${i}`, scope)).activate });
    }
    return [d.activate, others];
  }, [ITEMS, WALLS, PLACES]);
  await admin.context().close();

  // The other walls: a device session each (the activation link's cookie), one live stream each, read
  // to the end and counted.
  const streams = { bytes: 0, events: 0, failed: 0 };
  const stop = new AbortController();
  for (const o of others) {
    const a = await fetch(server.url + o.activate, { redirect: 'manual' });
    const cookie = a.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    fetch(`${server.url}/api/live?region=${o.scope}`, { headers: { Cookie: cookie }, signal: stop.signal }).then(async (r) => {
      if (!r.ok) throw new Error(`live ${o.scope}: ${r.status}`);
      for await (const chunk of r.body) {
        streams.bytes += chunk.length;
        streams.events += (Buffer.from(chunk).toString().match(/^event: (snapshot|patch)$/gm) ?? []).length;
      }
    }).catch((e) => { if (!stop.signal.aborted) { streams.failed += 1; console.error(String(e)); } });
  }

  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  let loads = 0;
  page.on('load', () => { loads += 1; });
  await page.goto(server.url + activate);
  await page.waitForSelector('#wall[data-hydrated="true"][data-live="true"]', { timeout: 60_000 });
  const cdp = await context.newCDPSession(page);
  await cdp.send('HeapProfiler.enable');
  const cycle = ITEMS.length * DWELL;
  // One whole cycle first, so every scene has been drawn once before the first sample.
  await page.waitForTimeout(cycle * 1000);
  const samples = [];
  const t0 = Date.now();
  for (;;) {
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await cdp.send('Runtime.getHeapUsage')).usedSize / 1048576;
    const dom = await cdp.send('Memory.getDOMCounters');
    samples.push({ t: (Date.now() - t0) / 1000, heap, nodes: dom.nodes, documents: dom.documents, listeners: dom.jsEventListeners, renderer: rendererRss(), server: rssMiB(server.pid) });
    if (Date.now() - t0 >= MINUTES * 60_000) break;
    // Once a cycle, so that every sample is taken on the same scene of the playlist.
    await page.waitForTimeout(cycle * 1000 - ((Date.now() - t0) % (cycle * 1000)));
  }
  const first = samples[0], last = samples.at(-1);
  const hours = (last.t - first.t) / 3600, cycles = (last.t - first.t) / cycle;
  console.log(`${MINUTES} min of wall time (${(MINUTES * RATE / 60).toFixed(0)} h of the server's clock), ${samples.length} samples, ${cycles.toFixed(1)} playlist cycles of ${cycle} s; page loads after the first: ${loads - 1}; page errors: ${errors.length}`);
  console.log('| measure | first | last | max | growth per hour of wall time | per cycle |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const [k, label, unit] of [['heap', 'JS heap after GC', 'MiB'], ['renderer', 'renderer RSS', 'MiB'], ['server', 'server RSS', 'MiB'], ['nodes', 'DOM nodes', ''], ['listeners', 'event listeners', ''], ['documents', 'documents', '']]) {
    const max = Math.max(...samples.map((s) => s[k]));
    const d = last[k] - first[k];
    const f = (x) => (unit ? x.toFixed(1) : x.toFixed(0));
    console.log(`| ${label}${unit ? ` (${unit})` : ''} | ${f(first[k])} | ${f(last[k])} | ${f(max)} | ${f(d / hours)} | ${(d / cycles).toFixed(2)} |`);
  }
  const half = Math.floor(samples.length / 2);
  const peak = (xs, k) => Math.max(...xs.map((s) => s[k]));
  console.log(`DOM nodes, max of the first half / second half of the samples: ${peak(samples.slice(0, half), 'nodes')} / ${peak(samples.slice(half), 'nodes')}; listeners: ${peak(samples.slice(0, half), 'listeners')} / ${peak(samples.slice(half), 'listeners')}`);
  console.log(`over the accelerated day: heap ${(last.heap - first.heap).toFixed(1)} MiB (target < 5), renderer ${(last.renderer - first.renderer).toFixed(1)} MiB (target < 50), DOM nodes ${last.nodes - first.nodes}`);
  console.log(`${WALLS} walls: server RSS ${first.server.toFixed(1)} → ${last.server.toFixed(1)} MiB (max ${Math.max(...samples.map((x) => x.server)).toFixed(1)}); the ${others.length} streamed walls received ${streams.events} events, ${(streams.bytes / 1024 / Math.max(others.length, 1) / (MINUTES)).toFixed(1)} KiB per wall per minute; streams failed: ${streams.failed}`);
  if (errors.length) console.log(`page errors: ${errors.slice(0, 3).join(' | ')}`);
  stop.abort();
} finally {
  await browser.close();
  await server.stop();
}
