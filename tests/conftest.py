"""Shared fixtures: a named cast of users, one per role, two departments (A and B), and the
issues most tests start from (`new_issue`, `issue_a`)."""

import pytest
from django.conf import settings
from django.utils import timezone, translation

from .factories import DepartmentFactory, UserFactory
from .helpers import assign, login, raise_issue


@pytest.fixture(autouse=True)
def _axes_off_unless_asked(settings, request):
    # django-axes counts failed logins; tests that are not about lockout log in with
    # force_login and must not be affected by it (tests about lockout use the marker).
    if "axes" not in request.keywords:
        settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def _default_language():
    # A request through LocaleMiddleware leaves its language active in the thread; without
    # this, a test's language would depend on the test run before it (random order).
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _caches_afresh():
    # The official calendar entered by administrators is cached per process (issues.workdays),
    # and so are the public pages' rate-limit counters (the cache): a test's rows are rolled
    # back after it, so each test starts from the database and from no count.
    from django.core.cache import cache

    from issues import workdays

    workdays.reset()
    cache.clear()
    yield
    workdays.reset()


@pytest.fixture
def dept_a(db):
    return DepartmentFactory(name="市发展改革委")


@pytest.fixture
def dept_b(db):
    return DepartmentFactory(name="市税务局")


@pytest.fixture
def coordinator(db):
    return UserFactory(username="coordinator", role="coordinator")


@pytest.fixture
def leader(db):
    return UserFactory(username="leader", role="leader")


@pytest.fixture
def official(db):
    return UserFactory(username="official", role="official")


@pytest.fixture
def staff_a(dept_a):
    return UserFactory(username="staff_a", role="department", department=dept_a)


@pytest.fixture
def staff_b(dept_b):
    return UserFactory(username="staff_b", role="department", department=dept_b)


@pytest.fixture
def admin_user(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("admin", "admin@example.com", "x-admin-password-123")


@pytest.fixture
def as_user(client):
    """Log the test client in as a user: `as_user(coordinator).get(...)`."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def coordinator_client(client, coordinator):
    """The test client signed in as the coordinator, in English (see helpers.login)."""
    return login(client, coordinator)


@pytest.fixture
def english():
    """Messages in English, the source strings tests assert on; a module opts in with
    `pytestmark = pytest.mark.usefixtures("english")`."""
    with translation.override("en"):
        yield


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def new_issue(db, official):
    """Raised on a visit by `official`, not yet triaged."""
    return raise_issue(official)


@pytest.fixture
def issue_a(new_issue, coordinator, dept_a, staff_a):
    """Assigned to department A, owner staff_a, due in 30 days."""
    return assign(new_issue, coordinator, dept_a, staff_a)
