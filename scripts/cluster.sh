#!/usr/bin/env bash
# Scale-out to try on one machine: PostgreSQL (the shared store), nats-server with JetStream (the bus)
# and three cockpit instances on ports 3001, 3002 and 3003, with the demo city. Put any HTTP load
# balancer in front of the three (or open them side by side); stop everything with Ctrl-C.
#   scripts/cluster.sh            # data in ./data-cluster (kept between runs)
#   CLUSTER_DIR=/tmp/c scripts/cluster.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_apt postgresql nats-server curl
"$ROOT/scripts/build.sh" release

DIR="${CLUSTER_DIR:-$ROOT/data-cluster}"
mkdir -p "$DIR"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
PG_PORT="${CLUSTER_PG_PORT:-55432}"
NATS_PORT="${CLUSTER_NATS_PORT:-54222}"
pids=()
stop_all() {
  log "stopping the cluster"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all EXIT INT TERM

# PostgreSQL refuses to run as root: as root it runs as nobody, in a directory nobody owns.
as_pg() { if [ "$(id -u)" = 0 ]; then setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; else "$@"; fi; }
if [ ! -d "$DIR/pg" ]; then
  mkdir -p "$DIR/pg"
  [ "$(id -u)" = 0 ] && chown 65534:65534 "$DIR/pg"
  as_pg "$PG_BIN/initdb" -D "$DIR/pg/data" -U postgres --auth=trust -E UTF8 --locale=C >"$DIR/pg/initdb.log"
fi
log "PostgreSQL on 127.0.0.1:$PG_PORT"
as_pg "$PG_BIN/postgres" -D "$DIR/pg/data" -p "$PG_PORT" -k "$DIR/pg" -c listen_addresses=127.0.0.1 >>"$DIR/pg/postgres.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do as_pg "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -q && break; sleep 0.1; done

log "nats-server (JetStream) on 127.0.0.1:$NATS_PORT"
mkdir -p "$DIR/nats"
nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$DIR/nats" >>"$DIR/nats/nats.log" 2>&1 &
pids+=($!)
sleep 0.5

export COCKPIT_SITE_ROOT="$ROOT/target/site"
export COCKPIT_STORE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
export COCKPIT_BUS_NATS="nats://127.0.0.1:$NATS_PORT"
for i in 1 2 3; do
  mkdir -p "$DIR/cockpit-$i"
  log "cockpit $i on http://127.0.0.1:300$i (log: $DIR/cockpit-$i/cockpit.log)"
  COCKPIT_INSTANCE="cockpit-$i" "$ROOT/target/release/cockpit" --listen "127.0.0.1:300$i" --data-dir "$DIR/cockpit-$i" \
    >"$DIR/cockpit-$i/cockpit.log" 2>&1 &
  pids+=($!)
  if [ "$i" = 1 ]; then
    # The first creates the city and its history; the others join a store that has them.
    for _ in $(seq 600); do curl -fs "http://127.0.0.1:3001/healthz" >/dev/null && break; sleep 0.5; done
  fi
done
log "the cluster runs: demo accounts as in the README; Ctrl-C stops it"
wait
