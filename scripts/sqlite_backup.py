#!/usr/bin/env python3
"""Online backup of the SQLite database, safe while the app is running.

    python scripts/sqlite_backup.py SOURCE.sqlite3 DEST.sqlite3

Uses sqlite3's backup API (the same as the `.backup` shell command): it copies a
consistent snapshot page by page while other connections keep reading and writing. Then
it opens the copy, runs `PRAGMA integrity_check`, and prints row counts of the key tables.
Exit status 0 only if the check says "ok".
"""

import sqlite3
import sys
import time

TABLES = ("issues_issue", "issues_issueevent", "visits_visit", "enterprises_enterprise", "auth_user")


def backup(source: str, dest: str, pages_per_step: int = 256) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=20)
    dst = sqlite3.connect(dest)
    try:
        # Small steps with a pause let the app's writers in between (a step holds a read lock).
        src.backup(dst, pages=pages_per_step, sleep=0.005)
    finally:
        dst.close()
        src.close()


def verify(dest: str) -> tuple[str, dict[str, int]]:
    con = sqlite3.connect(f"file:{dest}?mode=ro", uri=True)
    try:
        verdict = con.execute("PRAGMA integrity_check").fetchone()[0]
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        counts = {t: con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in TABLES if t in names}
    finally:
        con.close()
    return verdict, counts


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__)
        return 2
    started = time.monotonic()
    backup(argv[1], argv[2])
    verdict, counts = verify(argv[2])
    print(f"sqlite backup: {argv[2]} in {time.monotonic() - started:.2f} s; integrity_check={verdict}")
    for table, count in counts.items():
        print(f"  {table}: {count}")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
