"""Issue 13 finding 4: digits that are not ASCII never reach `int()` (a 500 before).

`"²".isdigit()`, `"①".isdigit()` and `"٣٣³".isdigit()` are True, but `int()` refuses the
superscripts and circled digits (ValueError), and full-width `１２` would turn into 12.
"""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from visits.models import Topic, Visit

from ..factories import DepartmentFactory, EnterpriseFactory, OfficialFactory, VisitFactory

HOSTILE = ["²", "①", "٣٣³", "１２", "12²", "⑫"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def enterprise(db):
    return EnterpriseFactory(name="天津港保税区测试企业有限公司")


def visit_post(enterprise, **overrides) -> dict:
    data = {
        "enterprise": f"{enterprise.name} {enterprise.credit_code}",
        "visited_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "lead_officials": [],
        "topics": [Topic.PRODUCTION],
        "summary": "企业生产经营平稳",
        "submission_token": str(uuid.uuid4()),
        "issues-TOTAL_FORMS": "0",
        "issues-INITIAL_FORMS": "0",
        "issues-MIN_NUM_FORMS": "0",
        "issues-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("url", ["visits:create", "visits:plan"])
def test_enterprise_parameter_with_other_digits(as_user, official, enterprise, url, value):
    response = as_user(official).get(reverse(url), {"enterprise": value})
    assert response.status_code == 200
    assert not response.context["form"]["enterprise"].value()


def test_enterprise_parameter_with_ascii_digits_still_preselects(as_user, official, enterprise):
    response = as_user(official).get(reverse("visits:create"), {"enterprise": str(enterprise.pk)})
    assert enterprise.name in response.context["form"]["enterprise"].value()


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("field", ["lead_officials", "accompanying_departments"])
def test_official_and_department_ids_with_other_digits(as_user, official, enterprise, field, value):
    mayor = OfficialFactory(name="王副市长")
    data = visit_post(enterprise, lead_officials=[mayor.pk])
    data[field] = [value]
    response = as_user(official).post(reverse("visits:create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not Visit.objects.exists()


@pytest.mark.parametrize("field", ["lead_officials", "accompanying_departments"])
def test_edit_form_refuses_other_digits(as_user, official, field):
    visit = VisitFactory(created_by=official)
    mayor = OfficialFactory(name="李区长")
    data = visit_post(visit.enterprise, lead_officials=[mayor.pk], status=visit.status, version=visit.version)
    data[field] = ["①"]
    response = as_user(official).post(reverse("visits:edit", args=[visit.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    visit.refresh_from_db()
    assert visit.version == data["version"]


def test_ascii_ids_are_still_saved(as_user, official, enterprise):
    mayor = OfficialFactory(name="王副市长")
    department = DepartmentFactory(name="市商务局")
    data = visit_post(
        enterprise, lead_officials=[str(mayor.pk)], accompanying_departments=[str(department.pk)]
    )
    response = as_user(official).post(reverse("visits:create"), data)
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert list(visit.lead_officials.all()) == [mayor]
    assert list(visit.accompanying_departments.all()) == [department]
