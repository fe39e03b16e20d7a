"""`manage.py rebuild_figures [--check]`: the dashboard's daily counts from the history.

`--check` (nightly): compare the stored counts with the history and exit 1 on any
difference, listing it; nothing is written. Without it: make them again.
"""

from django.core.management.base import BaseCommand, CommandError

from dashboard import rollup


class Command(BaseCommand):
    help = "Rebuild (or with --check, verify) the dashboard's daily counts from the issues' history."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Only compare; exit 1 on any difference.")
        parser.add_argument("--database", default="default")

    def handle(self, *args, **options):
        using = options["database"]
        if options["check"]:
            problems = rollup.differences(using)
            if problems:
                for line in problems[:50]:
                    self.stderr.write(line)
                raise CommandError(f"{len(problems)} daily count(s) differ from the history.")
            self.stdout.write("The dashboard's daily counts match the history.")
            return
        rows = rollup.rebuild(using)
        self.stdout.write(f"Rebuilt {rows} daily count rows from the history.")
