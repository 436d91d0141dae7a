// Bench: time from navigation to the map drawn on /wall in headless Chromium, against a baseline
// measured in the same run (the server-rendered /public page, no wasm, no charts).
// Prints figures and the ratio. Usage: node tests/bench/wall_timing.mjs URL [runs]
import { launchBrowser, signIn } from '../e2e/harness.mjs';

const [url, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 5);
const browser = await launchBrowser();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeOnce(path, ready) {
  const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 } }); // cold cache every run
  const page = await ctx.newPage();
  // Signed in first (the sign-in page loads no wasm and no charts), then timed.
  await signIn(page, url, 'leader', '/public');
  const t0 = Date.now();
  await page.goto(url + path);
  await page.waitForFunction(ready, null, { timeout: 60_000 });
  const ms = Date.now() - t0;
  await ctx.close();
  return ms;
}

const mapDrawn = () => {
  const el = document.querySelector('#map');
  const c = el && window.echarts && window.echarts.getInstanceByDom(el);
  return !!(c && c.getOption().series?.[0]?.data?.length);
};
const tableShown = () => document.querySelectorAll('table#record-districts tbody tr').length > 0;

const wall = [], base = [];
for (let i = 0; i < runs; i++) {
  base.push(await timeOnce('/public', tableShown));
  wall.push(await timeOnce('/wall', mapDrawn));
}
await browser.close();
const w = median(wall), b = median(base);
console.log(`navigation → map drawn on /wall: median ${w} ms over ${runs} runs (all: ${wall.join(', ')})`);
console.log(`baseline, navigation → table on /public: median ${b} ms (all: ${base.join(', ')})`);
console.log(`ratio wall/baseline: ${(w / b).toFixed(2)}`);
