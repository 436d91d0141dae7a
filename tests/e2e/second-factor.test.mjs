// Two-factor sign-in (等保 2.0 level 3) in a real headless Chromium against the real server, with the
// product's default rule: administrators and auditors must use a second factor. The administrator's
// first sign-in leads to enrolment (a QR code and its key, a confirming code, ten recovery codes shown
// once); the next sign-in asks for a code after the password, refuses a code already used, and lets the
// next one in. Codes are computed here from the key on the page with node:crypto (RFC 6238), not with
// the server's library. Also: the tablet reports a tap for the idle time-out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { startServer, launchBrowser, signIn, artifacts, DEMO_PASSWORD, PINNED } from './harness.mjs';

let server, browser, startedAt;
before(async () => {
  // The server's clock starts at PINNED when the process starts: within a few milliseconds of this.
  startedAt = Date.now();
  server = await startServer({ backfillDays: 1, twoFactor: 'administrators' });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/// The 30-second step the server's clock stands in now (estimated; codes are good one step either side).
const serverStep = () => Math.floor((Date.parse(PINNED) + (Date.now() - startedAt)) / 30_000);

function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/=+$/, '')) {
    value = ((value << 5) | alphabet.indexOf(c)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/// RFC 6238 with HMAC-SHA1 and 6 digits.
function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', base32(secret)).update(counter).digest();
  const o = h[19] & 0x0f;
  const n = (((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3]) % 1_000_000;
  return String(n).padStart(6, '0');
}

test('the RFC 6238 vectors hold for the codes this test computes', () => {
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // "12345678901234567890"
  assert.equal(totp(secret, Math.floor(59 / 30)), '287082');
  assert.equal(totp(secret, Math.floor(1111111109 / 30)), '081804');
  assert.equal(totp(secret, Math.floor(2000000000 / 30)), '279037');
});

test('an administrator enrols by QR code, then signs in with a code once', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
  const page = await ctx.newPage();
  let secret, enrolStep;
  try {
    await page.goto(`${server.url}/login?next=${encodeURIComponent('/admin')}`);
    await page.fill('input[name="username"]', 'admin');
    await page.fill('input[name="password"]', DEMO_PASSWORD);
    await Promise.all([page.waitForURL('**/account/second-factor'), page.click('button[type="submit"]')]);
    assert.ok(await page.locator('#second-factor-due').isVisible(), 'the page says why');
    assert.ok(await page.locator('#second-factor-qr svg').isVisible(), 'a QR code drawn by the server');
    secret = await page.locator('#second-factor-key').getAttribute('data-secret');
    assert.match(secret, /^[A-Z2-7]{32}$/);
    await page.screenshot({ path: join(artifacts, 'second-factor-enrol.png') });

    // Elsewhere on the site: still enrolment first.
    await page.goto(`${server.url}/admin`);
    assert.match(page.url(), /\/account\/second-factor$/);

    // A wrong code is refused beside the field.
    enrolStep = serverStep();
    const wrong = totp(secret, enrolStep) === '000000' ? '111111' : '000000';
    await page.fill('#code', wrong);
    await Promise.all([page.waitForNavigation(), page.click('#enrol-form button[type="submit"]')]);
    assert.ok(await page.locator('#code-error').isVisible());

    await page.fill('#code', totp(secret, enrolStep));
    await Promise.all([page.waitForNavigation(), page.click('#enrol-form button[type="submit"]')]);
    const codes = await page.locator('#recovery-codes code').allTextContents();
    assert.equal(codes.length, 10, 'ten recovery codes, shown once');
    assert.ok(codes.every((c) => /^[2-9A-Z]{5}-[2-9A-Z]{5}$/.test(c)), codes.join(' '));
    await page.screenshot({ path: join(artifacts, 'second-factor-codes.png') });
    await page.goto(`${server.url}/admin`);
    assert.ok(await page.locator('tr[data-username="tashan"]').count(), 'enrolled: the admin page opens');
  } finally {
    await ctx.close();
  }

  const again = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'zh-CN', hasTouch: true });
  const tablet = await again.newPage();
  try {
    await tablet.goto(`${server.url}/login?next=${encodeURIComponent('/admin')}`);
    await tablet.fill('input[name="username"]', 'admin');
    await tablet.fill('input[name="password"]', DEMO_PASSWORD);
    await Promise.all([tablet.waitForURL('**/login/code?**'), tablet.click('button[type="submit"]')]);
    const r = await tablet.request.get(`${server.url}/api/me`);
    assert.equal(r.status(), 401, 'the password alone opens nothing');
    await tablet.screenshot({ path: join(artifacts, 'second-factor-code-step.png') });

    // The enrolment's code again: a replay, refused with its reason.
    await tablet.fill('#code', totp(secret, enrolStep));
    await Promise.all([tablet.waitForNavigation(), tablet.click('#code-form button[type="submit"]')]);
    assert.match(await tablet.locator('#code-error').textContent(), /已使用过/);

    await tablet.fill('#code', totp(secret, enrolStep + 1));
    await Promise.all([tablet.waitForURL('**/admin'), tablet.click('#code-form button[type="submit"]')]);
    assert.ok(await tablet.locator('tr[data-username="tashan"]').count());
    const me = await (await tablet.request.get(`${server.url}/api/me`)).json();
    assert.equal(me.principal, 'admin');
  } finally {
    await again.close();
  }
});

test('a street official is not asked for a code, and the tablet reports taps for the idle time-out', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'zh-CN', hasTouch: true });
  const page = await ctx.newPage();
  try {
    await signIn(page, server.url, 'tashan', '/desk');
    // The page has its CSRF token once hydrated and /api/me answered; from then on a tap is reported
    // (at most once a minute). Tap until it is.
    let r = null;
    for (let i = 0; i < 40 && !r; i++) {
      const seen = page.waitForResponse((x) => x.url().endsWith('/api/activity') && x.request().method() === 'POST', { timeout: 1000 }).catch(() => null);
      await page.mouse.click(500, 40);
      r = await seen;
    }
    assert.ok(r, 'a tap was reported');
    assert.equal(r.status(), 204);
  } finally {
    await ctx.close();
  }
});
