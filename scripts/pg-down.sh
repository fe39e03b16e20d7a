#!/usr/bin/env bash
# Stop the throwaway cluster started by pg-up.sh and delete its files.
set -euo pipefail
PGBIN=$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGROOT=${PGROOT:-$(cat .pgroot)}
AS=(); [ "$(id -u)" = 0 ] && AS=(runuser -u postgres --)
"${AS[@]}" "$PGBIN/pg_ctl" -D "$PGROOT/data" -m fast -w stop >/dev/null
rm -rf "$PGROOT" .pgroot
