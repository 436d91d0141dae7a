// Bench: live-stream fan-out on the release server. N SSE clients spread evenly over 20 regions of the
// demo city (6 districts, 14 towns), the demo feed at 600 cases a minute, and an oversight action (督办)
// every 2 s on an open case of one of the regions, in turn; for each action, the delay from sending it
// until each client of that region has the snapshot that shows it (its case id in the ticker). Baseline
// in the same run: the same with one client per region. Prints p50/p99/max delivery, the server's CPU
// over the measured window (from /proc/PID/stat), its RSS, and bytes and messages per client per minute.
// Usage: node tests/bench/fanout.mjs [clients=5000] [seconds=60]
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startServer } from '../e2e/harness.mjs';

const CLIENTS = Number(process.argv[2] ?? 5000);
const SECONDS = Number(process.argv[3] ?? 60);
const TICK = 100; // USER_HZ on Linux: /proc/PID/stat counts CPU time in its ticks
const quantile = (xs, q) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN; };

const server = await startServer({ rate: 600, backfillDays: 1, backfillRate: 4, config: '[live]\nmax_streams = 12000\nmax_streams_per_viewer = 12000\n' });
const base = new URL(server.url);

function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}
function rssMiB(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]) / 1024;
}

async function signIn(user) {
  const page = await fetch(`${server.url}/login`);
  const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const csrf = (await page.text()).match(/name="csrf" value="([^"]+)"/)[1];
  const body = new URLSearchParams({ username: user, password: 'cockpit-demo-2026', csrf, next: '/wall', lang: 'zh-CN' });
  const r = await fetch(`${server.url}/auth/login`, { method: 'POST', body, headers: { cookie }, redirect: 'manual' });
  const session = r.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('cockpit_session='));
  const me = await (await fetch(`${server.url}/api/me`, { headers: { cookie: session } })).json();
  return { cookie: session, csrf: me.csrf };
}

const leader = await signIn('leader');
const get = async (path) => (await fetch(server.url + path, { headers: { cookie: leader.cookie } })).json();
const city = await get('/api/wall?region=330600');
const districts = city.areas.map((a) => a.code);
const towns = [];
for (const d of districts) towns.push(...(await get(`/api/wall?region=${d}`)).areas.map((a) => a.code).slice(0, 3));
const regions = [...districts, ...towns].slice(0, 20);

/// One SSE client: counts bytes and messages, and calls `onSnapshot(text, at)` per snapshot or patch.
function client(region, onSnapshot) {
  const c = { region, bytes: 0, messages: 0, ready: false, sock: null };
  c.opened = new Promise((resolve, reject) => {
    const sock = net.connect({ host: base.hostname, port: Number(base.port) }, () => {
      sock.write(`GET /api/live?region=${region} HTTP/1.1\r\nHost: ${base.host}\r\nCookie: ${leader.cookie}\r\n\r\n`);
    });
    c.sock = sock;
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      const at = performance.now();
      c.bytes += Buffer.byteLength(d);
      buf += d;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const msg = buf.slice(0, i);
        buf = buf.slice(i + 2);
        // The first message is the whole snapshot; later ones are patches of what changed (or a whole
        // snapshot again after falling behind): either carries the acted-on case's id.
        if (msg.includes('event: snapshot') || msg.includes('event: patch')) {
          c.messages += 1;
          if (!c.ready) { c.ready = true; resolve(); }
          onSnapshot(msg, at);
        } else if (msg.includes('event: beat')) c.messages += 1;
      }
    });
    sock.on('error', reject);
    sock.on('close', () => { if (!c.ready) reject(new Error(`stream of ${region} closed`)); });
  });
  return c;
}

async function phase(perRegion) {
  const pending = new Map(); // case id -> { sentAt, waiting: Set of clients }
  const delays = [];
  const clients = [];
  for (let i = 0; i < perRegion * regions.length; i++) {
    const region = regions[i % regions.length];
    const c = client(region, (msg, at) => {
      for (const [id, p] of pending) {
        if (p.region === region && p.waiting.has(c) && msg.includes(id)) {
          p.waiting.delete(c);
          delays.push(at - p.sentAt);
        }
      }
    });
    clients.push(c);
    if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20)); // not all in one accept burst
  }
  await Promise.all(clients.map((c) => c.opened));
  const t0 = performance.now();
  const cpu0 = cpuSeconds(server.pid);
  const bytes0 = clients.reduce((n, c) => n + c.bytes, 0);
  const msgs0 = clients.reduce((n, c) => n + c.messages, 0);
  let actions = 0, missed = 0, turn = 0;
  while (performance.now() - t0 < SECONDS * 1000) {
    const region = regions[turn++ % regions.length];
    const open = await get(`/api/cases?region=${region}&open=true`);
    const target = open.find((x) => !pending.has(x.case_id) && JSON.stringify(x.actions ?? []).toLowerCase().includes('supervise'));
    if (target) {
      const waiting = new Set(clients.filter((c) => c.region === region));
      const sentAt = performance.now();
      pending.set(target.case_id, { region, sentAt, waiting });
      const r = await fetch(`${server.url}/api/cases/${target.feed}/${target.case_id}/actions`, {
        method: 'POST', headers: { cookie: leader.cookie, 'x-csrf-token': leader.csrf, 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'supervise', note: '请加快办理' }),
      });
      if (!r.ok) throw new Error(`supervise: ${r.status} ${await r.text()}`);
      actions += 1;
    }
    await new Promise((r) => setTimeout(r, 2000 - ((performance.now() - t0) % 2000)));
  }
  await new Promise((r) => setTimeout(r, 2000));
  const secs = (performance.now() - t0) / 1000;
  const cores = (cpuSeconds(server.pid) - cpu0) / secs;
  for (const p of pending.values()) missed += p.waiting.size;
  const bytes = clients.reduce((n, c) => n + c.bytes, 0) - bytes0;
  const msgs = clients.reduce((n, c) => n + c.messages, 0) - msgs0;
  const rss = rssMiB(server.pid);
  for (const c of clients) c.sock.destroy();
  await new Promise((r) => setTimeout(r, 1500));
  return {
    clients: clients.length, actions, deliveries: delays.length, missed,
    p50: quantile(delays, 0.5), p99: quantile(delays, 0.99), max: Math.max(...delays),
    cores, rss, bytesPerClientMin: bytes / clients.length / (secs / 60), msgsPerClientMin: msgs / clients.length / (secs / 60),
  };
}

const fmt = (r) => `| ${r.clients.toLocaleString('en')} | ${r.actions} | ${r.deliveries.toLocaleString('en')} (${r.missed} missed) | ${r.p50.toFixed(0)} / ${r.p99.toFixed(0)} / ${r.max.toFixed(0)} | ${r.cores.toFixed(3)} | ${r.rss.toFixed(0)} | ${(r.bytesPerClientMin / 1024).toFixed(1)} KiB, ${r.msgsPerClientMin.toFixed(1)} |`;
try {
  const baseline = await phase(1);
  const loaded = await phase(Math.ceil(CLIENTS / regions.length));
  console.log(`regions: ${regions.join(', ')}; ${SECONDS} s per run; an oversight action every 2 s`);
  console.log('| clients | actions | deliveries | delivery p50 / p99 / max ms | server cores | server RSS MiB | per client per minute (bytes, messages) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  console.log(fmt(baseline));
  console.log(fmt(loaded));
  console.log(`ratio p99 ${loaded.clients} clients / baseline: ${(loaded.p99 / baseline.p99).toFixed(2)}; cores: ${(loaded.cores / baseline.cores).toFixed(1)}`);
} finally {
  await server.stop();
}
