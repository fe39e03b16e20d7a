"""`flush` that can empty the append-only event log and the figure rollup.

Flushing wipes every table by definition (tests between cases, a reset of a demo). On
SQLite it deletes row by row: the append-only trigger would refuse that, and the rollup
triggers would write negative counts for issues deleted after the rollup table. So both
kinds of trigger are lifted for the flush and put back after. (PostgreSQL flushes with
TRUNCATE, which row triggers do not see.)
"""

from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from issues import db_triggers, figure_rollup


class Command(FlushCommand):
    def handle(self, **options):
        connection = connections[options["database"]]
        db_triggers.remove(connection)
        figure_rollup.remove(connection)
        try:
            super().handle(**options)
        finally:
            db_triggers.install(connection)
            figure_rollup.install(connection)
