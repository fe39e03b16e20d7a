"""`manage.py grant_app_role ROLE`: give the role the app runs as what it needs, and no more.

Run as the tables' owner (the role `migrate` runs as), right after every `migrate`
(docs/production.md §3). `--print` shows the SQL instead of running it.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from issues import db_triggers


class Command(BaseCommand):
    help = "Grant the app's database role read/write on the tables, insert-only on history (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("role", help="the role the app connects as (not the tables' owner)")
        parser.add_argument("--print", action="store_true", dest="print_only", help="print the SQL only")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, role, print_only, database, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError("Database roles are a PostgreSQL matter; SQLite has none.")
        statements = db_triggers.app_role_grants(connection, role)
        if print_only:
            self.stdout.write(";\n".join(statements) + ";")
            return
        with transaction.atomic(using=database), connection.cursor() as cursor:
            cursor.execute("SELECT rolname FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:
                raise CommandError(f"No role {role!r}: create it first (docs/production.md §3).")
            cursor.execute("SELECT current_user")
            if cursor.fetchone()[0] == role:
                raise CommandError("That is the role this command runs as: run it as the tables' owner.")
            for sql in statements:
                cursor.execute(sql)
        self.stdout.write(f"Granted {role}: {len(statements)} statements.")
