"""`flush` that can empty the append-only event log.

Flushing wipes every table by definition (tests between cases, a reset of a demo). On
SQLite it deletes row by row, which the append-only trigger refuses, so the trigger is
lifted for the flush and put back after. (PostgreSQL flushes with TRUNCATE, which row
triggers do not see.)
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
