"""manage.py import_survey FILE [--survey NAME] [--dry-run] [--create-issues] [--user USERNAME]

The same all-or-nothing pipeline as the admin import, for large files. Prints every error
with its row, column and reason, and exits non-zero if there is any.
"""

import logging
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError
from django.utils.translation import gettext as _

from enterprises.formats import max_bytes
from enterprises.survey_import import import_survey_file

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Import questionnaire results (CSV in UTF-8/GB18030, or XLSX); nothing is imported if any row is bad."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV or XLSX file")
        parser.add_argument("--survey", help="survey round name (default: the file name without extension)")
        parser.add_argument("--dry-run", action="store_true", help="check and preview only; write nothing")
        parser.add_argument(
            "--create-issues", action="store_true", help="turn each stated need into an issue"
        )
        parser.add_argument("--user", help="username recorded as importer (required with --create-issues)")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            size = path.stat().st_size
            if size > max_bytes():
                # Read no more than the cap + 1 byte: the pipeline then refuses it with its message.
                with path.open("rb") as handle:
                    data = handle.read(max_bytes() + 1)
            else:
                data = path.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(file)s: %(reason)s") % {"file": path, "reason": exc.strerror}
            ) from exc

        user = None
        if options["user"]:
            try:
                user = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(_("No user named %(name)s.") % {"name": options["user"]}) from None
        if options["create_issues"] and user is None:
            raise CommandError(_("--create-issues needs --user USERNAME: issues record who raised them."))

        try:
            result = import_survey_file(
                data=data,
                filename=path.name,
                survey_name=options["survey"] or path.stem,
                by=user,
                create_issues=options["create_issues"],
                dry_run=options["dry_run"],
                progress=self._progress,
            )
        except OperationalError as exc:
            # The database could not write: disk full ("database or disk is full" on SQLite,
            # "No space left on device" on PostgreSQL), read-only, gone. The write is one
            # transaction, rolled back: nothing of the file is kept. One line, no traceback.
            self.stderr.write("")
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            log.error("survey import of %s failed in the database: %s", path.name, reason)
            raise CommandError(
                _(
                    "Nothing was imported from %(file)s: the database could not write (%(reason)s). "
                    "Free disk space or check the database, then run the import again."
                )
                % {"file": path.name, "reason": reason}
            ) from None
        self.stderr.write("")
        if not result.ok:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(
                _("%(n)s problem(s) found in %(file)s; nothing was imported.")
                % {"n": len(result.errors), "file": path.name}
            )
        heading = _("Dry run, nothing written") if result.dry_run else _("Imported")
        self.stdout.write(
            f"{heading}: {path.name} → “{result.survey_name}” ({result.kind}"
            f"{', ' + result.encoding if result.encoding else ''}), {result.total_rows} rows"
        )
        for label, created, updated, unchanged in (
            (
                _("enterprises"),
                result.enterprises_created,
                result.enterprises_updated,
                result.enterprises_unchanged,
            ),
            (_("responses"), result.responses_created, result.responses_updated, result.responses_unchanged),
        ):
            self.stdout.write(
                "  "
                + _("%(label)s: %(c)s new, %(u)s updated, %(n)s unchanged")
                % {"label": label, "c": created, "u": updated, "n": unchanged}
            )
        self.stdout.write("  " + _("issues created: %(n)s") % {"n": result.issues_created})

    def _progress(self, stage: str, done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        bar = "#" * filled + "-" * (width - filled)
        self.stderr.write(f"\r{stage:<6} [{bar}] {done}/{total}", ending="")
        self.stderr.flush()
