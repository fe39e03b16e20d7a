#!/usr/bin/env bash
# `make bench`: a throwaway PostgreSQL, the scale data set, gunicorn with production
# settings on 127.0.0.1, and the benchmark table (scripts/bench.py). Cleans up after itself.
#
#   BENCH_SCALE=0.1 make bench      # a tenth of the data set, for a quick run
#   BENCH_REQUESTS=200 BENCH_CONCURRENCY=4 BENCH_MAX_SECONDS=60   (per page, all bounded)
#   BENCH_KEEP=1                    # leave the database and server up, print how to reach them
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=${PY:-$ROOT/.venv/bin/python}
SCALE=${BENCH_SCALE:-1}
WORK=$(mktemp -d -t bench.XXXXXX)
chmod 755 "$WORK"  # the postgres user runs pg_ctl from here
GUNICORN_PID=""

cleanup() {
  set +e
  if [ -n "$GUNICORN_PID" ] && kill -0 "$GUNICORN_PID" 2>/dev/null; then
    kill -TERM "$GUNICORN_PID"; wait "$GUNICORN_PID" 2>/dev/null
  fi
  if [ -f "$WORK/.pgroot" ]; then (cd "$WORK" && bash "$ROOT/scripts/pg-down.sh"); fi
  rm -rf "$WORK"
}
if [ "${BENCH_KEEP:-0}" != 1 ]; then trap cleanup EXIT; fi

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "== throwaway PostgreSQL in $WORK"
# pg-up.sh writes .pgroot into the current directory: keep it in our own work directory.
export $(cd "$WORK" && bash "$ROOT/scripts/pg-up.sh" | grep '^DATABASE_URL=')
export SECRET_KEY="bench-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')-not-for-production"
export DEBUG=0 HTTPS=0 ALLOWED_HOSTS=127.0.0.1 TESTING=0 STATIC_ROOT="$WORK/static"
export BENCH_DEFAULT_ADMIN=1 BENCH_PASSWORD=${BENCH_PASSWORD:-correct-horse-battery-9}
export DJANGO_SETTINGS_MODULE=config.settings

echo "== migrate, collectstatic"
"$PY" manage.py migrate --no-input -v0
"$PY" manage.py collectstatic --no-input -v0

echo "== seed_scale --scale $SCALE"
SECONDS=0
"$PY" manage.py seed_scale --scale "$SCALE" --password "$BENCH_PASSWORD"
echo "seed_scale wall time: ${SECONDS} s"
"$PY" manage.py shell -v0 -c "from django.db import connection; connection.cursor().execute('VACUUM ANALYZE')"

PORT=$(free_port)
echo "== gunicorn on 127.0.0.1:$PORT ($(nproc) cores)"
GUNICORN_BIND=127.0.0.1:$PORT GUNICORN_ACCESSLOG="" GUNICORN_APP=config.bench_admin:application \
  "$ROOT/.venv/bin/gunicorn" -c config/gunicorn.conf.py >"$WORK/gunicorn.log" 2>&1 &
GUNICORN_PID=$!
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null

echo "== load"
"$PY" scripts/bench.py run --url "http://127.0.0.1:$PORT" --json "${BENCH_JSON:-$WORK/bench.json}" || STATUS=$?
if grep -q "Traceback\|ERROR" "$WORK/gunicorn.log"; then
  echo "== gunicorn log had errors:"; grep -B2 -A12 "Traceback" "$WORK/gunicorn.log" | head -60
fi
if [ "${BENCH_KEEP:-0}" = 1 ]; then
  echo "kept: DATABASE_URL=$DATABASE_URL  gunicorn pid $GUNICORN_PID on port $PORT  work dir $WORK"
fi
exit "${STATUS:-0}"
