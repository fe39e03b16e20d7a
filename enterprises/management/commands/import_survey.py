"""manage.py import_survey FILE [--survey NAME] [--dry-run] [--create-issues] [--user USERNAME]
[--allow-key-changes]

The same all-or-nothing pipeline as the admin import, for large files. Prints the first
100 problems with their row, column and reason (and how many more there are), and exits
non-zero if there is any. Lists every changed field of an existing enterprise (old → new)
and every need already open as an issue; a change to a key enterprise imports nothing
unless --allow-key-changes is given.
"""

import logging
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from enterprises.formats import max_bytes
from enterprises.survey_import import ERRORS_KEPT, import_survey_file

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
        parser.add_argument(
            "--allow-key-changes",
            action="store_true",
            help="accept changes to key enterprises (name, district, sector, employees); "
            "without it such a file imports nothing",
        )

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
                allow_key_changes=options["allow_key_changes"],
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
            if result.errors_not_listed:
                more = result.errors_not_listed
                self.stderr.write(
                    ngettext("… and %(counter)s more problem", "… and %(counter)s more problems", more)
                    % {"counter": more}
                )
            if result.key_changes_refused:
                raise CommandError(
                    _(
                        "Nothing was imported from %(file)s: it changes %(n)s field(s) of key "
                        "enterprises. Check them, then run again with --allow-key-changes."
                    )
                    % {"n": result.error_count, "file": path.name}
                )
            raise CommandError(
                _("%(n)s problem(s) found in %(file)s; nothing was imported.")
                % {"n": result.error_count, "file": path.name}
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
        if result.issues_already_open:
            self.stdout.write(
                "  "
                + _("needs already open as an issue, not raised again: %(n)s")
                % {"n": result.issues_already_open}
            )
        self._write_changes(result)
        self._write_already_open(result)
        if result.dry_run and result.key_change_rows:
            self.stdout.write(
                _(
                    "Key enterprises would change (marked above): the import needs --allow-key-changes, "
                    "or it imports nothing."
                )
            )

    def _write_changes(self, result) -> None:
        """Every changed field of each existing enterprise (the first 100 enterprises)."""
        rows = result.changed_rows
        if not rows:
            return
        self.stdout.write(_("Changes to existing enterprises:"))
        for row in rows[:ERRORS_KEPT]:
            fields = "; ".join(
                _("%(column)s “%(old)s” → “%(new)s”") % {"column": c.column, "old": c.old, "new": c.new}
                for c in row.changes
            )
            where = _("row %(row)s · %(name)s (%(code)s)") % {
                "row": row.row,
                "name": row.enterprise_name,
                "code": row.credit_code,
            }
            mark = f" [{_('key enterprise')}]" if row.is_key else ""
            self.stdout.write(f"  {where}{mark}: {fields}")
        if len(rows) > ERRORS_KEPT:
            self.stdout.write("  " + _("… and %(count)s more") % {"count": len(rows) - ERRORS_KEPT})

    def _write_already_open(self, result) -> None:
        lines = [
            _("row %(row)s · %(name)s: “%(need)s” already open as #%(issue)s")
            % {"row": row.row, "name": row.enterprise_name, "need": item.need, "issue": item.issue_id}
            for row in result.already_open_rows
            for item in row.already_open
        ]
        if not lines:
            return
        self.stdout.write(_("Needs already open as an issue (not raised again):"))
        for line in lines[:ERRORS_KEPT]:
            self.stdout.write("  " + line)
        if len(lines) > ERRORS_KEPT:
            self.stdout.write("  " + _("… and %(count)s more") % {"count": len(lines) - ERRORS_KEPT})

    def _progress(self, stage: str, done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        bar = "#" * filled + "-" * (width - filled)
        self.stderr.write(f"\r{stage:<6} [{bar}] {done}/{total}", ending="")
        self.stderr.flush()
