"""Remove access log entries older than ACCESS_LOG_DAYS (or --days): run daily from cron."""

from django.core.management.base import BaseCommand, CommandError

from issues import access_log


class Command(BaseCommand):
    help = "Delete access log entries older than ACCESS_LOG_DAYS days (or --days N)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="keep this many days instead")

    def handle(self, *args, days=None, **options):
        days = access_log.retention_days() if days is None else days
        if days < 1:
            raise CommandError("--days must be at least 1.")
        deleted = access_log.prune(days)
        self.stdout.write(f"{deleted} access log entries older than {days} days deleted.")
