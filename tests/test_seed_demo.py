"""`manage.py seed_demo` on a fresh database: it loads once, keys on natural keys, and refuses
to run in production. What the demo holds is tested in test_demo_story.py, on one shared seed
(a module of its own, so that seed can never be present when these tests start)."""

from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from issues import demo
from issues.models import (
    Department,
)
from issues.roles import Role, roles_of

PASSWORD = "demo-password-2026"


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    """Rows in every table of our apps and auth, M2M tables included; not the change trail
    (issues.trail), which records every change made between two seeds, as it should."""
    counts = {}
    for label in ("enterprises", "visits", "issues", "auth"):
        for model in apps.get_app_config(label).get_models():
            if model.__name__.startswith("Historical"):
                continue
            counts[model._meta.label] = model.objects.count()
            for field in model._meta.local_many_to_many:
                through = field.remote_field.through
                counts[through._meta.label] = through.objects.count()
    return counts


def test_seeding_twice_changes_no_row_count(db):
    first_output = seed()
    first = row_counts()
    # Meanwhile the coordinator changed their password and lost their group by mistake.
    User = get_user_model()
    coordinator = User.objects.get(username="coordinator")
    coordinator.set_password("changed-by-the-user-2026")
    coordinator.save()
    coordinator.groups.clear()
    second_output = seed()
    assert row_counts() == first
    assert "Demo data loaded" in first_output
    assert "already present" in second_output
    coordinator = User.objects.get(username="coordinator")
    assert coordinator.check_password("changed-by-the-user-2026")
    assert Role.COORDINATOR in roles_of(coordinator)
    assert "password unchanged" in second_output
    assert first["enterprises.Enterprise"] == 50
    assert first["issues.Issue"] > 60
    assert first["issues.IssueEvent"] > first["issues.Issue"]


def test_reference_data_is_keyed_on_natural_keys(db):
    # Someone ran an older demo that created only some departments and enterprises.
    Department.objects.create(name="市税务局")
    seed()
    assert Department.objects.filter(name="市税务局").count() == 1
    assert Department.objects.count() == len(demo.DEPARTMENTS)
    assert get_user_model().objects.filter(username="coordinator").count() == 1


def test_refuses_to_run_in_production(db, settings):
    settings.DEBUG = False
    settings.TESTING = False
    before = row_counts()
    with pytest.raises(CommandError):
        call_command("seed_demo", stdout=StringIO())
    assert row_counts() == before
