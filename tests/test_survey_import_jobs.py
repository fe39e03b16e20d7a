"""The admin's survey confirm as a background task (issue 13, finding 8), on real files.

A 1,500-row survey confirmed in the request ran past the 30 s worker timeout. The confirm
now creates an ImportJob and queues `enterprises.import_jobs.run_import_job` after its
commit; the browser goes to the job's page. The tests run with the immediate backend (the
job is done when its page opens, as with `make run`) and with django-tasks' DummyBackend,
which keeps the task queued until the test runs it by hand (as a `db_worker` would).
"""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks import task_backends

from enterprises import import_jobs
from enterprises.models import District, ImportJob, SurveyResponse

from .factories import UserFactory
from .test_survey_import import FIXTURES, IMPORT_URL, SURVEY, admin_upload, confirm_preview, counts

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
SAMPLE = FIXTURES / "survey-gb18030.csv"  # the sample of shared/data: 12 rows, 14 needs


pytestmark = pytest.mark.usefixtures("english")


def confirmed(client, path=SAMPLE, **kwargs):
    """Upload, preview and confirm; returns the confirm's response (a redirect to the job)."""
    preview, _ = admin_upload(client, path, confirm=False, **kwargs)
    response = confirm_preview(client, preview)
    assert response.status_code == 302, response.content.decode()[:500]
    assert re.fullmatch(r"/admin/enterprises/survey/import/job/\d+/", response["Location"])
    return response


@pytest.mark.django_db
def test_the_confirm_creates_a_job_and_the_import_writes_its_rows(coordinator_client, coordinator):
    response = confirmed(coordinator_client, create_issues=True)
    job = ImportJob.objects.get()
    assert response["Location"] == f"/admin/enterprises/survey/import/job/{job.pk}/"
    assert (job.created_by, job.survey_name, job.filename) == (coordinator, SURVEY, "survey-gb18030.csv")
    assert job.status == ImportJob.Status.DONE and job.started_at and job.finished_at
    assert counts() == (12, 1, 12, 14)
    assert job.survey.name == SURVEY
    assert job.rows_total == 12 and job.errors == [] and job.error_count == 0
    assert job.summary["enterprises_created"] == 12 and job.summary["issues_created"] == 14
    # Progress was recorded as it went: the rows checked, then the writing phase.
    assert (job.phase, job.rows_checked) == (ImportJob.Phase.WRITING, 12)
    assert bytes(job.upload) == b""  # the file is not kept once imported
    responses = SurveyResponse.objects.filter(imported_by=coordinator, source_file="survey-gb18030.csv")
    assert responses.count() == 12


@pytest.mark.django_db
def test_the_job_page_shows_the_result_and_stops_refreshing(coordinator_client):
    response = confirmed(coordinator_client, create_issues=True)
    page = coordinator_client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert f"Imported 12 rows into “{SURVEY}”" in body
    start = body.index('id="import-summary"')
    summary = body[start : body.index("</table>", start)]
    assert "<th>Enterprises</th><td>12</td><td>0</td><td>0</td>" in summary
    assert "<th>Issues created</th><td>14</td>" in summary
    assert 'http-equiv="refresh"' not in body
    assert coordinator_client.get(page.context["responses_url"]).status_code == 200
    # The import page lists the user's recent imports, linking the job.
    upload_page = coordinator_client.get(IMPORT_URL).content.decode()
    assert f'href="{response["Location"]}"' in upload_page


@pytest.mark.django_db
def test_only_the_owner_sees_a_job_another_coordinator_gets_404(
    coordinator_client, client, official, admin_user
):
    response = confirmed(coordinator_client)
    url = response["Location"]
    other = UserFactory(username="coordinator2", role="coordinator")
    client.force_login(other)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert client.get("/admin/enterprises/survey/import/job/999999/").status_code == 404
    # A superuser may look, but a file kept for checking again stays its owner's.
    client.force_login(admin_user)
    page = client.get(url)
    assert page.status_code == 200 and "Imported 12 rows" in page.content.decode()
    # No import permission: refused like the import page itself.
    client.force_login(official)
    assert client.get(url).status_code in (302, 403)


@pytest.mark.django_db
def test_a_failing_import_writes_nothing_and_the_job_names_row_and_column(coordinator_client):
    preview, _ = admin_upload(coordinator_client, SAMPLE, create_issues=True, confirm=False)
    before = counts()
    # Between the preview and the worker, a district of the file is renamed: row 2's 北辰区
    # is unknown when the background import checks the file again.
    District.objects.filter(name="北辰区").update(name="北辰区（旧）")
    response = confirm_preview(coordinator_client, preview)
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED and job.finished_at
    assert counts() == before
    assert job.error_count == len(job.errors) > 0
    first = job.errors[0]
    assert (first["row"], first["column"]) == (2, "所在区")
    assert "Unknown district “北辰区”" in first["reason"]
    assert not job.may_check_again and bytes(job.upload) == b""  # the file's own problem
    body = coordinator_client.get(response["Location"]).content.decode()
    assert "The import failed with" in body and "Nothing was imported." in body
    assert '<tr class="import-error"><td>2</td><td>所在区</td><td>Unknown district “北辰区”' in body
    assert 'id="upload-again"' in body and 'id="check-again-form"' not in body
    assert 'http-equiv="refresh"' not in body


@pytest.mark.django_db
def test_an_unexpected_error_fails_the_job_with_a_message_and_keeps_the_file(coordinator_client, monkeypatch):
    preview, _ = admin_upload(coordinator_client, SAMPLE, confirm=False)

    def broken(**kwargs):
        raise RuntimeError("boom")

    with monkeypatch.context() as patch:
        patch.setattr(import_jobs, "import_survey_file", broken)
        response = confirm_preview(coordinator_client, preview)
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED and counts() == (0, 0, 0, 0)
    assert job.errors[0]["row"] is None and "unexpected error (RuntimeError)" in job.errors[0]["reason"]
    body = coordinator_client.get(response["Location"]).content.decode()
    assert 'id="check-again-form"' in body
    # Checking again shows the preview of the kept file; confirming it imports.
    again = coordinator_client.post(response["Location"])
    assert again.status_code == 200 and again.context["confirm_form"] is not None
    assert "Check the preview below and confirm again." in again.content.decode()
    assert confirm_preview(coordinator_client, again).status_code == 302
    assert counts() == (12, 1, 12, 0)
    assert ImportJob.objects.filter(status=ImportJob.Status.DONE).count() == 1


@pytest.mark.django_db
def test_with_a_queue_the_page_shows_queued_and_nothing_is_written_until_the_task_runs(coordinator_client):
    with override_settings(TASKS=DUMMY_TASKS):
        backend = task_backends["default"]
        response = confirmed(coordinator_client, create_issues=True)
        job = ImportJob.objects.get()
        assert job.status == ImportJob.Status.QUEUED and counts() == (0, 0, 0, 0)
        assert len(bytes(job.upload)) == SAMPLE.stat().st_size  # the worker needs no shared disk
        body = coordinator_client.get(response["Location"]).content.decode()
        assert 'id="job-status" class="job-queued"' in body
        assert '<meta http-equiv="refresh" content="3">' in body
        # The queued task, run by hand as a db_worker would run it.
        [queued] = backend.results
        assert queued.task.name == "run_import_job" and queued.args == [job.pk]
        assert queued.task.call(*queued.args, **queued.kwargs) == ImportJob.Status.DONE
        assert counts() == (12, 1, 12, 14)
        body = coordinator_client.get(response["Location"]).content.decode()
        assert "Imported 12 rows" in body and 'http-equiv="refresh"' not in body
        # Run twice (a task delivered again): the job is not run again.
        assert queued.task.call(*queued.args) == "nothing to do"
        assert counts() == (12, 1, 12, 14)


@pytest.mark.django_db
def test_a_running_job_shows_its_phase_and_progress(coordinator_client):
    with override_settings(TASKS=DUMMY_TASKS):
        response = confirmed(coordinator_client)
    job = ImportJob.objects.get()
    url = response["Location"]
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, phase=ImportJob.Phase.CHECKING, rows_checked=500, rows_total=1500
    )
    body = coordinator_client.get(url).content.decode()
    assert "500 of 1500 rows checked." in body
    assert '<progress id="job-progress" value="500" max="1500"></progress>' in body
    assert 'http-equiv="refresh"' in body
    ImportJob.objects.filter(pk=job.pk).update(phase=ImportJob.Phase.WRITING, started_at=timezone.now())
    body = coordinator_client.get(url).content.decode()
    assert "1500 rows checked, now being written. Nothing is saved until all of them are" in body
    assert 'http-equiv="refresh"' in body and 'id="job-stalled"' not in body
    # Running for over 30 minutes: the page says its worker may have stopped.
    ImportJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(minutes=31))
    body = coordinator_client.get(url).content.decode()
    assert 'id="job-stalled"' in body and "its worker may have stopped" in body


@pytest.mark.django_db
def test_a_job_nobody_starts_says_the_worker_may_not_be_running(coordinator_client):
    with override_settings(TASKS=DUMMY_TASKS):
        response = confirmed(coordinator_client)
    url = response["Location"]
    assert 'id="job-stalled"' not in coordinator_client.get(url).content.decode()
    ImportJob.objects.update(created_at=timezone.now() - timedelta(minutes=6))
    body = coordinator_client.get(url).content.decode()
    assert 'id="job-stalled"' in body and "the task worker (db_worker) may not be running" in body


@pytest.mark.django_db
def test_the_job_page_reads_a_fixed_number_of_queries(coordinator_client):
    response = confirmed(coordinator_client)
    url = response["Location"]
    coordinator_client.get(url)  # warm: the session, the admin's caches
    with CaptureQueriesContext(connection) as queries:
        assert coordinator_client.get(url).status_code == 200
    assert len(queries) <= 6, [q["sql"] for q in queries.captured_queries]
    assert not any('"upload"' in q["sql"] for q in queries.captured_queries)  # the file is not read
