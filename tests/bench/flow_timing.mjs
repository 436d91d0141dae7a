// Bench: server time of case-flow reports (read from storage, computed in Rust, not cached: each
// request asks for a different period) against a baseline measured in the same run (the wall snapshot,
// read from the in-memory aggregates). Usage: node tests/bench/flow_timing.mjs URL
const [url] = process.argv.slice(2);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Sign in as the city leader through the real form (double-submit CSRF cookie).
const login = await fetch(url + '/login');
const loginCookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
const csrf = (await login.text()).match(/name="csrf" value="([^"]+)"/)[1];
const r = await fetch(url + '/auth/login', {
  method: 'POST', redirect: 'manual',
  headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: loginCookie },
  body: new URLSearchParams({ username: 'leader', password: 'cockpit-demo-2026', csrf, next: '/wall' }),
});
const cookie = r.headers.getSetCookie().map((c) => c.split(';')[0]).filter((c) => c.startsWith('cockpit_session')).join('; ');

async function time(path) {
  const t0 = performance.now();
  const res = await fetch(url + path, { headers: { cookie } });
  const body = await res.text();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${body}`);
  return performance.now() - t0;
}

const baseline = [];
for (let i = 0; i < 5; i++) baseline.push(await time('/api/wall'));
// Distinct periods, so none is served from the 30 s cache: 7 days ending today, yesterday, ...
const day = (ms) => new Date(ms + 8 * 3600e3).toISOString().slice(0, 10);
const now = Date.now();
const week = [], month = [];
for (let i = 0; i < 5; i++) {
  week.push(await time(`/api/flow?from=${day(now - (7 + i) * 86400e3)}&to=${day(now - i * 86400e3)}`));
}
for (let i = 0; i < 3; i++) {
  month.push(await time(`/api/flow?from=${day(now - (30 + i) * 86400e3)}&to=${day(now - i * 86400e3)}`));
}
const b = median(baseline);
console.log(`baseline: wall snapshot (in memory), city      median ${b.toFixed(1)} ms`);
console.log(`flow report, city, 8 days (storage + compute)  median ${median(week).toFixed(0)} ms  ratio ${(median(week) / b).toFixed(0)}`);
console.log(`flow report, city, 31 days (storage + compute) median ${median(month).toFixed(0)} ms  ratio ${(median(month) / b).toFixed(0)}`);
