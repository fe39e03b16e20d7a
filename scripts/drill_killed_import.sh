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
ROWS=$ROWS "$PY" manage.py shell -v0 -c "
import csv, os
from enterprises.credit_code import ALPHABET, check_character
from enterprises.models import District
districts = list(District.objects.values_list('name', flat=True))
def code(n):
    s = ''
    for _ in range(9):
        n, r = divmod(n, len(ALPHABET)); s = ALPHABET[r] + s
    base = '91120999' + s
    return base + check_character(base)
with open('$CSV', 'w', newline='', encoding='utf-8') as fh:
    w = csv.writer(fh)
    w.writerow('统一社会信用代码,企业名称,所在区,行业类别,填报日期,生产经营状况,订单情况,从业人数,用工缺口,主要困难,诉求类别,具体诉求,联系人,联系电话'.split(','))
    for i in range(int(os.environ['ROWS'])):
        w.writerow([code(i + 1), f'天津演练企业{i:06d}有限公司', districts[i % len(districts)], '规模以上工业', '2026-10-15',
                    '正常', '增长', 300 + i % 500, i % 20, '原材料价格上涨', '能源', '用电容量不足，需增容变压器', '刘先生', '022-20652836'])
"
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
