// The wall display in a real headless Chromium against the real server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, launchBrowser, artifacts, mapNames, clickArea, signIn } from './harness.mjs';

const DISTRICTS = ['上虞区', '嵊州市', '新昌县', '柯桥区', '诸暨市', '越城区'];
let server, browser;

before(async () => {
  server = await startServer({ rate: 300, backfillDays: 2, backfillRate: 3 });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openWall(width, height) {
  const page = await browser.newPage({ viewport: { width, height } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // The server's Content-Security-Policy must let the wall run (wasm, ECharts, its own requests only).
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) errors.push(m.text()); });
  await signIn(page, server.url, 'leader');
  await page.waitForSelector('#wall[data-hydrated="true"]', { timeout: 30_000 });
  return { page, errors };
}

async function noScrollbars(page) {
  const s = await page.evaluate(() => ({
    sw: document.documentElement.scrollWidth, sh: document.documentElement.scrollHeight,
    w: window.innerWidth, h: window.innerHeight,
  }));
  assert.ok(s.sw <= s.w && s.sh <= s.h, `content ${s.sw}x${s.sh} fits ${s.w}x${s.h}`);
}

test('the wall asks for sign-in first', async () => {
  const page = await browser.newPage();
  await page.goto(server.url + '/wall');
  assert.match(page.url(), /\/login\?next=%2Fwall|\/login\?next=\/wall/);
  await page.fill('input[name="username"]', 'leader');
  await page.fill('input[name="password"]', 'not the password');
  await page.click('button[type="submit"]');
  await page.waitForSelector('.login-error');
  assert.match(await page.textContent('.login-error'), /用户名或密码错误/);
  await page.close();
});

test('the wall hydrates, maps all six districts by name and fills its KPI tiles', async () => {
  const { page, errors } = await openWall(1920, 1080);
  const names = await mapNames(page, 6);
  assert.deepEqual([...names].sort(), DISTRICTS);
  for (const key of ['new_today', 'open', 'overdue', 'closure_rate', 'grid_coverage']) {
    const text = await page.textContent(`.kpi[data-kpi="${key}"] .kpi-value`);
    assert.match(text.trim(), /^\d+(\.\d)?%?$/, `${key} shows a number, got ${text}`);
  }
  assert.match(await page.textContent('#kpi-alerts'), /即将到期 \d+ · 督办 \d+ · 升级 \d+/);
  const open = Number(await page.getAttribute('.kpi[data-kpi="open"] .kpi-value', 'data-value'));
  assert.ok(open > 0, 'the demo city has open cases');
  assert.ok((await page.locator('#ticker li').count()) > 0, 'the ticker lists cases');
  assert.equal(await page.locator('.panel .as-of').count() >= 4, true, 'every panel shows its as-of time');
  // The case-flow Sankey holds today's transitions.
  const flow = await page.waitForFunction(() => {
    const c = window.echarts.getInstanceByDom(document.querySelector('#flow-chart'));
    const links = c && c.getOption().series?.[0]?.links;
    return links && links.length ? links.length : null;
  }, null, { timeout: 20_000 });
  assert.ok((await flow.jsonValue()) > 0);
  await noScrollbars(page);
  await page.waitForTimeout(1500); // let the charts' entry animation finish
  await page.screenshot({ path: join(artifacts, 'wall-1920x1080.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('a click drills into a district, then a town, and the way back up works', async () => {
  const { page } = await openWall(1920, 1080);
  await mapNames(page, 6);
  await clickArea(page, '诸暨市');
  await page.waitForSelector('#crumbs .crumb:has-text("诸暨市")');
  const towns = await mapNames(page, 20);
  assert.ok(towns.includes('枫桥镇'), 'towns of 诸暨市 include 枫桥镇');
  assert.equal(towns.length, 23);
  assert.ok(await page.isVisible('#schematic'), 'generated boundaries are labelled 示意');
  await clickArea(page, '枫桥镇');
  await page.waitForSelector('#crumbs .crumb:has-text("枫桥镇")');
  const villages = await mapNames(page, 31);
  assert.equal(villages.length, 31, '枫桥镇 has 31 villages and communities');
  // Down to the grids of one community, and to one grid with its worker (or vacancy).
  await clickArea(page, '天竺社区');
  await page.waitForSelector('#crumbs .crumb:has-text("天竺社区")');
  const grids = await mapNames(page, 1);
  assert.ok(grids.length >= 3 && grids.every((g) => g.includes('网格')), `grids of 天竺社区: ${grids}`);
  await clickArea(page, grids[0]);
  await page.waitForSelector('#grid-card');
  assert.match(await page.textContent('#grid-card'), /网格员/);
  assert.match(await page.textContent('#grid-card'), /户数/);
  assert.match(await page.textContent('#grid-last-patrol'), /^(\d{4}-\d\d-\d\d \d\d:\d\d|从未巡查)$/, 'last patrol shown');
  // Who is on duty in the grid now (10:00 on a working Wednesday): its worker on the morning shift, on
  // leave, or a vacancy; with until when.
  const duty = await page.textContent('#grid-duty');
  const status = await page.getAttribute('#grid-duty', 'data-status');
  const shape = { on_duty: /^在岗 \S+ 值班至 2026-12-02 12:00$/, on_leave: /^请假 \S+ 请假至 \d{4}-\d\d-\d\d 00:00$/, vacant: /^空缺\s*$/ }[status];
  assert.ok(shape, `status ${status}`);
  assert.match(duty, shape);
  await page.click('#crumbs .crumb:has-text("枫桥镇")');
  await page.waitForFunction(() => document.querySelectorAll('#crumbs .crumb').length === 3);
  await page.click('#map-up');
  await page.waitForSelector('#crumbs .crumb:last-child:has-text("诸暨市")');
  await page.click('#crumbs .crumb:first-child');
  await page.waitForFunction(() => document.querySelectorAll('#crumbs .crumb').length === 1);
  assert.deepEqual([...(await mapNames(page, 6))].sort(), DISTRICTS);
  await page.close();
});

test('a new simulated case changes the screen without a reload', async () => {
  const { page } = await openWall(1920, 1080);
  await page.evaluate(() => { window.__samePage = 'yes'; });
  const first = await page.getAttribute('#ticker li:first-child', 'data-case');
  const before = await page.getAttribute('.kpi[data-kpi="new_today"] .kpi-value', 'data-value');
  await page.waitForFunction(
    ([first, before]) =>
      document.querySelector('#ticker li:first-child')?.dataset.case !== first &&
      document.querySelector('.kpi[data-kpi="new_today"] .kpi-value')?.dataset.value !== before,
    [first, before],
    { timeout: 30_000 },
  );
  assert.equal(await page.evaluate(() => window.__samePage), 'yes', 'no reload happened');
  assert.ok(await page.isVisible('.live.on'), 'the live indicator is on');
  await page.close();
});

test('at 7680x2160 (32:9) the wall widens its panels without scrollbars', async () => {
  const { page } = await openWall(7680, 2160);
  await mapNames(page, 6);
  await noScrollbars(page);
  const mapWidth = await page.evaluate(() => document.querySelector('#map').getBoundingClientRect().width);
  assert.ok(mapWidth > 3000, `the map panel takes the extra width: ${mapWidth}px`);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: join(artifacts, 'wall-7680x2160.png') });
  await page.close();
});

/// Every panel and figure tile lies inside the screen, and no two panels overlap.
async function noOverlap(page) {
  const boxes = await page.evaluate(() => [...document.querySelectorAll('.panel, .kpi')].map((e) => {
    const r = e.getBoundingClientRect();
    return { panel: e.classList.contains('panel'), name: e.querySelector('h2, .kpi-label')?.textContent ?? e.className, l: r.left, t: r.top, r: r.right, b: r.bottom };
  }));
  const w = page.viewportSize();
  assert.ok(boxes.length >= 8, `panels and tiles on screen: ${boxes.length}`);
  for (const b of boxes) assert.ok(b.l >= 0 && b.t >= 0 && b.r <= w.width + 0.5 && b.b <= w.height + 0.5, `${b.name} inside ${w.width}x${w.height}: ${JSON.stringify(b)}`);
  const panels = boxes.filter((b) => b.panel);
  for (const [i, a] of panels.entries()) {
    for (const b of panels.slice(i + 1)) {
      const apart = a.r <= b.l + 0.5 || b.r <= a.l + 0.5 || a.b <= b.t + 0.5 || b.b <= a.t + 0.5;
      assert.ok(apart, `${a.name} and ${b.name} overlap`);
    }
  }
}

// Every text ECharts drew (labels, axis names, legends) inside its chart: none cut at an edge.
async function labelsInside(page) {
  const cut = await page.evaluate(() => [...document.querySelectorAll('.chart')].flatMap((el) => {
    const c = window.echarts.getInstanceByDom(el);
    if (!c) return [];
    const [w, h] = [c.getWidth(), c.getHeight()];
    return c.getZr().storage.getDisplayList(true)
      .filter((d) => d.type === 'text' && !d.ignore && !d.invisible && d.style && d.style.text)
      .map((d) => {
        const r = d.getBoundingRect().clone();
        const m = d.getComputedTransform();
        if (m) r.applyTransform(m);
        return { chart: el.id || el.parentElement.id, text: d.style.text, l: r.x, t: r.y, r: r.x + r.width, b: r.y + r.height, w, h };
      })
      .filter((b) => b.l < -1 || b.t < -1 || b.r > b.w + 1 || b.b > b.h + 1);
  }));
  assert.deepEqual(cut, [], 'chart texts cut at an edge');
}

// The design distance (README): no text on the wall smaller than 1.5 rem (1.39 % of a landscape wall's
// height: 16 arcmin at three wall heights away), neither in the page nor drawn by ECharts.
async function readableText(page) {
  const small = await page.evaluate(() => {
    const rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
    const min = 1.5 * rem - 0.5;
    const html = [...document.querySelectorAll('#wall *')]
      .filter((e) => [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()) && e.getClientRects().length > 0)
      .map((e) => ({ text: e.textContent.trim().slice(0, 20), px: parseFloat(getComputedStyle(e).fontSize) }))
      .filter((t) => t.px < min);
    // Text cut by its tile or panel (a line half hidden at the bottom edge).
    const cut = [...document.querySelectorAll('#wall .kpi *, #wall .panel-head *')]
      .filter((e) => [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()) && e.getClientRects().length > 0)
      .map((e) => ({ e, box: e.closest('.kpi, .panel').getBoundingClientRect(), r: e.getBoundingClientRect() }))
      .filter(({ box, r }) => r.bottom > box.bottom + 1 || r.top < box.top - 1)
      .map(({ e, r, box }) => ({ cut: e.textContent.trim().slice(0, 20), bottom: r.bottom, edge: box.bottom }));
    html.push(...cut);
    const charts = [...document.querySelectorAll('.chart')].flatMap((el) => {
      const c = window.echarts.getInstanceByDom(el);
      if (!c) return [];
      return c.getZr().storage.getDisplayList(true)
        .filter((d) => d.type === 'text' && !d.ignore && !d.invisible && d.style && d.style.text)
        .map((d) => ({ text: String(d.style.text).slice(0, 20), px: d.style.fontSize ? parseFloat(d.style.fontSize) : parseFloat(/(\d+(\.\d+)?)px/.exec(d.style.font || '')?.[1] ?? '12') }))
        .filter((t) => t.px < min);
    });
    return { rem, html, charts };
  });
  assert.deepEqual([...small.html, ...small.charts], [], `text under 1.5 rem (${small.rem}px)`);
}

for (const [width, height, what] of [[1920, 1080, 'the common wall'], [5760, 1080, 'three screens side by side'], [1080, 1920, 'a portrait totem']]) {
  test(`at ${width}x${height} (${what}) every scene fits without scrollbars or overlap`, async () => {
    const { page, errors } = await openWall(width, height);
    await mapNames(page, 6);
    await noScrollbars(page);
    await noOverlap(page);
    await page.waitForTimeout(1500);
    await labelsInside(page);
    await readableText(page);
    await page.screenshot({ path: join(artifacts, `wall-${width}x${height}.png`) });
    for (const scene of ['flow', 'safety']) {
      await page.click(`#scene-${scene}`);
      await page.waitForSelector(`#${scene}-scene canvas`, { timeout: 30_000 });
      await page.waitForTimeout(2500);
      await noScrollbars(page);
      await labelsInside(page);
      await readableText(page);
      await page.screenshot({ path: join(artifacts, `wall-${scene}-${width}x${height}.png`) });
    }
    assert.deepEqual(errors, []);
    await page.close();
  });
}

test('at 3840x2160 the wall scales up without scrollbars', async () => {
  const { page } = await openWall(3840, 2160);
  await mapNames(page, 6);
  const size = await page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('.kpi-value')).fontSize));
  assert.equal(size, 92, 'a 46px design figure is 92px at twice the height');
  await noScrollbars(page);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: join(artifacts, 'wall-3840x2160.png') });
  await page.close();
});
