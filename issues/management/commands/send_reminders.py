"""`manage.py send_reminders [--date YYYY-MM-DD] [--weekly] [--base-url URL]`: the daily cron job.

Each owner (and each department's members, for its issues without an owner) gets one
message listing their blue, yellow and red issues; coordinators get the red list;
leadership gets the weekly summary on Mondays or with --weekly. Running it twice on a day
sends nothing twice (see `issues.reminders`). Mail goes through the EMAIL_* settings
(SMTP from the environment; the console backend by default).
"""

from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from issues.reminders import send_reminders


class Command(BaseCommand):
    help = "Email today's blue/yellow/red issue reminders (idempotent per day)."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=date.fromisoformat, help="The day to remind for (default: today).")
        parser.add_argument(
            "--weekly", action="store_true", help="Send the leadership summary even if not Monday."
        )
        parser.add_argument(
            "--base-url",
            default=settings.SITE_URL,
            help="Prefix for links in the messages, e.g. https://visits.example.gov.cn",
        )

    def handle(self, *args, **opts):
        today = opts["date"] or timezone.localdate()
        outcome = send_reminders(today, weekly=opts["weekly"], base_url=opts["base_url"])
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(outcome.by_kind.items())) or "none"
        self.stdout.write(
            f"{today}: sent {outcome.sent} ({kinds}); already sent {outcome.already_sent}; "
            f"no email address {outcome.no_email}; failed {outcome.failed}"
        )
        if outcome.failed:
            # A non-zero exit makes cron report it; the failed ones are retried on the next run.
            raise SystemExit(1)
