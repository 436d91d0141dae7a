// An administrator's day at /admin, in a real headless Chromium against the real server: an account is
// created, its scope narrowed, disabled (the person's open page loses its session at once), enabled and
// reset (the person signs in with the temporary password and must choose a new one first); a wall
// display is activated by the code it shows, seen, and revoked. On a desktop and on a tablet.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, signIn, artifacts } from './harness.mjs';
import { join } from 'node:path';

let server, browser;
before(async () => {
  server = await startServer({ backfillDays: 1 });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const USER = 'e2e-staff';
const FIRST = 'Long enough pw 1';
const CHOSEN = 'Chosen by me 2026';

async function signInAs(page, user, password, next) {
  await page.goto(`${server.url}/login?next=${encodeURIComponent(next)}`);
  await page.fill('input[name="username"]', user);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
}

const me = async (page) => {
  const r = await page.request.get(`${server.url}/api/me`);
  return { status: r.status(), body: r.ok() ? await r.json() : null };
};

test('accounts: create, change scope, disable ends the session, enable, reset', async () => {
  const adminCtx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
  const staffCtx = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'zh-CN', hasTouch: true });
  const admin = await adminCtx.newPage();
  const staff = await staffCtx.newPage();
  try {
    await signIn(admin, server.url, 'admin', '/admin');
    assert.ok(await admin.locator('tr[data-username="tashan"]').count(), 'the demo accounts are listed');

    // A weak password is refused beside its field; nothing else typed is lost.
    const form = admin.locator('#create-account');
    await form.locator('input[name="username"]').fill(USER);
    await form.locator('input[name="display_name"]').fill('测试网格员');
    await form.locator('select[name="role"]').selectOption('street_official');
    await form.locator('input[name="scope"]').fill('330602001');
    await form.locator('input[name="password"]').fill('short');
    await Promise.all([admin.waitForNavigation(), form.locator('button[type="submit"]').click()]);
    assert.ok(await admin.locator('#password-error').isVisible(), 'the error stands beside the password');
    assert.equal(await admin.locator('#create-account input[name="display_name"]').inputValue(), '测试网格员');

    await admin.locator('#create-account input[name="password"]').fill(FIRST);
    await Promise.all([admin.waitForURL('**/admin?done=created'), admin.locator('#create-account button[type="submit"]').click()]);
    assert.ok(await admin.locator('#admin-notice').isVisible());
    assert.equal(await admin.locator(`#accounts-table tr[data-username="${USER}"]`).count(), 1);

    // The new person signs in on a tablet and sees the street.
    await signInAs(staff, USER, FIRST, '/desk');
    assert.match(staff.url(), /\/desk/);
    assert.equal((await me(staff)).body.scope, '330602001');

    // Narrowed to one community: their next request already sees only that.
    await Promise.all([admin.waitForNavigation(), admin.click(`#edit-${USER}`)]);
    await admin.locator('#edit-account input[name="scope"]').fill('330602001004');
    await Promise.all([admin.waitForURL('**/admin?done=changed'), admin.locator('#edit-account button[type="submit"]').click()]);
    assert.equal((await me(staff)).body.scope, '330602001004');

    // Disabled: the open tablet page loses its session at once.
    await Promise.all([admin.waitForNavigation(), admin.click(`#disable-${USER}`)]);
    assert.equal((await me(staff)).status, 401);
    await staff.reload();
    assert.match(staff.url(), /\/login/, 'the tablet is sent to sign in');

    // Enabled and reset: the temporary password is shown once and must be replaced at sign-in.
    await Promise.all([admin.waitForNavigation(), admin.click(`#enable-${USER}`)]);
    await Promise.all([admin.waitForNavigation(), admin.click(`#reset-${USER}`)]);
    const temporary = (await admin.locator('#temporary-password').textContent()).trim();
    assert.ok(temporary.length >= 12, temporary);
    await signInAs(staff, USER, FIRST, '/desk');
    assert.match(staff.url(), /\/login/, 'the old password no longer opens the account');
    await signInAs(staff, USER, temporary, '/desk');
    assert.match(staff.url(), /\/password/);
    assert.ok(await staff.locator('#password-due').isVisible());
    await staff.goto(`${server.url}/desk`);
    assert.match(staff.url(), /\/password/, 'nothing else opens before the new password');
    await staff.fill('input[name="current"]', temporary);
    await staff.fill('input[name="new"]', CHOSEN);
    await staff.fill('input[name="repeat"]', CHOSEN);
    await Promise.all([staff.waitForNavigation(), staff.click('#password-form button[type="submit"]')]);
    assert.doesNotMatch(staff.url(), /\/password|\/login/);
    assert.equal((await me(staff)).status, 200);

    // The administrator sees when and from where the person last signed in, and their session.
    await admin.goto(`${server.url}/admin`);
    const row = admin.locator(`#accounts-table tr[data-username="${USER}"]`);
    assert.match(await row.textContent(), /2026-12-02/, 'last sign-in on the pinned day');
    assert.ok(await admin.locator(`#sessions-table tr[data-username="${USER}"]`).count() >= 1);

    // On a tablet the page fits its width; tables scroll inside their own box.
    await admin.setViewportSize({ width: 1024, height: 768 });
    const overflow = await admin.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling of the page (${overflow}px)`);
    await admin.screenshot({ path: join(artifacts, 'admin-tablet.png'), fullPage: false });
  } finally {
    await adminCtx.close();
    await staffCtx.close();
  }
});

test('a wall display is activated by the code it shows, then revoked', async () => {
  const adminCtx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
  const wallCtx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN' });
  const admin = await adminCtx.newPage();
  const wall = await wallCtx.newPage();
  try {
    // The wall, with nobody signed in, shows a short code and waits.
    await wall.goto(`${server.url}/device`);
    const code = (await wall.locator('#device-code').textContent()).trim();
    assert.match(code, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/, code);
    await wall.screenshot({ path: join(artifacts, 'device-code.png') });

    // A mistyped code is refused beside the field and pairs nothing.
    await signIn(admin, server.url, 'admin', '/admin');
    const form = admin.locator('#issue-device');
    await form.locator('input[name="name"]').fill('越城区指挥大厅');
    await form.locator('input[name="place"]').fill('区综治中心三楼');
    await form.locator('input[name="scope"]').fill('330602');
    await form.locator('input[name="code"]').fill('ZZZZ-ZZZZ');
    await Promise.all([admin.waitForNavigation(), form.locator('button[type="submit"]').click()]);
    assert.ok(await admin.locator('#code-error').isVisible());
    assert.match(wall.url(), /\/device/);

    await admin.locator('#issue-device input[name="code"]').fill(code);
    await Promise.all([admin.waitForURL('**/admin?done=device'), admin.locator('#issue-device button[type="submit"]').click()]);
    // The wall asks every three seconds; it opens the wall of its scope by itself.
    await wall.waitForURL('**/wall', { timeout: 15_000 });
    const scope = await (await wall.request.get(`${server.url}/api/me`)).json();
    assert.equal(scope.scope, '330602');

    await admin.reload();
    const row = admin.locator('#devices-table tr', { hasText: '越城区指挥大厅' });
    assert.equal(await row.count(), 1);
    assert.match(await row.textContent(), /区综治中心三楼/);
    assert.doesNotMatch(await row.locator('.seen').textContent(), /从未|never/i, 'the wall has been seen');
    await admin.screenshot({ path: join(artifacts, 'admin.png'), fullPage: true });

    // Revoked: the wall's next request is refused and it no longer shows the city.
    const id = await row.getAttribute('data-device');
    await Promise.all([admin.waitForNavigation(), admin.click(`#revoke-${id}`)]);
    assert.equal((await wall.request.get(`${server.url}/api/me`)).status(), 401);
    // Having no keyboard, it shows a fresh activation code instead of a sign-in form.
    await wall.reload();
    assert.equal(new URL(wall.url()).pathname, '/device');
    assert.notEqual((await wall.locator('#device-code').textContent()).trim(), code);
  } finally {
    await adminCtx.close();
    await wallCtx.close();
  }
});

// A resident reports litter by address on a phone; returns the deadline the progress page promises.
async function reportLitter(text) {
  const phone = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 }, isMobile: true });
  try {
    const page = await phone.newPage();
    await page.goto(server.url + '/report');
    await page.selectOption('select[name=service_code]', 'environment');
    await page.fill('textarea[name=description]', text);
    await page.fill('input[name=address_string]', '塔山街道花园社区8幢旁');
    await page.click('button[name=submit]');
    assert.match(page.url(), /\/report\/R/);
    return (await page.textContent('#report-due')).trim();
  } finally {
    await phone.close();
  }
}

test('two holidays saved on the settings page push the next deadline by two working days', async () => {
  // Wednesday 10:00 + 24 working hours (7.5 a day): Monday 11:30.
  assert.match(await reportLitter('垃圾桶满溢，无人清运'), /^2026-12-07 11:3/);

  const ctx = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'zh-CN', hasTouch: true });
  const admin = await ctx.newPage();
  try {
    await signIn(admin, server.url, 'admin', '/admin');
    await Promise.all([admin.waitForURL('**/admin/settings'), admin.click('#settings-link')]);
    const due = () => admin.locator('#deadline-preview tr[data-category="environment"] .due').textContent();
    assert.match(await due(), /^2026-12-07/);

    // A mistyped date is refused beside the field; what was typed stays.
    await admin.fill('#calendar-form textarea[name=holidays]', '2026-12-03\n2026-12-4x');
    await Promise.all([admin.waitForNavigation(), admin.click('#calendar-form button[type=submit]')]);
    assert.ok(await admin.locator('#holidays-error').isVisible());
    assert.equal(await admin.inputValue('#calendar-form textarea[name=holidays]'), '2026-12-03\n2026-12-4x');

    await admin.fill('#calendar-form textarea[name=holidays]', '2026-12-03\n2026-12-04');
    await Promise.all([admin.waitForURL('**/admin/settings?done=saved'), admin.click('#calendar-form button[type=submit]')]);
    assert.ok(await admin.locator('#admin-notice').isVisible());
    assert.match(await due(), /^2026-12-09/);
    assert.match(await admin.textContent('#calendar .setting-source'), /admin/);
    await admin.screenshot({ path: join(artifacts, 'admin-settings.png'), fullPage: true });
  } finally {
    await ctx.close();
  }
  // No restart: the next report is due two working days later.
  assert.match(await reportLitter('又有一处垃圾堆放'), /^2026-12-09 11:3/);
});
