// A real OpenID provider for the browser tests: panva's `oidc-provider` (OpenID Certified), started on a
// free port, standing for a city's unified identity platform (统一身份认证). Its sign-in page is the
// library's own (any password); consent is granted to the cockpit as a first-party app.
//
// Tokens are issued on the cockpit's pinned test clock: while the token endpoint answers, the provider's
// `Date` runs OIDC_NOW_OFFSET_MS from the machine's (its cookies and pages keep the browser's time, or
// the browser would take them as long expired). For the refusal tests a
// test-only switch (`POST /test/mode?mode=…`) makes its token endpoint answer as a broken or hostile
// platform would: an ID token signed by an unknown key, one for another audience or already expired
// (both signed with the platform's real key), or the ID token of an earlier sign-in (a replay).
//
// Env: OIDC_PORT, OIDC_CLIENT_SECRET, OIDC_REDIRECT, OIDC_NOW_OFFSET_MS. Prints `issuer <url>` when ready.
const offset = Number(process.env.OIDC_NOW_OFFSET_MS ?? 0);
const RealDate = Date;
let shifted = false;
class ShiftedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + (shifted ? offset : 0));
    else super(...args);
  }
  static now() {
    return RealDate.now() + (shifted ? offset : 0);
  }
}
globalThis.Date = ShiftedDate;

const { default: Provider } = await import('oidc-provider');
const { generateKeyPair, exportJWK, SignJWT, decodeJwt } = await import('jose');

const port = Number(process.env.OIDC_PORT ?? 0);
const issuer = `http://127.0.0.1:${port}`;
const kid = 'platform-2026';
const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
const { privateKey: strangerKey } = await generateKeyPair('RS256');

// People the platform knows: login name → claims (role and region for a first sign-in that creates).
const people = {
  tashan: { name: '塔山街道干部', cockpit_role: 'street_official', cockpit_region: '330602001' },
  wangfang: { name: '王芳', cockpit_role: 'community_staff', cockpit_region: '330602001004' },
  bigboss: { name: '自称管理员', cockpit_role: 'admin', cockpit_region: '330600' },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'cockpit',
    client_secret: process.env.OIDC_CLIENT_SECRET,
    redirect_uris: [process.env.OIDC_REDIRECT],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  jwks: { keys: [jwk] },
  scopes: ['openid', 'profile', 'cockpit'],
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'], cockpit: ['cockpit_role', 'cockpit_region'] },
  conformIdTokenClaims: false,
  cookies: { keys: ['cockpit-e2e-cookie-key'] },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: `platform-${id}`, preferred_username: id, ...(people[id] ?? { name: id }) }),
  }),
  loadExistingGrant: async (ctx) => {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile cockpit');
    await grant.save();
    return grant;
  },
  features: { devInteractions: { enabled: true } },
});

let mode = 'pass';
let lastIdToken = null;
const resign = (claims, key = privateKey) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(key);

provider.use(async (ctx, next) => {
  if (ctx.path === '/test/mode' && ctx.method === 'POST') {
    mode = ctx.query.mode;
    ctx.body = { mode };
    return;
  }
  shifted = ctx.path === '/token';
  try {
    await next();
  } finally {
    shifted = false;
  }
  if (ctx.path !== '/token' || ctx.status !== 200 || !ctx.body?.id_token) return;
  const genuine = ctx.body.id_token;
  const claims = decodeJwt(genuine);
  const now = Math.floor((Date.now() + offset) / 1000);
  if (mode === 'bad-signature') ctx.body.id_token = await resign(claims, strangerKey);
  else if (mode === 'wrong-audience') ctx.body.id_token = await resign({ ...claims, aud: 'another-app' });
  else if (mode === 'expired') ctx.body.id_token = await resign({ ...claims, iat: now - 7200, exp: now - 3600 });
  else if (mode === 'replay' && lastIdToken) ctx.body.id_token = lastIdToken;
  if (mode === 'pass') lastIdToken = genuine;
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`issuer ${issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
