"""Database triggers that make history append-only below the ORM: the issue event log and
the enterprise's feedback rounds.

SQLite: RAISE(ABORT) on UPDATE and DELETE (SQLite has no TRUNCATE: a DELETE without WHERE
fires the row trigger). PostgreSQL: a plpgsql function on UPDATE and DELETE of each row,
and on TRUNCATE of the table. Whoever sends it (ORM, admin, raw SQL), it is refused; only
the tables' owner can drop or disable the triggers, and the app's role is not the owner
(docs/production.md §3: `manage.py grant_app_role`, `app_role_grants` below).

The migrations carry their own copies of these statements (a migration never imports live
code); this module serves `manage.py flush`, which must lift them to empty the tables.
"""

TABLES = ("issues_issueevent", "issues_feedbackround")


def _sqlite_install(table: str) -> list[str]:
    message = f"{table} is append-only"
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
    ]


def _sqlite_remove(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_update", f"DROP TRIGGER IF EXISTS {table}_no_delete"]


POSTGRES_FUNCTION = """CREATE OR REPLACE FUNCTION history_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql"""


def _postgres_install(table: str) -> list[str]:
    return [
        *_postgres_remove(table),
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION history_append_only()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION history_append_only()",
    ]


def _postgres_remove(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
    ]


def statements(vendor: str, install: bool) -> list[str]:
    if vendor == "sqlite":
        make = _sqlite_install if install else _sqlite_remove
        return [sql for table in TABLES for sql in make(table)]
    if vendor == "postgresql":
        make = _postgres_install if install else _postgres_remove
        return ([POSTGRES_FUNCTION] if install else []) + [sql for table in TABLES for sql in make(table)]
    return []


def install(connection) -> None:
    with connection.cursor() as cursor:
        for sql in statements(connection.vendor, install=True):
            cursor.execute(sql)


def remove(connection) -> None:
    with connection.cursor() as cursor:
        for sql in statements(connection.vendor, install=False):
            cursor.execute(sql)


# -- the app's role -----------------------------------------------------------------------------


def app_role_grants(connection, role: str) -> list[str]:
    """What the owner grants the role the app runs as: read and write the tables, but write
    history by INSERT only, and never own a table. A role that does not own a table cannot
    TRUNCATE it without the privilege, nor drop or disable its triggers (PostgreSQL: "must be
    owner"). A snapshot of today's tables: run again after every `migrate`."""
    quoted = connection.ops.quote_name(role)
    history = [*TABLES, *_trail_tables()]
    return [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        # History is written once: the event log, feedback rounds, the change trail.
        f"REVOKE UPDATE, DELETE ON {', '.join(map(connection.ops.quote_name, history))} FROM {quoted}",
    ]


def _trail_tables() -> list[str]:
    """django-simple-history's tables (issues.trail): inserted, never rewritten."""
    from django.apps import apps

    # simple-history names every model it makes (and their many-to-many tables) Historical….
    models = apps.get_models()
    return sorted(model._meta.db_table for model in models if model.__name__.startswith("Historical"))
