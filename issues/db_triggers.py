"""Database triggers that make the issue event log append-only below the ORM.

SQLite: RAISE(ABORT); PostgreSQL: a plpgsql function. Both refuse UPDATE and DELETE of
any row of issues_issueevent, whoever sends it (ORM, admin, raw SQL).
"""

TABLE = "issues_issueevent"
MESSAGE = "issues_issueevent is append-only"

SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS issueevent_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS issueevent_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS issueevent_no_update",
    "DROP TRIGGER IF EXISTS issueevent_no_delete",
]

POSTGRES_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION issueevent_append_only() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation'; END;
        $$ LANGUAGE plpgsql""",
    f"DROP TRIGGER IF EXISTS issueevent_append_only ON {TABLE}",
    f"""CREATE TRIGGER issueevent_append_only BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION issueevent_append_only()""",
]
POSTGRES_REMOVE = [
    f"DROP TRIGGER IF EXISTS issueevent_append_only ON {TABLE}",
    "DROP FUNCTION IF EXISTS issueevent_append_only()",
]


def _statements(connection, install: bool) -> list[str]:
    if connection.vendor == "sqlite":
        return SQLITE_INSTALL if install else SQLITE_REMOVE
    if connection.vendor == "postgresql":
        return POSTGRES_INSTALL if install else POSTGRES_REMOVE
    return []


def install(connection) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection, install=True):
            cursor.execute(sql)


def remove(connection) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection, install=False):
            cursor.execute(sql)
