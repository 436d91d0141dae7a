// Case flows in a real headless Chromium against the real server: the street official's tablet with
// touch at 1024x768 and 1366x1024 (open an overdue case, supervise it, see it on a wall without a
// reload), and the wall's case-flow scene.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, launchBrowser, artifacts, signedIn as openAs, openTab } from './harness.mjs';

const TASHAN = '330602001';
let server, browser;

before(async () => {
  // Six days of history up to the pinned Wednesday morning hold four working days: late cases exist.
  server = await startServer({ rate: 120, backfillDays: 6, backfillRate: 4 });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const signedIn = (user, next, options) => openAs(browser, server.url, user, next, options);

for (const [width, height] of [[1024, 768], [1366, 1024], [768, 1024]]) {
  test(`tablet ${width}x${height}: supervise an overdue case by touch; the wall shows it live`, async () => {
    // A wall on the same street, open before the action and never reloaded.
    const wall = await signedIn('leader', `/wall?region=${TASHAN}`, { viewport: { width: 1920, height: 1080 } });
    await wall.page.waitForSelector('#wall[data-hydrated="true"]', { timeout: 30_000 });
    let navigations = 0;
    wall.page.on('framenavigated', (f) => { if (f === wall.page.mainFrame()) navigations += 1; });

    const desk = await signedIn('tashan', '/desk', { viewport: { width, height }, hasTouch: true });
    const page = desk.page;
    await page.waitForSelector('#desk[data-hydrated="true"]', { timeout: 30_000 });
    assert.match(await page.textContent('#desk-region'), /塔山街道/, 'opens on the official\'s own street');
    const overdue = page.locator('.case-card[data-timeliness="Overdue"]');
    assert.ok(await overdue.count() > 0, 'overdue cases are listed');
    const id = await overdue.first().getAttribute('data-case');
    // By its id: the list refreshes on its own (every 30 s) and may reorder between reading and tapping;
    // a tap that landed while the list was being replaced is tried once more.
    const card = page.locator(`.case-card[data-case="${id}"]`);
    await card.tap();
    try {
      await page.waitForSelector(`#case-detail[data-case="${id}"]`, { timeout: 10_000 });
    } catch {
      await card.tap();
      await page.waitForSelector(`#case-detail[data-case="${id}"]`);
    }
    assert.match(await page.textContent('#detail-timeliness'), /已超期/);
    assert.ok((await page.textContent('#detail-holder')).trim().length > 0, 'the holder is shown');
    assert.ok(await page.locator('#detail-timeline li').count() >= 1, 'the timeline is shown');

    // Touch-first: every control at least 44 px high; no sideways scrolling.
    const small = await page.evaluate(() => [...document.querySelectorAll('#case-detail button, .case-card, .map-up')]
      .map((b) => b.getBoundingClientRect().height).filter((h) => h > 0 && h < 44));
    assert.deepEqual(small, [], 'touch targets');
    const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    assert.ok(fits, 'no horizontal scroll');

    const note = `请今日内办结并回复 ${width}`;
    await page.locator('#act-supervise').tap();
    await page.waitForSelector('#detail-message.bad', { timeout: 10_000 });
    assert.match(await page.textContent('#detail-message'), /请填写督办意见/, 'a note is required');
    await page.fill('#supervise-note', note);
    await page.locator('#act-supervise').tap();
    await page.waitForSelector('#detail-message.ok', { timeout: 15_000 });
    const last = page.locator('#detail-timeline li[data-action="supervise"]').last();
    assert.match(await last.textContent(), /tashan/);
    assert.equal((await last.locator('q').textContent()).trim(), note);
    await page.screenshot({ path: join(artifacts, `desk-${width}x${height}.png`) });

    // Grid coverage of the street: staffed, vacant and patrolled counts, dedicated grids apart, the
    // grids not walked in three days listed.
    await page.locator('#detail-close').tap();
    await openTab(page, 'tab-coverage', '#desk-coverage');
    const line = await page.textContent('#coverage-comprehensive');
    const [grids, staffed, vacant, walked] = line.match(/全科网格 (\d+).*在岗网格员 (\d+).*空缺 (\d+).*已巡查 (\d+)/).slice(1).map(Number);
    assert.ok(grids > 10 && staffed + vacant === grids && walked > 0 && walked <= grids, line);
    assert.match(await page.textContent('#coverage-dedicated'), /专属网格/);
    assert.ok(await page.locator('#stale-grids li').count() >= 1, 'some grids went unpatrolled');
    // 网格达标率: staffed, patrolled in 3 days and base data updated in 90; each failing grid says why,
    // a stale base-data date is marked; the street's communities each with their own rate.
    const fit = page.locator('#fitness');
    const [fitN, all] = [Number(await fit.getAttribute('data-fit')), Number(await fit.getAttribute('data-grids'))];
    assert.ok(all >= grids && fitN < all, `${fitN}/${all}`);
    assert.match(await fit.textContent(), /^网格达标率 (\d+\.\d%) \(\d+\/\d+\)$/);
    const gapLine = await page.textContent('#fitness-gaps');
    const [noWorker, notWalked] = gapLine.match(/网格员空缺 (\d+) · 未按期巡查 (\d+) · 基础数据过期 (\d+)/).slice(1).map(Number);
    assert.equal(noWorker, vacant + Number((await page.textContent('#coverage-dedicated')).match(/空缺 (\d+)/)[1]));
    assert.ok(notWalked >= 1, gapLine);
    assert.ok(await page.locator('#fitness-by-child li').count() > 1, 'per community');
    const stale = page.locator('#unfit-grids li[data-gaps~="base_data_stale"]').first();
    if (await stale.count()) assert.match(await stale.locator('.when.stale').textContent(), /基础数据(更新于 \d{4}-|未登记)/);

    // 网格员在岗 from the grid workers' rosters, at 10:00 on a working Wednesday: most grids have their
    // worker on shift; the statuses add up, per community too; each grid says who and until when; the
    // wall on the same street counts the same.
    const duty = page.locator('#duty');
    const [onDuty, dutyGrids] = [Number(await duty.getAttribute('data-on-duty')), Number(await duty.getAttribute('data-grids'))];
    assert.equal(dutyGrids, all, 'every grid has a duty status');
    assert.ok(onDuty > dutyGrids / 2 && onDuty < dutyGrids, `${onDuty}/${dutyGrids}`);
    const dutyLine = await page.textContent('#duty-count');
    const counts = dutyLine.match(/在岗 (\d+) · 请假 (\d+) · 不在班 (\d+) · 空缺 (\d+)/).slice(1).map(Number);
    assert.equal(counts.reduce((x, y) => x + y, 0), dutyGrids, dutyLine);
    assert.equal(counts[0], onDuty);
    assert.ok(counts[3] <= noWorker, 'a vacant grid may be covered, never the other way round');
    const perCommunity = await page.locator('#duty-by-child li').evaluateAll((ls) => ls.map((l) => Number(l.dataset.onDuty)));
    assert.ok(perCommunity.length > 1);
    assert.equal(perCommunity.reduce((x, y) => x + y, 0), onDuty, 'the communities add up to the street');
    assert.equal(await page.locator('#duty-grids li').count(), Math.min(dutyGrids, 120));
    const onShift = page.locator('#duty-grids li[data-status="on_duty"]').first();
    assert.match(await onShift.textContent(), /在岗\S+值班至 12:00$/, 'the morning shift ends at noon');
    const wallDuty = wall.page.locator('#kpi-duty');
    assert.equal(Number(await wallDuty.getAttribute('data-on-duty')), onDuty);
    assert.match(await wallDuty.textContent(), /^在岗 \d+ · 请假 \d+$/);
    const dutySize = await wallDuty.evaluate((el) => parseFloat(getComputedStyle(el).fontSize) / parseFloat(getComputedStyle(document.documentElement).fontSize));
    assert.ok(dutySize >= 1.5, `wall text ${dutySize} rem`);

    // The street's own centre (四级综治中心): what it holds now, overdue, and deadlines met in 30 days.
    await openTab(page, 'tab-centre', '#centre-load');
    assert.match(await page.textContent('#centre-load'), /^塔山街道综治中心 · 在办 \d+ · 超期 \d+ · 近30日按期办结 \d+\/\d+（(\d+%|—)）$/);
    const held = Number(await page.textContent('#centre-held'));
    assert.equal(await page.locator('#desk-centre .case-card').count(), Math.min(held, 100), 'the queue lists what the centre holds');

    await wall.page.waitForSelector(`#ticker li[data-action="supervise"][data-case="${id}"]`, { timeout: 20_000 });
    assert.match(await wall.page.textContent(`#ticker li[data-action="supervise"][data-case="${id}"]`), /督办/);
    assert.equal(navigations, 0, 'the wall was not reloaded');
    assert.deepEqual([...wall.errors, ...desk.errors], []);
    await wall.context.close();
    await desk.context.close();
  });
}

test('a community official\'s tablet shows the queue of their own centre', async () => {
  const { context, page, errors } = await signedIn('huayuan', '/desk', { viewport: { width: 1024, height: 768 }, hasTouch: true });
  await page.waitForSelector('#desk[data-hydrated="true"]', { timeout: 30_000 });
  const community = (await page.textContent('#desk-region')).trim();
  await openTab(page, 'tab-centre', '#centre-load');
  const load = await page.textContent('#centre-load');
  assert.ok(load.startsWith(`${community}综治中心`), load);
  // Its disputes and livelihood requests start here (小事不出村); nothing held by the street shows.
  const cards = await page.locator('#desk-centre .case-card .cat').allTextContents();
  assert.ok(cards.every((c) => /矛盾纠纷|民生诉求/.test(c)), cards.join(','));
  assert.deepEqual(errors, []);
  await context.close();
});

test('the wall\'s case-flow scene: figures with 环比/同比, Sankey, stages, backlog, breakdowns', async () => {
  const { context, page, errors } = await signedIn('leader', '/wall', { viewport: { width: 1920, height: 1080 } });
  await page.waitForSelector('#wall[data-hydrated="true"]', { timeout: 30_000 });
  await page.click('#scene-flow');
  await page.waitForSelector('#flow-on-time .kpi-value', { timeout: 30_000 });
  assert.match(await page.textContent('#flow-on-time .kpi-value'), /^\d+\.\d%$/);
  // Six days of history: the week before this week is not stored, so there is nothing to compare with
  // (never a rise from zero), and nothing a year back either.
  assert.match(await page.textContent('#flow-reported .kpi-compare'), /环比 无数据/, 'no history two weeks back');
  assert.match(await page.textContent('#flow-reported .kpi-compare'), /同比 无数据/, 'no history a year back in the demo');
  assert.equal(await page.locator('#flow-by-region tbody tr').count(), 6, 'six districts');
  assert.ok(await page.locator('#flow-by-department tbody tr').count() >= 4);
  // Mediation by tier: at least the people's mediation tiers, each with a rate.
  for (const tier of ['village', 'town']) {
    assert.match(await page.textContent(`#flow-mediation tr[data-tier="${tier}"]`), /\d+\.\d%/, tier);
  }
  // 诉调对接: the court's referrals in the period, with their mediation.
  assert.ok(Number(await page.getAttribute('#flow-court', 'data-referred')) > 0, 'referrals from the simulated court');
  assert.match(await page.textContent('#flow-court'), /^诉调对接 法院委派 \d+ \(环比 .+ · 同比 无数据\) · 人民调解 \d+ · 成功 \d+ \((\d+\.\d%|—)\) · 司法确认 \d+$/);
  for (const id of ['flow-sankey', 'flow-stages', 'flow-backlog']) {
    const n = await page.waitForFunction((id) => {
      const el = document.querySelector(`#${id} .chart`);
      const c = el && window.echarts && window.echarts.getInstanceByDom(el);
      const s = c && c.getOption().series?.[0];
      return s && (s.data?.length || s.links?.length) ? (s.data?.length || s.links.length) : null;
    }, id, { timeout: 30_000 });
    assert.ok(await n.jsonValue() > 0, `${id} has data`);
  }
  const sankeyNodes = await page.evaluate(() => window.echarts.getInstanceByDom(document.querySelector('#flow-sankey .chart')).getOption().series[0].data.map((d) => d.name));
  assert.ok(sankeyNodes.some((n) => n.startsWith('退回·')), `returns have their own node: ${sankeyNodes}`);
  const fits = await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth && document.documentElement.scrollHeight <= innerHeight);
  assert.ok(fits, 'the scene fits the screen');
  // Today against yesterday (stored): a signed change.
  const span = await page.textContent('#flow-span');
  await page.click('[data-period="1"]');
  await page.waitForFunction((before) => document.querySelector('#flow-span')?.textContent !== before, span, { timeout: 30_000 });
  await page.waitForFunction(() => /环比 [+-]\d+/.test(document.querySelector('#flow-reported .kpi-compare')?.textContent ?? ''), null, { timeout: 30_000 });
  await page.click('[data-period="7"]');
  await page.waitForFunction((before) => document.querySelector('#flow-span')?.textContent === before, span, { timeout: 30_000 });
  await page.waitForTimeout(1500); // let the charts' entry animation finish
  await page.screenshot({ path: join(artifacts, 'wall-flow-1920x1080.png') });
  await page.click('#scene-overview');
  await page.waitForSelector('.kpi[data-kpi="open"]');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the wall\'s safety scene: figures from the feeds with 环比/同比, source and as-of; areas chart', async () => {
  const { context, page, errors } = await signedIn('leader', '/wall?scene=safety', { viewport: { width: 1920, height: 1080 } });
  await page.waitForSelector('#wall[data-hydrated="true"]', { timeout: 30_000 });
  // The statistics export and the video history arrive through their feeds shortly after start.
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector('#safety-criminalfiled .kpi-value')?.textContent ?? ''), null, { timeout: 60_000, polling: 1000 });
  const filed = await page.textContent('#safety-criminalfiled');
  assert.match(filed, /环比 [+-]\d+\.\d%/);
  assert.match(filed, /同比 [+-]\d+\.\d%/, 'history a year back came with the statistics export');
  assert.match(filed, /来源 stats/);
  assert.match(await page.textContent('#safety-videoonline .kpi-value'), /^\d+\.\d%$/);
  assert.match(await page.textContent('#safety-alarms .kpi-source'), /来源 alarms/);
  assert.match(await page.textContent('#safety-safetysurvey .kpi-value'), /^\d+\.\d$/);
  // The committee's other figures (issue 16): counts summed, rates averaged, each with its source.
  for (const id of ['psychserved', 'hazardsfound', 'hazardsfixed', 'majorincidents']) {
    assert.match(await page.textContent(`#safety-${id} .kpi-value`), /^\d+$/, id);
    assert.match(await page.textContent(`#safety-${id} .kpi-source`), /来源 stats/, id);
  }
  for (const id of ['backlogresolution', 'lawsatisfaction']) {
    const text = await page.textContent(`#safety-${id}`);
    assert.match(text, /\d+\.\d%/, id);
    assert.match(text, /同比 [+-]\d+\.\dpt/, `${id}: a rate changes by points`);
  }
  assert.match(await page.textContent('#safety-majorincidents'), /环比 [+-]\d+(?![\d.%])/, 'a zero target changes by incidents, not by percent');
  assert.ok(Number(await page.textContent('#safety-hazardsfixed .kpi-value')) <= Number(await page.textContent('#safety-hazardsfound .kpi-value')), 'no more put right than found');
  const clipped = await page.evaluate(() => [...document.querySelectorAll('.safety-figure')].filter(el => el.scrollHeight > el.clientHeight + 1).map(el => el.id));
  assert.deepEqual(clipped, [], 'every figure tile shows all it holds');
  const bars = await page.waitForFunction(() => {
    const el = document.querySelector('#safety-areas .chart');
    const c = el && window.echarts && window.echarts.getInstanceByDom(el);
    return c?.getOption().xAxis?.[0]?.data?.length ?? null;
  }, null, { timeout: 30_000 });
  assert.equal(await bars.jsonValue(), 6, 'one bar per district');
  const fits = await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth && document.documentElement.scrollHeight <= innerHeight);
  assert.ok(fits, 'the scene fits the screen');
  await page.waitForTimeout(1500);
  await page.screenshot({ path: join(artifacts, 'wall-safety-1920x1080.png') });
  assert.deepEqual(errors, []);
  await context.close();
});

test('the feeds page: an administrator sees health and counts, pauses and resumes a feed', async () => {
  const { context, page, errors } = await signedIn('admin', '/feeds', { viewport: { width: 1366, height: 900 } });
  await page.waitForSelector('#feeds tr[data-feed="alarms"]');
  for (const name of ['hotline', 'alarms', 'video', 'stats', 'petitions']) {
    assert.equal(await page.locator(`#feeds tr[data-feed="${name}"]`).count(), 1, name);
  }
  await page.click('#feeds tr[data-feed="alarms"] button[data-op="pause"]');
  await page.waitForSelector('#feeds tr[data-feed="alarms"] button[data-op="resume"]');
  assert.match(await page.textContent('#feeds tr[data-feed="alarms"] .state'), /已暂停/);
  await page.click('#feeds tr[data-feed="alarms"] button[data-op="resume"]');
  await page.waitForSelector('#feeds tr[data-feed="alarms"] button[data-op="pause"]');
  assert.match(await page.textContent('#feeds tr[data-feed="alarms"] .state'), /运行中/);
  await page.screenshot({ path: join(artifacts, 'feeds-page.png') });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a court referral is mediated from the tablet and the result goes back to the court', async () => {
  const { context, page, errors } = await signedIn('zhuji', '/desk', { viewport: { width: 1024, height: 768 }, hasTouch: true });
  await page.waitForSelector('#desk[data-hydrated="true"]', { timeout: 30_000 });
  await openTab(page, 'tab-referrals', '#desk-referrals .case-card');
  const sources = await page.locator('#desk-referrals .case-card').evaluateAll((cs) => cs.map((c) => c.dataset.source));
  assert.ok(sources.length > 0 && sources.every((s) => s === 'court'), sources.join(','));
  const id = await page.locator('#desk-referrals .case-card').first().getAttribute('data-case');
  await page.locator(`#desk-referrals .case-card[data-case="${id}"]`).tap();
  await page.waitForSelector(`#case-detail[data-case="${id}"] #mediate-form`, { timeout: 10_000 });
  assert.match(await page.textContent('#case-detail'), /法院诉调/, 'the source is the court');
  // The tiers offered are those the last attempt allows: no judicial confirmation before an agreement.
  const tiers = await page.locator('#mediate-tier option').evaluateAll((os) => os.map((o) => o.value));
  assert.ok(tiers.includes('town') && !tiers.includes('judicial'), tiers.join(','));
  await page.selectOption('#mediate-tier', 'town');
  await page.selectOption('#mediate-outcome', 'settled');
  await page.locator('#act-mediate').tap();
  await page.waitForSelector('#detail-message.ok', { timeout: 15_000 });
  assert.match(await page.locator('#detail-timeline li[data-action="mediate"]').last().textContent(), /乡镇（街道）调解.*成功/);
  await page.screenshot({ path: join(artifacts, 'desk-mediation.png') });
  // The court gets the result through the outbox, closes its referral, and the cockpit reads it closed.
  const status = async () => page.evaluate(async (path) => (await (await fetch(path)).json()).status, `/api/cases/court/${encodeURIComponent(id)}`);
  for (let i = 0; i < 60 && (await status()) !== 'Closed'; i += 1) await page.waitForTimeout(1000);
  assert.equal(await status(), 'Closed', 'the court closed the referral it has the settlement of');
  assert.deepEqual(errors, []);
  await context.close();

  const admin = await signedIn('admin', '/feeds', { viewport: { width: 1366, height: 900 } });
  const delivered = await admin.page.getAttribute('#feeds tr[data-feed="court"] .outbox span[data-delivered]', 'data-delivered');
  assert.ok(Number(delivered) >= 1, `delivered ${delivered}`);
  assert.deepEqual(admin.errors, []);
  await admin.context.close();
});
