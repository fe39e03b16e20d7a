#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster (as root or a normal user). Prints DATABASE_URL=...
set -euo pipefail
PGBIN=$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGROOT=${PGROOT:-$(mktemp -d -t pgtmp.XXXXXX)}
PGPORT=${PGPORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
AS=()
if [ "$(id -u)" = 0 ]; then              # initdb refuses to run as root
  chown postgres:postgres "$PGROOT"; AS=(runuser -u postgres --)
fi
"${AS[@]}" "$PGBIN/initdb" -D "$PGROOT/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$PGROOT/initdb.log"
"${AS[@]}" "$PGBIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/server.log" -w \
  -o "-k $PGROOT -p $PGPORT -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
"$PGBIN/psql" -q -h 127.0.0.1 -p "$PGPORT" -U postgres -c "CREATE ROLE app LOGIN PASSWORD 'app' CREATEDB CREATEROLE" -c "CREATE DATABASE app OWNER app"
echo "$PGROOT" > .pgroot
echo "DATABASE_URL=postgres://app:app@127.0.0.1:$PGPORT/app"
