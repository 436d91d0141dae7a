#!/usr/bin/env bash
# The main job: builds everything, then runs the cockpit on the embedded default (SQLite in ./data, the
# demo city of Shaoxing, live simulated feeds). Extra arguments go to `cockpit` (e.g. --listen 0.0.0.0:3000).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/build.sh" release
export COCKPIT_SITE_ROOT="$ROOT/target/site"
log "starting the cockpit (first start creates the demo city and 30 days of history)"
exec "$ROOT/target/release/cockpit" --data-dir "${COCKPIT_DATA_DIR:-$ROOT/data}" "$@"
