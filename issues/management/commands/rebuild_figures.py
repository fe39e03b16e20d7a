"""`manage.py rebuild_figures [--check]`: the dashboard's per-day rollup, from the issues.

    manage.py rebuild_figures           # recompute issues_issuedayfigure from every issue
    manage.py rebuild_figures --check   # compare only; exit status 1 on any difference (cron)

The rollup is kept by database triggers (see `issues.figure_rollup`); this recomputes it
with the independent Python definition, under a SHARE lock on issues and enterprises
(writers wait a few seconds; readers do not).
"""

from django.core.management.base import BaseCommand, CommandError

from issues import figure_rollup


class Command(BaseCommand):
    help = "Recompute (or with --check, verify) the dashboard's per-day figure rollup."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Compare only; exit 1 on a difference.")
        parser.add_argument("--database", default="default")

    def handle(self, *args, **opts):
        using = opts["database"]
        if opts["check"]:
            found = figure_rollup.differences(using)
            if found:
                for line in found[:50]:
                    self.stderr.write(line)
                raise CommandError(f"The figure rollup differs from the issues in {len(found)} rows.")
            self.stdout.write(self.style.SUCCESS("The figure rollup matches the issues."))
            return
        rows = figure_rollup.rebuild(using)
        self.stdout.write(self.style.SUCCESS(f"Figure rollup rebuilt: {rows} rows."))
