// Early warning (预警) in a real headless Chromium against the real server: a city's rule (here: every
// town with open cases, so the demo city raises some at once) warns on the walls of the scopes that
// contain it and on the tablet of the centre that must act; the street official acknowledges, records
// the handling and closes it by touch, and the street's wall, open all along, drops it without a reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, launchBrowser, artifacts, signedIn as openAs, openTab } from './harness.mjs';

const TASHAN = '330602001';
const config = `
[warnings]
evaluate_seconds = 1
ack_minutes = 30

[[warnings.rules]]
name = "town-open"
title = "乡镇街道有在办事件"
kind = "threshold"
level = "orange"
route = "town"
measure = "open"
at = "town"
above = 0
`;
let server, browser;

before(async () => {
  server = await startServer({ rate: 60, backfillDays: 2, backfillRate: 4, config });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const signedIn = (user, next, options) => openAs(browser, server.url, user, next, options);

test('a warning reaches the walls that contain it and is acknowledged, handled and closed from the tablet', async () => {
  const city = await signedIn('leader', '/wall', { viewport: { width: 1920, height: 1080 } });
  await city.page.waitForSelector('#wall[data-hydrated="true"]', { timeout: 30_000 });
  const badge = city.page.locator('#wall-warnings');
  await badge.waitFor({ timeout: 30_000 });
  // A wall lists a screenful; the badge counts them all (a hundred towns, most with open cases).
  assert.ok(Number(await badge.getAttribute('data-count')) > 12, 'the city wall counts every town\'s warning');
  assert.equal(await badge.getAttribute('data-level'), 'orange');
  assert.match(await badge.textContent(), /预警 \d+ · 橙色预警 乡镇街道有在办事件/);
  const px = await badge.evaluate((e) => parseFloat(getComputedStyle(e).fontSize) / parseFloat(getComputedStyle(document.documentElement).fontSize));
  assert.ok(px >= 1.5, `readable on the wall (${px} rem)`);
  await city.page.screenshot({ path: join(artifacts, 'wall-warnings.png') });

  // The street's own wall shows its one warning, and keeps running untouched.
  const street = await signedIn('leader', `/wall?region=${TASHAN}`, { viewport: { width: 1920, height: 1080 } });
  await street.page.waitForSelector('#wall[data-hydrated="true"]', { timeout: 30_000 });
  await street.page.waitForSelector('#wall-warnings[data-count="1"]', { timeout: 30_000 });
  let navigations = 0;
  street.page.on('framenavigated', (f) => { if (f === street.page.mainFrame()) navigations += 1; });

  const desk = await signedIn('tashan', '/desk', { viewport: { width: 1024, height: 768 }, hasTouch: true });
  const page = desk.page;
  await page.waitForSelector('#desk[data-hydrated="true"]', { timeout: 30_000 });
  await openTab(page, 'tab-warnings', '.warning-card[data-rule="town-open"]');
  const card = page.locator('.warning-card[data-rule="town-open"]');
  assert.equal(await page.locator('.warning-card').count(), 1, 'only the warnings of the official\'s own street');
  assert.equal(await card.getAttribute('data-state'), 'raised');
  assert.match(await card.textContent(), /塔山街道综治中心/);
  assert.match(await card.textContent(), /前未签收将上报/);

  await card.locator('button[data-op="acknowledge"]').tap();
  await page.waitForSelector('.warning-card[data-state="acknowledged"]', { timeout: 15_000 });
  // Handling says what was done.
  await page.locator('.warning-card button[data-op="handle"]').tap();
  await page.waitForSelector('#warning-message.bad', { timeout: 10_000 });
  assert.match(await page.textContent('#warning-message'), /请填写处置情况/);
  await page.fill('#warning-note', '已逐件督促承办部门');
  await page.locator('.warning-card button[data-op="handle"]').tap();
  await page.waitForSelector('.warning-card[data-state="handled"]', { timeout: 15_000 });
  await page.fill('#warning-note', '在办事件均已分派');
  await page.locator('.warning-card button[data-op="close"]').tap();
  await page.waitForSelector('.warning-card[data-state="closed"]', { timeout: 15_000 });
  const steps = await page.locator('.warning-card[data-state="closed"] .timeline li').evaluateAll((li) => li.map((x) => x.getAttribute('data-op')));
  assert.deepEqual(steps, ['raise', 'acknowledge', 'handle', 'close']);
  assert.match(await page.locator('.warning-card[data-state="closed"] .timeline').textContent(), /预警规则[\s\S]*tashan[\s\S]*已逐件督促承办部门/);
  const small = await page.evaluate(() => [...document.querySelectorAll('.warning-card button')].map((b) => b.getBoundingClientRect().height).filter((h) => h > 0 && h < 44));
  assert.deepEqual(small, [], 'touch targets');
  await page.screenshot({ path: join(artifacts, 'desk-warnings.png') });

  // The street's wall drops the closed warning live; the city's still shows the other towns'.
  await street.page.waitForSelector('#wall-warnings', { state: 'detached', timeout: 15_000 });
  assert.equal(navigations, 0, 'no reload');
  await city.page.waitForSelector('#wall-warnings', { timeout: 5_000 });
  assert.deepEqual([...city.errors, ...street.errors, ...desk.errors], []);
  for (const s of [city, street, desk]) await s.context.close();
});
