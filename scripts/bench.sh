#!/usr/bin/env bash
# `make bench`: a throwaway PostgreSQL, the scale data set, gunicorn with production
# settings on 127.0.0.1, and the benchmark table (scripts/bench.py). Cleans up after itself.
#
#   BENCH_SCALE=0.1 make bench      # a tenth of the data set, for a quick run
#   BENCH_REQUESTS=200 BENCH_CONCURRENCY=4 BENCH_MAX_SECONDS=60   (per page, all bounded)
#   BENCH_ROUNDS=5                  (each page's requests in 5 slices, the pages taking turns)
#   BENCH_KEEP=1                    # leave the database and server up, print how to reach them
#   BENCH_MODE=mixed make bench     # issue 7's mixed workload instead of the page table:
#       BENCH_USERS=20 BENCH_SECONDS=300 different logged-in users reading, opening the
#       dashboard, posting workflow steps and exporting (scripts/load_mixed.py); seeds
#       BENCH_SEED_USERS (default 400 in this mode) so that every scale has enough of each role
#   BENCH_MODE=both                 # the page table, then the mixed workload, same server
#   BENCH_SNAPSHOT=1                # measure the last commit (git archive HEAD into a temporary
#       directory, this checkout's .venv), not the working tree: in a checkout shared with
#       people editing, a worker could otherwise load half-written code or a migration that
#       appeared after `migrate` ran
#
# The drills (scripts/drill_*.sh) source this file for its functions.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PY:-$ROOT/.venv/bin/python}
GUNICORN_PID=""
WORK=""

bench_cleanup() {
  set +e
  if [ -n "$GUNICORN_PID" ] && kill -0 "$GUNICORN_PID" 2>/dev/null; then
    kill -TERM "$GUNICORN_PID"; wait "$GUNICORN_PID" 2>/dev/null
  fi
  if [ -n "$WORK" ] && [ -f "$WORK/.pgroot" ]; then (cd "$WORK" && bash "$ROOT/scripts/pg-down.sh"); fi
  [ -n "$WORK" ] && rm -rf "$WORK"
}

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A throwaway cluster and the production-like environment (exports DATABASE_URL etc.).
bench_start_pg() {
  WORK=$(mktemp -d -t bench.XXXXXX)
  chmod 755 "$WORK"  # the postgres user runs pg_ctl from here
  echo "== throwaway PostgreSQL in $WORK"
  # pg-up.sh writes .pgroot into the current directory: keep it in our own work directory.
  export $(cd "$WORK" && bash "$ROOT/scripts/pg-up.sh" | grep '^DATABASE_URL=')
  PGROOT=$(cat "$WORK/.pgroot")
  PGBIN=$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  # The planner settings docs/production.md §3 recommends (memory sizes for this machine);
  # fsync stays off: a throwaway cluster.
  local port=${DATABASE_URL##*:}; port=${port%%/*}
  "$PGBIN/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d app \
    -c "ALTER SYSTEM SET random_page_cost = 1.1" -c "ALTER SYSTEM SET effective_cache_size = '3GB'" \
    -c "ALTER SYSTEM SET work_mem = '16MB'" -c "SELECT pg_reload_conf()" >/dev/null
  export SECRET_KEY="bench-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')-not-for-production"
  export DEBUG=0 HTTPS=0 ALLOWED_HOSTS=127.0.0.1 TESTING=0 STATIC_ROOT="$WORK/static"
  export BENCH_PASSWORD=${BENCH_PASSWORD:-correct-horse-battery-9}
  export DJANGO_SETTINGS_MODULE=config.settings
}

# pg_ctl as the cluster's owner (root runs it through runuser, as pg-up.sh does).
bench_pg_ctl() {
  local as=(); [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  (cd "$WORK" && "${as[@]}" "$PGBIN/pg_ctl" -D "$PGROOT/data" -w "$@")
}

bench_prepare_db() {  # $1: scale
  echo "== migrate, collectstatic"
  (cd "$ROOT" && "$PY" manage.py migrate --no-input -v0 && "$PY" manage.py collectstatic --no-input -v0)
  echo "== seed_scale --scale $1"
  SECONDS=0
  local users=(); [ -n "${BENCH_SEED_USERS:-}" ] && users=(--users "$BENCH_SEED_USERS")
  (cd "$ROOT" && "$PY" manage.py seed_scale --scale "$1" "${users[@]}" --password "$BENCH_PASSWORD")
  echo "seed_scale wall time: ${SECONDS} s"
  (cd "$ROOT" && "$PY" manage.py shell -v0 -c "from django.db import connection; connection.cursor().execute('VACUUM ANALYZE')")
}

bench_start_gunicorn() {
  PORT=$(free_port)
  echo "== gunicorn on 127.0.0.1:$PORT ($(nproc) cores)"
  (cd "$ROOT" && GUNICORN_BIND=127.0.0.1:$PORT GUNICORN_ACCESSLOG="" GUNICORN_APP=${GUNICORN_APP:-config.wsgi:application} \
    exec "$ROOT/.venv/bin/gunicorn" -c config/gunicorn.conf.py >"$WORK/gunicorn.log" 2>&1) &
  GUNICORN_PID=$!
  for _ in $(seq 1 150); do
    if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "gunicorn did not answer /healthz:"; tail -30 "$WORK/gunicorn.log"; return 1
}

bench_main() {
  cd "$ROOT"
  if [ "${BENCH_KEEP:-0}" != 1 ]; then trap bench_cleanup EXIT; fi
  bench_start_pg
  local mode=${BENCH_MODE:-run}
  case "$mode" in run|mixed|both) ;; *) echo "BENCH_MODE must be run, mixed or both"; return 2;; esac
  if [ "$mode" != run ]; then export BENCH_SEED_USERS=${BENCH_SEED_USERS:-400}; fi
  bench_prepare_db "${BENCH_SCALE:-1}"
  bench_start_gunicorn
  echo "== load"
  local status=0
  if [ "$mode" != mixed ]; then
    "$PY" scripts/bench.py run --url "http://127.0.0.1:$PORT" --json "${BENCH_JSON:-$WORK/bench.json}" || status=$?
  fi
  if [ "$mode" != run ]; then
    echo "== mixed workload"
    "$PY" scripts/bench.py mixed --url "http://127.0.0.1:$PORT" --users "${BENCH_USERS:-20}" \
      --seconds "${BENCH_SECONDS:-300}" --think "${BENCH_THINK:-0}" \
      --json "${BENCH_MIXED_JSON:-$WORK/mixed.json}" || status=$?
  fi
  if grep -q "Traceback\|WORKER TIMEOUT" "$WORK/gunicorn.log"; then
    echo "== gunicorn log: $(grep -c 'WORKER TIMEOUT' "$WORK/gunicorn.log" || true) worker timeouts; exceptions:"
    grep -E '^[A-Za-z_.]+(Error|Exception|Exit)\b|WORKER TIMEOUT' "$WORK/gunicorn.log" | sort | uniq -c | sort -rn | head -10
    cp "$WORK/gunicorn.log" "${BENCH_GUNICORN_LOG:-/tmp/bench-gunicorn.log}"
    echo "   full log: ${BENCH_GUNICORN_LOG:-/tmp/bench-gunicorn.log}"
  fi
  if [ "${BENCH_KEEP:-0}" = 1 ]; then
    echo "kept: DATABASE_URL=$DATABASE_URL  gunicorn pid $GUNICORN_PID on port $PORT  work dir $WORK"
  fi
  return "$status"
}

bench_snapshot() {  # run this script from a clean copy of HEAD, then delete the copy
  local snap status=0
  snap=$(mktemp -d -t bench-snap.XXXXXX)
  git -C "$ROOT" archive HEAD | tar -x -C "$snap"
  ln -s "$ROOT/.venv" "$snap/.venv"
  (cd "$ROOT" && cp --parents locale/*/LC_MESSAGES/django.mo "$snap") 2>/dev/null || true  # built, not committed
  echo "== snapshot of $(git -C "$ROOT" rev-parse --short HEAD) in $snap"
  BENCH_SNAPSHOT=0 bash "$snap/scripts/bench.sh" || status=$?
  rm -rf "$snap"
  return "$status"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  if [ "${BENCH_SNAPSHOT:-0}" = 1 ]; then bench_snapshot; else bench_main; fi
fi
