#!/usr/bin/env bash
# Fault drill (docs/security.md item 36): the disk fills up during `manage.py import_survey`.
#
# A 3 MB tmpfs holds the SQLite database, the admin's upload staging dir (IMPORT_TEMP_DIR)
# and TMPDIR (Django's upload temp files and SQLite's own temp files). The demo data
# (`seed_demo`, about 0.9 MB) is migrated and seeded straight onto the tmpfs: it fits, and
# leaves about 2 MB free, which the import below fills. Then:
#   1. import DRILL_ROWS (default 20,000) generated rows with --create-issues → the disk fills;
#   2. the same import once more with the disk filled to the last byte by a filler file.
# Expected each time: the command exits non-zero with a clear one-line message (no Python
# traceback), enterprise/response/issue/event counts unchanged, `PRAGMA integrity_check`
# ok, and reads still served (an ORM count and three pages through Django's test client:
# /healthz, the issue list, the dashboard), also while the disk is full.
#
#   sudo bash scripts/drill_disk_full.sh          # DRILL_ROWS=30000 for a bigger file
set -euo pipefail
source "$(dirname "$0")/bench.sh"
cd "$ROOT"
if [ "$(id -u)" != 0 ]; then
  echo "drill_disk_full.sh must run as root (it mounts a tmpfs)" >&2; exit 2
fi
ROWS=${DRILL_ROWS:-20000}
WORK=$(mktemp -d -t drill-disk.XXXXXX)
MNT="$WORK/disk"
mkdir "$MNT"
drill_cleanup() {
  set +e
  mountpoint -q "$MNT" && umount "$MNT"
  rm -rf "$WORK"
}
trap drill_cleanup EXIT
mount -t tmpfs -o size=3m,mode=0755 drill-disk-full "$MNT"
mkdir "$MNT/tmp" "$MNT/upload"

# SQLite on the tmpfs, production-like settings otherwise.
unset DATABASE_URL DATABASE_REPLICA_URL
export SQLITE_PATH="$MNT/db.sqlite3" IMPORT_TEMP_DIR="$MNT/upload" TMPDIR="$MNT/tmp" SQLITE_TMPDIR="$MNT/tmp"
export SECRET_KEY="drill-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')-not-for-production"
export DEBUG=0 HTTPS=0 TESTING=0 ALLOWED_HOSTS=testserver,127.0.0.1 DJANGO_SETTINGS_MODULE=config.settings
export STATIC_ROOT="$WORK/static"  # the pages need the manifest; static files stay off the tmpfs

echo "== 3 MB tmpfs on $MNT: migrate, seed_demo (collectstatic into $WORK/static)"
"$PY" manage.py migrate --no-input -v0
"$PY" manage.py collectstatic --no-input -v0
"$PY" manage.py seed_demo --allow-production >/dev/null
disk() { df -k --output=used,avail "$MNT" | tail -1 | awk '{printf "%d KB used, %d KB free", $1, $2}'; }
echo "   database $(du -k "$SQLITE_PATH" | cut -f1) KB; tmpfs: $(disk)"

COORD=$("$PY" manage.py shell -v0 -c "from django.contrib.auth.models import User; print(User.objects.filter(groups__name='coordinator').order_by('pk').first().username)")
# A logged-in session for the read checks, made now: logging in writes (last_login, the session row).
SESSION=$("$PY" manage.py shell -v0 -c "
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
c = Client(); c.force_login(User.objects.get(username='$COORD'))
print(c.cookies[settings.SESSION_COOKIE_NAME].value)")

CSV="$WORK/drill-survey.csv"  # the input file is not on the tmpfs
"$PY" scripts/bench_import.py --rows "$ROWS" --write-csv "$CSV"  # GB18030, as offices send them
echo "   survey file: $ROWS rows, $(du -k "$CSV" | cut -f1) KB (on the normal disk)"

counts() {
  "$PY" manage.py shell -v0 -c "
from enterprises.models import Enterprise, Survey, SurveyResponse
from issues.models import Issue, IssueEvent
print(Enterprise.objects.count(), SurveyResponse.objects.count(), Issue.objects.count(), IssueEvent.objects.count(), Survey.objects.filter(name='磁盘演练问卷').count())"
}
integrity() {
  "$PY" manage.py shell -v0 -c "
from django.db import connection
with connection.cursor() as c:
    print(' '.join(r[0] for r in c.execute('PRAGMA integrity_check').fetchall()))"
}
# Reads: an ORM count, then /healthz, the issue list and the dashboard through the test client
# with the session made above. Prints "<issues> <status> <status> <status>".
reads() {
  SESSION=$SESSION "$PY" manage.py shell -v0 -c "
import os
from django.conf import settings
from django.test import Client
from issues.models import Issue
c = Client(); c.cookies[settings.SESSION_COOKIE_NAME] = os.environ['SESSION']
codes = [c.get(url).status_code for url in ('/healthz', '/issues/', '/dashboard/')]
print(Issue.objects.count(), *codes)" 2>"$WORK/reads.err" || { echo "ERROR"; sed 's/^/   reads: /' "$WORK/reads.err" | tail -5 >&2; }
}

FAILED=0
check() {  # $1: PASS condition (0/1), $2: text
  if [ "$1" = 0 ]; then echo "   PASS  $2"; else echo "   FAIL  $2"; FAILED=1; fi
}
# One import and its checks. $1: label.
import_and_check() {
  local label=$1 rc=0 out="$WORK/import-$1.out" err="$WORK/import-$1.err"
  "$PY" manage.py import_survey "$CSV" --survey 磁盘演练问卷 --create-issues --user "$COORD" >"$out" 2>"$err" || rc=$?
  local last; last=$(tr '\r' '\n' <"$err" | grep -v '^\s*$' | grep -Ev '^\w+ +\[' | tail -1 || true)
  echo "   exit status $rc; tmpfs now: $(disk)"
  echo "   last progress: $(tr '\r' '\n' <"$err" | grep -E '^\w+ +\[' | tail -1)"
  echo "   message: ${last:-<none>}"
  if grep -q 'Traceback' "$out" "$err"; then
    echo "   --- what the user saw (stderr, first 15 lines after the progress bar) ---"
    tr '\r' '\n' <"$err" | grep -Ev '^\w+ +\[' | grep -v '^\s*$' | head -15 | sed 's/^/   | /'
  fi
  check $([ "$rc" != 0 ] && echo 0 || echo 1) "[$label] import refused (non-zero exit: $rc)"
  check $(! grep -q 'Traceback' "$out" "$err" && echo 0 || echo 1) "[$label] no Python traceback shown"
  # The import's own message names the disk; the command then ends on a CommandError line.
  check $(grep -Eqi '^CommandError: ' <<<"$last" && tr '\r' '\n' <"$err" | grep -Eqi '(disk|space|磁盘|空间)' \
    && echo 0 || echo 1) "[$label] a clear message (naming the full disk, then a CommandError)"
  local now; now=$(counts)
  check $([ "$now" = "$before" ] && echo 0 || echo 1) "[$label] counts unchanged ($now)"
  local ic; ic=$(integrity)
  check $([ "$ic" = ok ] && echo 0 || echo 1) "[$label] PRAGMA integrity_check: $ic"
}
reads_check() {  # $1: label
  local r; r=$(reads)
  read -r n h l d <<<"$r"
  check $([ "$n" = "$issues_before" ] && [ "$h $l $d" = "200 200 200" ] && echo 0 || echo 1) \
    "[$1] reads served: $n issues counted; /healthz $h, /issues/ $l, /dashboard/ $d"
}

before=$(counts)
issues_before=$(awk '{print $3}' <<<"$before")
echo "== before: enterprises responses issues events drill-surveys = $before; integrity_check: $(integrity)"
echo "   reads before (issues, /healthz, /issues/, /dashboard/): $(reads)"

echo "== 1. import $ROWS rows with --create-issues onto the tmpfs"
import_and_check filling
reads_check "after 1"

echo "== 2. fill the tmpfs to the last byte, then import again and read"
dd if=/dev/zero of="$MNT/filler" bs=4k status=none 2>/dev/null || true
echo "   tmpfs: $(disk)"
reads_check "disk full"
import_and_check "already full"
reads_check "disk still full"
rm -f "$MNT/filler"

if [ "$FAILED" = 0 ]; then
  echo "VERDICT disk full: PASS (both imports refused with a clear message; counts $before unchanged; integrity_check ok; reads served, also with the disk full)"
else
  echo "VERDICT disk full: FAIL"; exit 1
fi
