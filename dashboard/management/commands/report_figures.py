"""`manage.py report_figures --from YYYY-MM-DD --to YYYY-MM-DD [--district ID|name]
[--department ID|name] [--sector VALUE] [--json]`: the dashboard's period figures for the
monthly and quarterly reports (月报, 季报), as a table or as JSON. Every rate is
{"numerator", "denominator", "percent"} (percent rounded half-up to one decimal, null when
there is nothing to divide by); a figure that does not apply under a department filter
is null. The same numbers as the dashboard and its XLSX download.
"""

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dashboard import figures
from dashboard.views import report_rows
from enterprises.models import District, Sector
from issues.models import Department


class Command(BaseCommand):
    help = "The dashboard's period figures for a date range, as a table or JSON (月报, 季报)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", type=date.fromisoformat, required=True)
        parser.add_argument("--to", dest="end", type=date.fromisoformat, required=True)
        parser.add_argument("--district", help="District id or name")
        parser.add_argument("--department", help="Lead department id or name")
        parser.add_argument("--sector", choices=Sector.values)
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a table")

    def handle(self, *args, **options):
        if options["start"] > options["end"]:
            raise CommandError("--from is after --to.")
        filters = figures.Filters(
            district=self._pick(District, options["district"]),
            sector=options["sector"],
            department=self._pick(Department, options["department"]),
        )
        period = figures.Period(options["start"], options["end"])
        report = figures.report(period, filters, timezone.localdate())
        if options["json"]:
            self.stdout.write(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
            return
        header, rows = report_rows(report)
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write(
                "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
            )

    def _pick(self, model, value):
        if not value:
            return None
        found = (
            model.objects.filter(pk=int(value))
            if value.isascii() and value.isdigit()
            else model.objects.filter(name=value)
        )
        obj = found.first()
        if obj is None:
            raise CommandError(f"No {model._meta.verbose_name} “{value}”.")
        return obj.pk
