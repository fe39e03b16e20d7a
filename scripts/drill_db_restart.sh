#!/usr/bin/env bash
# Fault drill: PostgreSQL restarted (1) while the app is idle, (2) under load.
#   (1) expects 0 failed requests: CONN_HEALTH_CHECKS makes each worker notice its dead
#       persistent connection and reconnect before using it.
#   (2) expects failures only inside a ~1-second window, each answered with HTTP 500 (the
#       generic error page, not a reset connection) and logged by Django.
# Own throwaway PostgreSQL and gunicorn on 127.0.0.1; prints a verdict per part.
set -euo pipefail
source "$(dirname "$0")/bench.sh"
cd "$ROOT"
trap bench_cleanup EXIT
bench_start_pg
bench_prepare_db "${DRILL_SCALE:-0.005}" >/dev/null
bench_start_gunicorn
COORD=$("$PY" manage.py shell -v0 -c "from django.contrib.auth.models import User; print(User.objects.filter(groups__name='coordinator').order_by('pk').first().username)")
AS=""; [ "$(id -u)" = 0 ] && AS="runuser -u postgres --"
RESTART="cd $WORK && $AS $PGBIN/pg_ctl -D $PGROOT/data -w -m fast restart >/dev/null"
URL="http://127.0.0.1:$PORT"
verdict=0

echo "== (1) restart while idle"
if out=$("$PY" scripts/bench.py load --url "$URL" --user "$COORD" --seconds 5 --run-at 3 --idle --run "$RESTART"); then :; fi
echo "$out"
failed=$(echo "$out" | tail -1 | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["failed"])')
if [ "$failed" = 0 ]; then echo "VERDICT idle restart: PASS (0 failed requests)"; else echo "VERDICT idle restart: FAIL ($failed failed)"; verdict=1; fi

echo "== (2) restart under load"
before=$(grep -c "Internal Server Error" "$WORK/gunicorn.log" || true)
if out=$("$PY" scripts/bench.py load --url "$URL" --user "$COORD" --seconds 10 --run-at 4 --run "$RESTART"); then :; fi
echo "$out"
logged=$(( $(grep -c "Internal Server Error" "$WORK/gunicorn.log" || true) - before ))
echo "$out" | tail -1 | LOGGED=$logged "$PY" -c '
import json, os, sys
r = json.load(sys.stdin)
resets = r["not_http_500"]
ok = r["failure_window_s"] <= 1.0 and not resets and int(os.environ["LOGGED"]) >= r["failed"]
print("failed", r["failed"], "within", r["failure_window_s"], "s; logged by Django:", os.environ["LOGGED"], "; failures other than HTTP 500:", resets)
print("VERDICT restart under load:", "PASS" if ok else "FAIL (see above)")
sys.exit(0 if ok else 1)
' || verdict=1
exit $verdict
