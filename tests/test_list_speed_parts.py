"""The parts the lists were made faster with (issue 7) still give exactly what they replaced:
the Python-rendered select box, the `in_subquery` lookup, the issue total read from the
rollup, and the one-markup issue list (a table on a desktop, cards on a phone)."""

import pytest
from django import forms
from django.db import connection
from django.db.models import Q
from django.test.html import parse_html
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe

from enterprises.forms import Select, bootstrap_widgets
from issues import workflow
from issues.models import CoDepartment, Department, Issue, Status

from .factories import DepartmentFactory, IssueFactory, category

# -- the select box --------------------------------------------------------------------------


class Choices(forms.Form):
    plain = forms.ChoiceField(
        choices=[("", "All"), ("a", "A & <b>"), ("b", 'Say "hi"'), ("s", mark_safe("<i>safe</i>"))],
        required=False,
    )
    grouped = forms.ChoiceField(
        choices=[("x", "X"), ("Group <1>", [("g1", "G one"), ("g2", "G two")])], required=True
    )
    department = forms.ModelChoiceField(queryset=Department.objects.order_by("pk"), empty_label="All")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        {},
        {"plain": "a", "grouped": "g2"},
        {"plain": "zz", "grouped": "<script>"},
        {"plain": "s"},
        {"department": "1"},
    ],
)
def test_python_select_renders_what_djangos_select_renders(data):
    DepartmentFactory(name="发改委 <&>")
    DepartmentFactory(name='"quoted"')
    if data.get("department"):
        data = {**data, "department": str(Department.objects.order_by("pk").last().pk)}
    django_form = Choices(data or None)
    ours = Choices(data or None)
    for field in ours.fields.values():
        field.widget = Select(
            attrs={"class": "form-select", "data-x": "1", "id": "x"}, choices=field.widget.choices
        )
        field.widget.is_required = field.required
    for field in django_form.fields.values():
        field.widget.attrs.update({"class": "form-select", "data-x": "1", "id": "x"})
        field.widget.is_required = field.required
    for name in Choices.base_fields:  # the same elements, attributes and text (as HTML)
        assert parse_html(str(ours[name])) == parse_html(str(django_form[name])), name
    assert "&lt;script&gt;" not in str(ours["grouped"])  # an unknown value selects nothing
    assert "发改委 &lt;&amp;&gt;" in str(ours["department"])


@pytest.mark.django_db
def test_bootstrap_widgets_swaps_single_selects_only_and_keeps_model_choices_live():
    form = Choices()
    multiple = forms.MultipleChoiceField(choices=[("a", "A")])
    form.fields["many"] = multiple
    bootstrap_widgets(form.fields, size="sm")
    assert type(form.fields["plain"].widget) is Select
    assert type(form.fields["many"].widget) is forms.SelectMultiple
    assert form.fields["plain"].widget.attrs["class"] == "form-select form-select-sm"
    # The department list is read when the form is drawn, not when it was built.
    DepartmentFactory(name="新建的委办局")
    assert "新建的委办局" in str(form["department"])
    bootstrap_widgets(form.fields, size="sm")  # twice: the class is not repeated
    assert form.fields["plain"].widget.attrs["class"] == "form-select form-select-sm"


# -- in_subquery -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_in_subquery_finds_what_in_finds_and_is_an_index_condition_on_postgresql(dept_a, dept_b):
    lead = IssueFactory(lead_department=dept_a)
    co = IssueFactory(lead_department=dept_b)
    IssueFactory(lead_department=dept_b)
    CoDepartment.objects.create(issue=co, department=dept_a, report_by=co.raised_on)
    subquery = CoDepartment.objects.filter(department=dept_a).values("issue_id")
    ours = Issue.objects.filter(Q(lead_department=dept_a) | Q(pk__in_subquery=subquery))
    plain = Issue.objects.filter(Q(lead_department=dept_a) | Q(pk__in=subquery))
    assert (
        sorted(ours.values_list("pk", flat=True))
        == sorted(plain.values_list("pk", flat=True))
        == sorted([lead.pk, co.pk])
    )
    with CaptureQueriesContext(connection) as queries:
        list(ours)
    sql = queries.captured_queries[0]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(ARRAY(SELECT" in sql
    else:
        assert " IN (SELECT" in sql


@pytest.mark.django_db
def test_in_subquery_refuses_a_plain_list():
    with pytest.raises(ValueError, match="in_subquery takes a queryset"):
        list(Issue.objects.filter(pk__in_subquery=[1, 2]))


# -- the issue total from the rollup ---------------------------------------------------------


def _shown_total(client) -> str:
    page = client.get(reverse("issues:list")).content.decode()
    start = page.index('id="result-count"')
    return " ".join(page[start : page.index("</p>", start)].split())


@pytest.mark.django_db
def test_unfiltered_total_counts_every_issue_including_common_ones(client, coordinator, dept_a):
    client.force_login(coordinator)
    client.cookies["django_language"] = "en"
    IssueFactory.create_batch(3)
    workflow.create_common_issue(by=coordinator, title="多家企业反映用电增容难", category=category())
    assert Issue.objects.count() == 4
    with CaptureQueriesContext(connection) as queries:
        assert "4 issues" in _shown_total(client)
    # Read from the rollup: no COUNT over the whole issue table.
    assert not any('SELECT COUNT(*) AS "n" FROM "issues_issue")' in q["sql"] for q in queries)

    issue = IssueFactory()
    assert "5 issues" in _shown_total(client)
    workflow.assign(issue_id=issue.pk, by=coordinator, department=dept_a, deadline=issue.raised_on)
    assert "5 issues" in _shown_total(client)
    Issue.objects.filter(pk=issue.pk).update(status=Status.NEW)  # any write path keeps it exact
    assert "5 issues" in _shown_total(client)


@pytest.mark.django_db
def test_a_filtered_or_partial_view_still_counts_its_own_rows(client, coordinator, staff_a, dept_a, dept_b):
    IssueFactory.create_batch(2, lead_department=dept_a)
    IssueFactory.create_batch(3, lead_department=dept_b)
    client.force_login(staff_a)
    client.cookies["django_language"] = "en"
    assert "2 issues" in _shown_total(client)
    client.force_login(coordinator)
    page = client.get(reverse("issues:list"), {"department": dept_b.pk}).content.decode()
    assert "3 issues" in page


# -- one markup for phone and desktop --------------------------------------------------------


@pytest.mark.django_db
def test_list_rows_are_drawn_once_and_read_only_the_shown_columns(client, coordinator, dept_a):
    IssueFactory.create_batch(3, lead_department=dept_a, description="很长的描述" * 200)
    client.force_login(coordinator)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("issues:list")).content.decode()
    assert page.count('class="cell-title"') == 3  # no second (card) copy of each row
    assert "issue-card" not in page
    assert "很长的描述" not in page
    rows_query = next(q["sql"] for q in queries if '"enterprises_enterprise"."name"' in q["sql"])
    assert '"issues_issue"."description"' not in rows_query


# -- the dashboard's filters only on drill-down links ----------------------------------------


@pytest.mark.django_db
def test_list_builds_the_dashboard_filters_only_for_a_drill_down(client, coordinator):
    from issues.filters import IssueFilter, ListFilters, issue_filter

    plain = issue_filter({"status": ["new"]}, queryset=Issue.objects.all())
    assert type(plain) is ListFilters and "outcome" not in plain.form.fields
    drill_down = issue_filter({"outcome": "resolved"}, queryset=Issue.objects.all())
    assert type(drill_down) is IssueFilter and "outcome" in drill_down.form.fields
    IssueFactory(title="未办结的问题")
    client.force_login(coordinator)
    page = client.get(reverse("issues:list"), {"outcome": "resolved"}).content.decode()
    assert "未办结的问题" not in page  # the dashboard's parameter still narrows the list
    assert 'type="hidden" name="outcome" value="resolved"' in page
    assert "未办结的问题" in client.get(reverse("issues:list")).content.decode()


@pytest.mark.django_db
def test_issue_and_visit_urls_are_the_resolved_ones_also_under_a_script_prefix():
    from django.urls import set_script_prefix

    issue = IssueFactory()
    visit = issue.visit
    assert issue.get_absolute_url() == reverse("issues:detail", args=[issue.pk])
    assert visit.get_absolute_url() == reverse("visits:detail", args=[visit.pk])
    try:
        set_script_prefix("/visits-app/")
        assert issue.get_absolute_url() == reverse("issues:detail", args=[issue.pk])
        assert issue.get_absolute_url().startswith("/visits-app/issues/")
        assert visit.get_absolute_url() == reverse("visits:detail", args=[visit.pk])
        assert visit.get_absolute_url().startswith("/visits-app/visits/")
    finally:
        set_script_prefix("/")


# -- choice labels ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("name", ["status", "priority", "source", "scope", "outcome"])
def test_issue_choice_labels_are_djangos(name, language):
    # Issue defines get_FOO_display itself (Django's builds a dict per call): same labels.
    field = Issue._meta.get_field(name)
    with translation.override(language):
        for value in [*(v for v, _label in field.flatchoices), "not-a-choice", ""]:
            issue = Issue(**{name: value})
            assert getattr(issue, f"get_{name}_display")() == issue._get_FIELD_display(field), value


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_visit_status_labels_are_djangos(language):
    from visits.models import Visit

    field = Visit._meta.get_field("status")
    with translation.override(language):
        for value in [*(v for v, _label in field.flatchoices), "not-a-choice"]:
            visit = Visit(status=value)
            assert visit.get_status_display() == visit._get_FIELD_display(field), value
