#!/usr/bin/env bash
# Measures the figures in docs/BENCHMARKS.md on this machine: transfer sizes (raw and brotli), server
# start-up and memory with the demo city and 30 days of history, and navigation → map drawn in headless
# Chromium against a baseline page measured in the same run; then records per second from each feed kind
# against its real peer (Mosquitto, nats-server, PostgreSQL, …) against `Ingest::take` called directly.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_browser
ensure_test_peers
"$ROOT/scripts/build.sh" release

log "transfer sizes"
node -e '
const fs = require("fs"), zlib = require("zlib");
const files = ["pkg/cockpit.wasm", "pkg/cockpit.js", "pkg/cockpit.css", "assets/echarts.min.js"];
let raw = 0, br = 0;
for (const f of files) {
  const b = fs.readFileSync("target/site/" + f);
  const c = zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } }).length;
  raw += b.length; br += c;
  console.log(`${f.padEnd(24)} ${(b.length / 1024).toFixed(0).padStart(6)} KiB raw ${(c / 1024).toFixed(0).padStart(6)} KiB brotli`);
}
console.log(`${"total (wall, static)".padEnd(24)} ${(raw / 1024).toFixed(0).padStart(6)} KiB raw ${(br / 1024).toFixed(0).padStart(6)} KiB brotli`);
'

DATA=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
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

log "feeds: records per second, durable (SQLite, synchronous=FULL) and counted live, against Ingest::take"
cargo bench -p server --bench feeds
