"""SECURITY.md 28 and 29 at the workflow level: lost updates and racing transitions.

Real concurrency needs real row locks: PostgreSQL only (SQLite serialises every writer
with its database lock, so two threads there prove nothing).
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from issues import workflow
from issues.models import EventKind, Issue, IssueEvent, Status

from ..factories import IssueFactory

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL row locks (SQLite serialises writers); run with DATABASE_URL=postgres://...",
)


@pytest.fixture
def resolved_issue(official, coordinator, dept_a, staff_a):
    issue = IssueFactory(raised_by=official, visit__created_by=official)
    workflow.assign(
        issue_id=issue.pk,
        by=coordinator,
        department=dept_a,
        owner=staff_a,
        deadline=timezone.localdate() + timedelta(days=30),
    )
    return issue


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_threads_racing_resolve_and_reopen(resolved_issue, coordinator, staff_a):
    errors, unexpected = [], []
    barrier = threading.Barrier(2)

    def worker(user, step):
        try:
            barrier.wait(timeout=10)
            for _ in range(50):
                try:
                    step(user)
                except workflow.WorkflowError:  # includes ConflictError: refused, not lost
                    pass
        except Exception as exc:  # anything else is a bug
            unexpected.append(repr(exc))
        finally:
            connections.close_all()

    resolve = lambda u: workflow.resolve(issue_id=resolved_issue.pk, by=u, resolution="已解决")  # noqa: E731
    reopen = lambda u: workflow.reopen(issue_id=resolved_issue.pk, by=u, reason="重新处理")  # noqa: E731
    threads = [
        threading.Thread(target=worker, args=(staff_a, resolve)),
        threading.Thread(target=worker, args=(coordinator, reopen)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not unexpected, unexpected
    assert not errors
    issue = Issue.objects.get(pk=resolved_issue.pk)
    changes = IssueEvent.objects.filter(issue=issue).exclude(status_to="").order_by("at", "id")
    last = changes.last()
    assert issue.status == last.status_to
    # Every status change chains from the previous one: no transition was applied twice.
    pairs = list(changes.values_list("status_from", "status_to"))
    for (_, previous_to), (next_from, _) in zip(pairs, pairs[1:], strict=False):
        assert next_from == previous_to, pairs
    # Each successful step bumped the version exactly once.
    assert issue.version == 1 + IssueEvent.objects.filter(issue=issue).exclude(kind=EventKind.RAISED).count()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_edits_from_the_same_version_one_wins(resolved_issue, coordinator, admin_user):
    loaded = Issue.objects.get(pk=resolved_issue.pk).version
    results, barrier = {}, threading.Barrier(2)

    def edit(user, title):
        try:
            barrier.wait(timeout=10)
            workflow.edit_details(issue_id=resolved_issue.pk, by=user, expected_version=loaded, title=title)
            results[title] = "ok"
        except workflow.ConflictError:
            results[title] = "conflict"
        except Exception as exc:
            results[title] = repr(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=edit, args=(coordinator, "甲的标题")),
        threading.Thread(target=edit, args=(admin_user, "乙的标题")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results.values()) == ["conflict", "ok"], results
    winner = next(t for t, r in results.items() if r == "ok")
    issue = Issue.objects.get(pk=resolved_issue.pk)
    assert issue.title == winner
    assert issue.version == loaded + 1
    assert IssueEvent.objects.filter(issue=issue, kind=EventKind.EDITED).count() == 1


@pytest.mark.django_db
def test_sequential_stale_edit_is_refused(resolved_issue, coordinator, admin_user):
    """The same promise without threads, on every database: B's stale save is refused."""
    loaded = Issue.objects.get(pk=resolved_issue.pk).version
    workflow.edit_details(
        issue_id=resolved_issue.pk, by=coordinator, expected_version=loaded, title="A的标题"
    )
    with pytest.raises(workflow.ConflictError):
        workflow.edit_details(
            issue_id=resolved_issue.pk, by=admin_user, expected_version=loaded, title="B的标题"
        )
    issue = Issue.objects.get(pk=resolved_issue.pk)
    assert issue.title == "A的标题" and issue.status == Status.ASSIGNED
    assert IssueEvent.objects.filter(issue=issue, kind=EventKind.EDITED).count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_survey_import_waits_for_the_enterprises_it_touches_and_plans_from_fresh_rows(coordinator):
    """Review finding 10: an import planned outside its write transaction could overwrite a
    change made meanwhile from its stale plan. Now it locks the enterprises it touches, then
    plans: here it waits for a transaction holding one of them, and sees what that wrote."""
    import time
    from pathlib import Path

    from django.db import transaction

    from enterprises.models import Enterprise
    from enterprises.survey_import import import_survey_file

    data = (Path(__file__).resolve().parents[1] / "fixtures" / "survey" / "survey-utf8.csv").read_bytes()
    first = import_survey_file(
        data=data, filename="s.csv", survey_name="第一轮", by=coordinator, create_issues=False, dry_run=False
    )
    assert first.ok and first.written
    code = data.decode().splitlines()[1].split(",")[0]
    results, unexpected = [], []
    locked, done = threading.Event(), threading.Event()

    def importer():
        try:
            locked.wait(timeout=10)
            results.append(
                import_survey_file(
                    data=data,
                    filename="s.csv",
                    survey_name="第二轮",
                    by=coordinator,
                    create_issues=False,
                    dry_run=False,
                )  # fmt: skip
            )
        except Exception as exc:  # anything else is a bug
            unexpected.append(repr(exc))
        finally:
            done.set()
            connections.close_all()

    thread = threading.Thread(target=importer)
    thread.start()
    with transaction.atomic():
        enterprise = Enterprise.objects.select_for_update().get(credit_code=code)
        enterprise.name = "别人刚改的名字有限公司"
        enterprise.save(update_fields=["name"])
        locked.set()
        time.sleep(1.0)
        assert not done.is_set()  # the import waits for this transaction
    thread.join(timeout=30)
    assert not unexpected and len(results) == 1
    second = results[0]
    assert second.ok and second.written, [str(e) for e in second.errors]
    # Planned after the lock: it saw the changed name and put the file's name back (an
    # update), where a plan from before would have called the row unchanged and kept it.
    assert second.enterprises_updated == 1
    assert Enterprise.objects.get(credit_code=code).name != "别人刚改的名字有限公司"
