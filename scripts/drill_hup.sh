#!/usr/bin/env bash
# Fault drill: gunicorn reloaded with HUP under load. Expects 0 failed requests and every
# worker replaced (old workers finish their requests; new ones take the listening socket).
set -euo pipefail
source "$(dirname "$0")/bench.sh"
cd "$ROOT"
trap bench_cleanup EXIT
bench_start_pg
bench_prepare_db "${DRILL_SCALE:-0.005}" >/dev/null
bench_start_gunicorn
COORD=$("$PY" manage.py shell -v0 -c "from django.contrib.auth.models import User; print(User.objects.filter(groups__name='coordinator').order_by('pk').first().username)")
workers_before=$(pgrep -P "$GUNICORN_PID" | sort | tr '\n' ' ')
echo "== load for 12 s, kill -HUP $GUNICORN_PID at 3 s and again at 8 s"
( sleep 8; kill -HUP "$GUNICORN_PID" ) &
HUP2=$!
if out=$("$PY" scripts/bench.py load --url "http://127.0.0.1:$PORT" --user "$COORD" --seconds 12 --run-at 3 \
      --run "kill -HUP $GUNICORN_PID"); then :; fi
wait "$HUP2" || true
echo "$out"
workers_after=$(pgrep -P "$GUNICORN_PID" | sort | tr '\n' ' ')
echo "workers before: $workers_before"
echo "workers after:  $workers_after"
failed=$(echo "$out" | tail -1 | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["failed"])')
replaced=yes
for pid in $workers_before; do case " $workers_after " in *" $pid "*) replaced=no;; esac; done
if [ "$failed" = 0 ] && [ "$replaced" = yes ]; then
  echo "VERDICT HUP under load: PASS (0 failed requests, every worker replaced)"
else
  echo "VERDICT HUP under load: FAIL (failed=$failed, workers replaced=$replaced)"; exit 1
fi
