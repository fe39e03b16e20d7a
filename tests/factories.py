"""factory_boy factories: real rows in the test database, no mocks."""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from enterprises.credit_code import ALPHABET, check_character
from enterprises.models import Contact, District, Enterprise, Sector, Survey, SurveyResponse
from issues.models import Category, Department, Issue, Source
from issues.workdays import add_workdays
from issues.workflow import RESPONSE_WORKDAYS
from visits.models import Official, Visit, VisitStatus


def valid_credit_code(n: int) -> str:
    """A fictional but valid code: 9112 + area 0116 + a 9-character serial from n."""
    serial = ""
    for _ in range(9):
        n, r = divmod(n, len(ALPHABET))
        serial = ALPHABET[r] + serial
    base = "91120116" + serial
    return base + check_character(base)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery-9")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))
            if extracted in ("coordinator", "administrator"):
                self.is_staff = True
            self.save()

    @factory.post_generation
    def department(self, create, extracted, **kwargs):
        if create and extracted:
            extracted.members.add(self)


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ("name",)

    name = "滨海新区"


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"市测试局{n}")


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    name = factory.Sequence(lambda n: f"天津测试企业{n}有限公司")
    credit_code = factory.Sequence(lambda n: valid_credit_code(n + 1000))
    sector = Sector.INDUSTRIAL
    district = factory.SubFactory(DistrictFactory)
    is_key = True


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    enterprise = factory.SubFactory(EnterpriseFactory)
    name = "张先生"
    phone = "022-12345678"


class OfficialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Official

    name = factory.Sequence(lambda n: f"官员{n}")
    title = "副市长"


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit
        skip_postgeneration_save = True

    enterprise = factory.SubFactory(EnterpriseFactory)
    visited_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=7))
    status = VisitStatus.COMPLETED
    created_by = factory.SubFactory(UserFactory, role="official")
    summary = "走访了解生产经营情况"

    @factory.post_generation
    def lead_officials(self, create, extracted, **kwargs):
        if create:
            self.lead_officials.set(extracted or [OfficialFactory()])


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey
        django_get_or_create = ("name",)

    name = "2023年重点企业问卷"


class SurveyResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyResponse

    survey = factory.SubFactory(SurveyFactory)
    enterprise = factory.SubFactory(EnterpriseFactory)
    submitted_on = factory.LazyFunction(timezone.localdate)


def category(code: str = "approvals") -> Category:
    """Categories are seeded by a migration."""
    return Category.objects.get(code=code)


class IssueFactory(factory.django.DjangoModelFactory):
    """A new, unassigned issue raised on a visit. Move it on with `issues.workflow`."""

    class Meta:
        model = Issue

    enterprise = factory.SubFactory(EnterpriseFactory)
    source = Source.VISIT
    visit = factory.SubFactory(VisitFactory, enterprise=factory.SelfAttribute("..enterprise"))
    title = factory.Sequence(lambda n: f"问题{n}：用电增容审批")
    description = "企业反映扩建项目需要能评审批"
    category = factory.LazyFunction(category)
    raised_on = factory.LazyFunction(timezone.localdate)
    respond_by = factory.LazyAttribute(lambda o: add_workdays(o.raised_on, RESPONSE_WORKDAYS))
    raised_by = factory.SelfAttribute("visit.created_by")
