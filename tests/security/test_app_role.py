"""SECURITY.md / issue 13 #3: the append-only history cannot be erased by the app's own role.

On PostgreSQL: TRUNCATE is refused by a trigger whoever sends it; and the role the app runs
as (`manage.py grant_app_role`, docs/production.md §3) owns no table, so it can neither
disable nor drop that trigger, nor rewrite history — yet every workflow step still works.
"""

import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from issues import workflow
from issues.models import EventKind, IssueEvent

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="database roles and TRUNCATE are PostgreSQL's"
)
pytestmark = postgres_only


def refused(sql: str, params=()) -> str:
    """Run `sql`, expect the database to refuse it; the error's text."""
    with pytest.raises(DatabaseError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(error.value)


def test_truncate_of_the_history_is_refused_even_for_the_owner(issue_a):
    with connection.cursor() as cursor:  # PostgreSQL will not TRUNCATE with checks pending
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert "append-only" in refused("TRUNCATE issues_issueevent CASCADE")
    assert "append-only" in refused("TRUNCATE issues_feedbackround CASCADE")
    assert IssueEvent.objects.filter(issue=issue_a).exists()


@pytest.fixture
def as_app_role(db):
    """The test's connection switched to a fresh role set up by `grant_app_role` (rolled back
    with the test's transaction)."""
    role = f"evt_app_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(f"GRANT {role} TO CURRENT_USER")  # so that SET ROLE may switch to it
    call_command("grant_app_role", role, stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {role}")
    yield role
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


def test_the_app_role_cannot_erase_or_unguard_the_history(issue_a, staff_a, as_app_role):
    workflow.post_progress(issue_id=issue_a.pk, by=staff_a, note="现场勘查")  # works under the role
    event = IssueEvent.objects.filter(issue=issue_a).latest("id")
    assert event.kind == EventKind.STARTED

    assert "permission denied" in refused("TRUNCATE issues_issueevent")
    assert "must be owner" in refused("ALTER TABLE issues_issueevent DISABLE TRIGGER ALL")
    assert "must be owner" in refused("DROP TRIGGER issues_issueevent_no_truncate ON issues_issueevent")
    assert "must be owner" in refused("DROP TABLE issues_feedbackround")
    assert "permission denied" in refused("UPDATE issues_issueevent SET note = 'x' WHERE id = %s", [event.pk])
    assert "permission denied" in refused("DELETE FROM enterprises_historicalenterprise")
    assert IssueEvent.objects.get(pk=event.pk).note == "现场勘查"


def test_grant_app_role_refuses_a_missing_role_and_prints_its_sql(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No role"):
        call_command("grant_app_role", "no_such_role_here", stdout=StringIO())
    out = StringIO()
    call_command("grant_app_role", "visits_app", "--print", stdout=out)
    assert 'REVOKE UPDATE, DELETE ON "issues_issueevent", "issues_feedbackround"' in out.getvalue()
