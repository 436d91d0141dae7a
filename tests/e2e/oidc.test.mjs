// Sign-in through the city's identity platform (OpenID Connect, code flow with PKCE) in a real headless
// Chromium, against a real OpenID provider (`oidc-provider`, tests/e2e/oidc-provider.mjs) and the real
// server: a known person lands on their page; a first sign-in creates an account from the role and
// region claims, but never an administrator; an ID token with a wrong signature, for another audience,
// expired, or replayed from an earlier sign-in is refused with a clear message and audited.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launchBrowser, signIn, artifacts, freePort, PINNED } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const SECRET = 'platform-client-secret-e2e';
let server, browser, platform, issuer;

before(async () => {
  const [cockpitPort, platformPort] = [await freePort(), await freePort()];
  const callback = `http://127.0.0.1:${cockpitPort}/auth/oidc/callback`;
  // The platform's clock: the cockpit's pinned one (both start now at PINNED).
  platform = spawn(process.execPath, [join(here, 'oidc-provider.mjs')], {
    env: { ...process.env, OIDC_PORT: String(platformPort), OIDC_CLIENT_SECRET: SECRET, OIDC_REDIRECT: callback, OIDC_NOW_OFFSET_MS: String(Date.parse(PINNED) - Date.now()) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  issuer = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the provider did not start: ${out}`)), 30_000);
    platform.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/issuer (\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    platform.once('exit', (code) => reject(new Error(`the provider exited with ${code}: ${out}`)));
  });
  const config = `[oidc]
issuer = "${issuer}"
client_id = "cockpit"
redirect_url = "${callback}"
scopes = ["profile", "cockpit"]
first_sign_in = "create"
label = "浙里办 · 统一身份认证"
`;
  server = await startServer({ backfillDays: 1, config, listen: `127.0.0.1:${cockpitPort}`, env: { COCKPIT_OIDC_CLIENT_SECRET: SECRET } });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  platform?.kill('SIGTERM');
});

const setMode = async (mode) => {
  const r = await fetch(`${issuer}/test/mode?mode=${mode}`, { method: 'POST' });
  assert.equal(r.status, 200);
};

/// From the cockpit's sign-in page through the platform's, as `login`; returns the page where it ends.
async function throughPlatform(login, next = '/desk', shot) {
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'zh-CN' });
  const page = await ctx.newPage();
  await page.goto(`${server.url}/login?next=${encodeURIComponent(next)}`);
  assert.match(await page.locator('#oidc-sign-in').textContent(), /统一身份认证/);
  await Promise.all([page.waitForURL((u) => u.href.startsWith(issuer)), page.click('#oidc-sign-in')]);
  await page.waitForSelector('input[name="login"]', { timeout: 5_000 }).catch(async () => {
    throw new Error(`no sign-in form at ${page.url()}: ${(await page.content()).slice(1000, 3000)}`);
  });
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'whatever-the-platform-checks');
  if (shot) await page.screenshot({ path: join(artifacts, shot) });
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(server.url) && !u.pathname.startsWith('/auth/oidc/'), { timeout: 30_000 }),
    page.click('button[type="submit"]'),
  ]);
  return { ctx, page };
}

const me = async (page) => {
  const r = await page.request.get(`${server.url}/api/me`);
  return r.ok() ? r.json() : { status: r.status() };
};

test('a person the platform knows signs in through it and lands on their page', async () => {
  await setMode('pass');
  const { ctx, page } = await throughPlatform('tashan', '/desk', 'oidc-platform.png');
  try {
    assert.equal(new URL(page.url()).pathname, '/desk');
    const m = await me(page);
    assert.equal(m.principal, 'tashan');
    assert.equal(m.scope, '330602001');
  } finally {
    await ctx.close();
  }
});

test('a first sign-in creates the account from the claims, but never an administrator', async () => {
  await setMode('pass');
  let { ctx, page } = await throughPlatform('wangfang');
  try {
    const m = await me(page);
    assert.deepEqual([m.principal, m.role, m.scope, m.clearance], ['wangfang', 'CommunityStaff', '330602001004', 'Internal']);
  } finally {
    await ctx.close();
  }
  ({ ctx, page } = await throughPlatform('bigboss'));
  try {
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.match(await page.locator('.login-error').textContent(), /没有可用的对应账号/);
    assert.equal((await me(page)).status, 401);
  } finally {
    await ctx.close();
  }
});

test('tokens that fail a check are refused with a clear message, and audited', async () => {
  const cases = [
    ['bad-signature', 'oidc_signature', /签名无效/],
    ['wrong-audience', 'oidc_audience', /不是签发给本系统/],
    ['expired', 'oidc_expired', /已过期/],
    ['replay', 'oidc_nonce', /重放/],
  ];
  for (const [mode, error, message] of cases) {
    await setMode(mode);
    const { ctx, page } = await throughPlatform('tashan');
    try {
      const u = new URL(page.url());
      assert.equal(`${u.pathname}?${u.searchParams}`, `/login?error=${error}`, mode);
      assert.match(await page.locator('.login-error').textContent(), message, mode);
      assert.equal((await me(page)).status, 401, `${mode}: not signed in`);
      if (mode === 'expired') await page.screenshot({ path: join(artifacts, 'oidc-refused.png') });
    } finally {
      await ctx.close();
    }
  }
  await setMode('pass');

  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  try {
    await signIn(page, server.url, 'auditor', '/audit');
    const log = await (await page.request.get(`${server.url}/api/audit?actor=oidc`)).json();
    const refused = log.filter((e) => e.action === 'oidc_refused').map((e) => e.detail);
    for (const words of [/Signature|signature/, /audience/i, /expired/i, /nonce/i, /bigboss/]) {
      assert.ok(refused.some((d) => words.test(d)), `audited: ${words} in ${JSON.stringify(refused)}`);
    }
    const logins = await (await page.request.get(`${server.url}/api/audit?actor=tashan`)).json();
    assert.ok(logins.some((e) => e.action === 'login' && /identity platform/.test(e.detail)), JSON.stringify(logins.slice(0, 5)));
  } finally {
    await ctx.close();
  }
});
