"""`flush` that can empty the append-only history (events and feedback rounds).

Flushing wipes every table by definition (tests between cases, a reset of a demo), but
the history's triggers refuse DELETE (SQLite) and TRUNCATE (PostgreSQL). So they are
lifted for the flush and put back after, even on error.
"""

from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from issues import db_triggers


class Command(FlushCommand):
    def handle(self, **options):
        connection = connections[options["database"]]
        db_triggers.remove(connection)
        try:
            super().handle(**options)
        finally:
            db_triggers.install(connection)
