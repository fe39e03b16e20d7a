#!/usr/bin/env bash
# Fault drill: `manage.py import_survey` killed (SIGKILL) half-way through writing.
# Expects nothing of the file in the database afterwards, then a rerun that imports it all,
# then a third run that changes nothing (rows are keyed on the credit code).
set -euo pipefail
source "$(dirname "$0")/bench.sh"
cd "$ROOT"
if ! DEBUG=1 "$PY" manage.py help import_survey >/dev/null 2>&1; then
  echo "VERDICT killed import: SKIPPED (manage.py import_survey does not exist yet)"; exit 0
fi
ROWS=${DRILL_ROWS:-6000}
trap bench_cleanup EXIT
bench_start_pg
bench_prepare_db "${DRILL_SCALE:-0.002}" >/dev/null
COORD=$("$PY" manage.py shell -v0 -c "from django.contrib.auth.models import User; print(User.objects.filter(groups__name='coordinator').order_by('pk').first().username)")
CSV="$WORK/drill-survey.csv"
"$PY" scripts/bench_import.py --rows "$ROWS" --write-csv "$CSV"  # GB18030, as offices send them
counts() {
  "$PY" manage.py shell -v0 -c "
from enterprises.models import Enterprise, Survey, SurveyResponse
from issues.models import Issue, IssueEvent
print(Enterprise.objects.count(), SurveyResponse.objects.count(), Issue.objects.count(), IssueEvent.objects.count(), Survey.objects.filter(name='演练问卷').count())"
}
before=$(counts)
echo "== before: enterprises responses issues events drill-surveys = $before"
echo "== import $ROWS rows with --create-issues; SIGKILL once it is writing"
"$PY" manage.py import_survey "$CSV" --survey 演练问卷 --create-issues --user "$COORD" >"$WORK/import1.out" 2>"$WORK/import1.err" &
IMPORT=$!
killed=no
for _ in $(seq 1 3000); do
  if ! kill -0 "$IMPORT" 2>/dev/null; then break; fi
  # Past the first third of the write stage, or creating issues: enterprises and responses
  # are already INSERTed inside the open transaction.
  if tr '\r' '\n' <"$WORK/import1.err" | grep -Eq '^(issues|write +\[#{10,})'; then
    kill -KILL "$IMPORT"; killed=yes; break
  fi
  sleep 0.05
done
wait "$IMPORT" 2>/dev/null || true
echo "   progress when killed: $(tr '\r' '\n' <"$WORK/import1.err" | grep -E '^\w+ +\[' | tail -1)"
if [ "$killed" != yes ]; then
  echo "VERDICT killed import: INCONCLUSIVE (the import finished before it could be killed; raise DRILL_ROWS)"; exit 1
fi
sleep 1  # let PostgreSQL notice the dead client and roll back
after_kill=$(counts)
echo "== after the kill:  $after_kill"
echo "== rerun"
SECONDS=0
"$PY" manage.py import_survey "$CSV" --survey 演练问卷 --create-issues --user "$COORD" 2>/dev/null | tail -4
echo "   rerun took ${SECONDS} s"
after_rerun=$(counts)
echo "== after the rerun: $after_rerun"
"$PY" manage.py import_survey "$CSV" --survey 演练问卷 --create-issues --user "$COORD" 2>/dev/null | tail -4
after_third=$(counts)
echo "== after a third run: $after_third"
read -r e0 r0 i0 v0 s0 <<<"$before"
read -r e2 r2 i2 v2 s2 <<<"$after_rerun"
read -r e3 r3 i3 v3 s3 <<<"$after_third"
if [ "$after_kill" = "$before" ] && [ $((r2 - r0)) = "$ROWS" ] && [ $((e2 - e0)) = "$ROWS" ] && [ "$s2" = 1 ] \
   && [ "$e3 $r3" = "$e2 $r2" ]; then
  echo "VERDICT killed import: PASS (nothing half-imported; the rerun imported all $ROWS rows; a third run added no enterprise or response)"
else
  echo "VERDICT killed import: FAIL"; exit 1
fi
