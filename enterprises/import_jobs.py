"""The admin's survey import confirmed as a background task (issue 13, finding 8).

A 1,500-row survey with its needs raised as issues took longer than the WSGI worker's
30 s timeout when confirmed in the request (500, nothing written). Now the confirm stores
the checked file in an ``ImportJob`` and queues ``run_import_job`` after its commit; the
browser goes to the job's page, which refreshes itself until the job is done or failed.

- With the ImmediateBackend (development, tests, the default) the task runs at once after
  the confirm's commit, inside that request: the job page opens already done.
- With ``TASKS_BACKEND=database`` it waits in the database for ``manage.py db_worker``
  (docs/production.md §5a), which needs no shared disk: the file is in the job row.

Progress is recorded honestly, as phases: "reading", then "checking" with the rows
checked (saved every 500 rows, before the import's transaction begins), then "writing".
The write is ONE all-or-nothing transaction (``import_survey_file``), and a row count
saved from inside it would be seen by nobody until it commits — on SQLite a second
connection could not even write while it runs. So the page says "writing N rows; nothing
is saved until all are" instead of counting, and then the result.

The task runs the same pipeline as the command and the old in-request confirm: the same
checks, the same key-enterprise rule (only the changes the preview showed, when ticked),
the same access-log entry. A failure of any kind leaves nothing written and the job
"failed" with the problems (the first 100 and the count), or one message for the whole job.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from .models import ImportJob, Survey
from .survey_import import import_survey_file

log = logging.getLogger(__name__)
KEEP_UPLOAD_DAYS = 1  # a failed job's file, for "check it again"; then it is emptied


def start(
    *,
    user,
    data: bytes,
    filename: str,
    survey_name: str,
    create_issues: bool,
    allow_key_changes: bool,
    key_changes_seen: str,
    language: str,
) -> ImportJob:
    """Create the job and queue it once the job row is committed (the worker must find it)."""
    with transaction.atomic():
        # Files of old failed jobs nobody checked again: not kept for ever.
        ImportJob.objects.filter(
            created_at__lt=timezone.now() - timedelta(days=KEEP_UPLOAD_DAYS), may_check_again=True
        ).update(upload=b"", may_check_again=False)
        job = ImportJob.objects.create(
            created_by=user,
            survey_name=survey_name,
            filename=filename[-255:],
            create_issues=create_issues,
            allow_key_changes=allow_key_changes,
            key_changes_seen=key_changes_seen,
            language=language[:10],
            upload=data,
            digest=hashlib.sha256(data).hexdigest(),
        )
        transaction.on_commit(lambda: run_import_job.enqueue(job.pk))
    return job


@task()
def run_import_job(job_id: int) -> str:
    """Run one queued import job to its end: done with the counts, or failed with the problems."""
    # Claimed by a conditional update: a job queued twice (or picked by two workers) runs once.
    now = timezone.now()
    if not ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, phase=ImportJob.Phase.READING, started_at=now
    ):
        return "nothing to do"
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            _run(job)
        except Exception as error:  # noqa: BLE001 (whatever it was, the job must not stay "running")
            log.exception("survey import job %s failed", job_id)
            _fail_whole(job, error)
            return "failed"
    return job.status


def _run(job: ImportJob):
    data = bytes(job.upload)
    if hashlib.sha256(data).hexdigest() != job.digest:
        raise ValueError("the stored file does not match its digest")

    def progress(stage: str, done: int, total: int) -> None:
        # Only the reports made before the import's transaction: see the module's docstring.
        if stage == "check":
            ImportJob.objects.filter(pk=job.pk).update(
                phase=ImportJob.Phase.CHECKING, rows_checked=done, rows_total=total
            )
        elif stage == "write" and done == 0:
            ImportJob.objects.filter(pk=job.pk).update(phase=ImportJob.Phase.WRITING, rows_total=total)

    result = import_survey_file(
        data=data,
        filename=job.filename,
        survey_name=job.survey_name,
        by=job.created_by,
        create_issues=job.create_issues,
        dry_run=False,
        allow_key_changes=job.allow_key_changes,
        key_changes_seen=job.key_changes_seen,
        progress=progress,
    )
    job.refresh_from_db(fields=["phase", "rows_checked", "rows_total"])
    job.rows_total = result.total_rows
    job.summary = {
        **result.counts(),
        "rows": result.total_rows,
        "kind": result.kind,
        "encoding": result.encoding,
    }
    job.errors = [{"row": e.row, "column": e.column, "reason": e.reason} for e in result.errors]
    job.error_count = result.error_count
    job.key_changes_refused = result.key_changes_refused
    job.finished_at = timezone.now()
    if result.ok and result.written:
        job.status = ImportJob.Status.DONE
        job.survey = Survey.objects.filter(name=result.survey_name).first()
        job.upload, job.may_check_again = b"", False
    else:
        job.status = ImportJob.Status.FAILED
        # Problems of the rows stay problems of the file: nothing to check again. The
        # others (key enterprises changed since the preview, the database, a concurrent
        # import) keep the file, so its owner can see the preview again and confirm.
        job.may_check_again = result.key_changes_refused or not any(e.row for e in result.errors)
        if not job.may_check_again:
            job.upload = b""
    fields = [f.name for f in ImportJob._meta.concrete_fields if f.name != "id"]
    if job.may_check_again:
        fields.remove("upload")  # kept as it is: no need to write the file again
    job.save(update_fields=fields)
    return result


def _fail_whole(job: ImportJob, error: Exception) -> None:
    message = _(
        "Nothing was imported: the import stopped on an unexpected error (%(error)s). "
        "Check the file again, or tell the administrator if it happens again."
    ) % {"error": type(error).__name__}
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED,
        finished_at=timezone.now(),
        errors=[{"row": None, "column": "", "reason": message}],
        error_count=1,
        may_check_again=True,
    )
