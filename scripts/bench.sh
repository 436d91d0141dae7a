#!/usr/bin/env bash
# Measures the figures in docs/BENCHMARKS.md on this machine: transfer sizes (raw and brotli), server
# start-up and memory with the demo city and 30 days of history, and navigation → map drawn in headless
# Chromium against a baseline page measured in the same run; live-stream fan-out to 5,000 clients and an
# accelerated day of a wall on a playlist (memory); then records per second from each feed kind
# against its real peer (Mosquitto, nats-server, PostgreSQL, …) against `Ingest::take` called directly;
# last, the indicator engine on a generated city-year: its recount and damaged-snapshot tests, then a fixed
# mix of queries at every level and period against the same flow reports answered by SQLite, PostgreSQL
# and DuckDB, ingest rates, restart, memory (`server/benches/indicators.rs`), and the release server
# itself started on a copy of that city-year (time to healthy, memory). INDICATORS_BENCH_DAYS sets
# the span generated (default 365); INDICATORS_BENCH_DIR reuses a data directory cockpit-gen made before
# instead of generating one.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_browser
ensure_test_peers
"$ROOT/scripts/build.sh" release

log "transfer sizes (the build's brotli files, as the server sends them)"
node -e '
const fs = require("fs");
const site = "target/site/";
const m = JSON.parse(fs.readFileSync(site + "assets.json", "utf8"));
const pages = {
  "wall": [`pkg/${m.wall ?? m.app}.wasm`, `pkg/${m.wall ?? m.app}.js`, m.css.slice(1), m.echarts.slice(1)],
  "desk (the bundle of every page)": [`pkg/${m.app}.wasm`, `pkg/${m.app}.js`, m.css.slice(1), m.echarts.slice(1)],
};
for (const [page, files] of Object.entries(pages)) {
  let raw = 0, br = 0;
  console.log(page);
  for (const f of files) {
    const b = fs.statSync(site + f).size, c = fs.statSync(site + f + ".br").size;
    raw += b; br += c;
    console.log(`  ${f.padEnd(34)} ${(b / 1024).toFixed(0).padStart(6)} KiB raw ${(c / 1024).toFixed(0).padStart(6)} KiB brotli`);
  }
  console.log(`  ${"total (static)".padEnd(34)} ${(raw / 1024).toFixed(0).padStart(6)} KiB raw ${(br / 1024).toFixed(0).padStart(6)} KiB brotli`);
}
'

DATA=$(mktemp -d)
CITY=
SRV=
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA" ${CITY:+"$CITY"} ${SRV:+"$SRV"}' EXIT
# Starts the release server on a free port over $DATA; sets PID and URL; prints the time to healthy.
start_server() {
  local start; start=$(date +%s%N)
  COCKPIT_SITE_ROOT="$ROOT/target/site" COCKPIT_LOG=warn "$ROOT/target/release/cockpit" --listen 127.0.0.1:0 --data-dir "$DATA" > "$DATA/out.log" 2>&1 &
  PID=$!
  until grep -q 'listening on' "$DATA/out.log"; do sleep 0.1; done
  URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$DATA/out.log")
  until curl -sf "$URL/healthz" >/dev/null 2>&1; do sleep 0.2; done
  echo "$1 to healthy: $(( ($(date +%s%N) - start) / 1000000 )) ms"
}

log "server start-up with an empty data directory (demo city + 30 days of history at 2 cases/min)"
start_server "first start"
sleep 5
echo "server memory (VmRSS) with the demo city loaded: $(awk '/VmRSS/{print $2/1024 " MiB"}' /proc/$PID/status)"
echo "database size: $(du -sh "$DATA" | cut -f1)"
kill $PID; wait $PID 2>/dev/null || true
start_server "restart (replay of stored events)"

log "case-flow reports against the in-memory wall snapshot"
node tests/bench/flow_timing.mjs "$URL"

log "navigation → map drawn (headless Chromium)"
node tests/bench/wall_timing.mjs "$URL" 5

log "live streams: 5,000 SSE clients over 20 regions, an oversight action every 2 s, against one client per region"
COCKPIT_BIN="$ROOT/target/release/cockpit" COCKPIT_SITE_ROOT="$ROOT/target/site" node tests/bench/fanout.mjs 5000 60

log "the wall left alone: an accelerated day (server clock 96x) on a playlist of every scene, memory sampled"
COCKPIT_BIN="$ROOT/target/release/cockpit" COCKPIT_SITE_ROOT="$ROOT/target/site" node tests/bench/soak.mjs "${SOAK_MINUTES:-15}"

log "feeds: records per second, durable (SQLite, synchronous=FULL) and counted live, against Ingest::take"
cargo bench -p server --bench feeds

log "residents: Open311 POST and reads over HTTP, against /healthz"
cargo bench -p server --bench open311

log "cluster: 1 and 3 instances on PostgreSQL and NATS JetStream"
cargo bench -p server --bench cluster

# DuckDB for the indicators bench's baseline, from PyPI into a virtualenv under target/.
ensure_bench_python() {
  ensure_venv "$ROOT/target/bench-venv" duckdb duckdb
}

log "indicator engine: query mix against SQLite, PostgreSQL and DuckDB on a generated city-year; ingest, restart, memory"
ensure_bench_python
if [ -n "${INDICATORS_BENCH_DIR:-}" ] && [ -f "$INDICATORS_BENCH_DIR/engine.snapshot" ]; then
  log "reusing the data in $INDICATORS_BENCH_DIR"
else
  cargo build --release -p server --bin cockpit-gen
  CITY=$(mktemp -d)
  export INDICATORS_BENCH_DIR="$CITY"
  log "generating ${INDICATORS_BENCH_DAYS:-365} days of the demo city (2,900 cases a day) into $CITY"
  "$ROOT/target/release/cockpit-gen" --data-dir "$CITY" --days "${INDICATORS_BENCH_DAYS:-365}" --cases-per-day 2900 \
    --seed 2026 --end 2026-12-02T09:00:00+08:00
fi
log "the recount and damaged-snapshot tests (server/tests/recount.rs), release build"
cargo test --release -p server --test recount
cargo bench -p server --bench indicators

log "the release server on a copy of the city-year, its clock just after the generated end, the demo's systems feeding it"
SRV=$(mktemp -d)
cp -a "$INDICATORS_BENCH_DIR/." "$SRV/"
DATA=$SRV
export COCKPIT_CLOCK_START=2026-12-02T09:01:00+08:00
start_server "start on the city-year"
unset COCKPIT_CLOCK_START
mib() { awk -v k="$1:" '$1 == k {printf "%d MiB", $2 / 1024}' /proc/$PID/status; }
echo "server memory at healthy: VmRSS $(mib VmRSS)"
sleep 120
echo "server memory 2 minutes later: VmRSS $(mib VmRSS), RssAnon $(mib RssAnon), peak (VmHWM) $(mib VmHWM)"
kill $PID; wait $PID 2>/dev/null || true
