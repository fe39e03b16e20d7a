"""`manage.py feedback_link ISSUE_ID [ISSUE_ID …] [--qr DIR]`: a feedback link for each
resolved issue (for a batch of 回访, or a script that sends them): prints "id<TAB>url";
with --qr, writes each link's QR code as DIR/<id>.svg. Issuing a link revokes the issue's
earlier unused one."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from issues.feedback_links import issue_link, qr_svg
from issues.models import Issue, Status


class Command(BaseCommand):
    help = "Print a feedback link (and optionally its QR code) for each resolved issue given."

    def add_arguments(self, parser):
        parser.add_argument("issue_ids", nargs="+", type=int)
        parser.add_argument("--qr", type=Path, help="Write each link's QR code as an SVG in this directory")
        parser.add_argument("--base-url", default="", help="The app's address (default: SITE_URL)")

    def handle(self, *args, **options):
        base = options["base_url"] or settings.SITE_URL
        if not base:
            raise CommandError("Give --base-url or set SITE_URL: a link needs the app's address.")
        issues = {i.pk: i for i in Issue.objects.filter(pk__in=options["issue_ids"])}
        problems = []
        for issue_id in options["issue_ids"]:
            issue = issues.get(issue_id)
            if issue is None:
                problems.append(f"#{issue_id}: no such issue")
            elif issue.status != Status.RESOLVED:
                problems.append(f"#{issue_id}: not resolved ({issue.status}); nothing to ask the enterprise")
        if problems:
            raise CommandError("\n".join(problems))
        for issue_id in options["issue_ids"]:
            link = issue_link(issues[issue_id], by=None)
            url = link.url(base)
            self.stdout.write(f"{issue_id}\t{url}")
            if options["qr"]:
                options["qr"].mkdir(parents=True, exist_ok=True)
                (options["qr"] / f"{issue_id}.svg").write_text(qr_svg(url), encoding="utf-8")
