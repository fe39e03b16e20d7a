"""The worked example of shared/FIGURES-EXAMPLE.md, computed by hand, as a test.

The history is written through `issues.workflow` at its real dates (`travel`), so every
figure comes from the same events and feedback rounds a user's clicks would write. The
March 2026 report must give the table's numbers, from the daily counts and from the history
rows alike; a round of 10 April that sends B back must change nothing in March, and April
must show the sent-back rate as "—" (a round, no department resolution).

Calendar facts: 2026-02-28 (Saturday) is a make-up working day; March has no holidays.
"""

from datetime import date

import pytest
from django.core.management import call_command

from dashboard import figures, rollup
from issues import workflow
from issues.models import Channel, Issue, Outcome, Satisfaction, Source

from .factories import EnterpriseFactory, VisitFactory, category
from .helpers import travel

MARCH = figures.Period(date(2026, 3, 1), date(2026, 3, 31))
APRIL = figures.Period(date(2026, 4, 1), date(2026, 4, 30))
S, B, U = Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED, Satisfaction.UNSATISFIED


def raised(by, enterprise, day, **kwargs) -> Issue:
    with travel(day):
        return workflow.raise_issue(
            by=by,
            enterprise=enterprise,
            title=kwargs.pop("title"),
            category=category(),
            source=kwargs.pop("source", Source.ENTERPRISE_REQUEST),
            raised_on=day,
            **kwargs,
        )


def assigned(by, issue, day, department, deadline):
    with travel(day):
        workflow.assign(issue_id=issue.pk, by=by, department=department, deadline=deadline)


def resolved(by, issue, day):
    with travel(day):
        workflow.resolve(issue_id=issue.pk, by=by, resolution="已协调解决")


def answered(by, issue, day, reply, solution, close=False):
    with travel(day):
        workflow.record_round(
            issue_id=issue.pk,
            by=by,
            contacted_on=day,
            channel=Channel.PHONE,
            reply_satisfaction=reply,
            solution_satisfaction=solution,
            comment="问题没有解决" if solution == U else "",
            close=close,
        )


@pytest.fixture
def history(coordinator, staff_a, dept_a):
    """A to H of the example, written day by day."""
    enterprise = EnterpriseFactory(name="天津示例企业")
    visit = VisitFactory(enterprise=enterprise, visited_on=date(2026, 3, 2))
    c, d = coordinator, staff_a
    issues = {}
    issues["A"] = raised(c, enterprise, date(2026, 3, 2), title="A", source=Source.VISIT, visit=visit,
                         solved_on_site=True, resolution="现场协调解决")  # fmt: skip
    for name in "BCDH":
        issues[name] = raised(c, enterprise, date(2026, 3, 2), title=name)
    issues["G"] = raised(c, enterprise, date(2026, 2, 27), title="G")
    with travel(date(2026, 3, 3)):
        workflow.close(issue_id=issues["D"].pk, by=c, outcome=Outcome.DUPLICATE, reason="与B重复")
    assigned(c, issues["G"], date(2026, 3, 3), dept_a, date(2026, 4, 15))
    assigned(c, issues["H"], date(2026, 3, 3), dept_a, date(2026, 3, 13))
    assigned(c, issues["B"], date(2026, 3, 4), dept_a, date(2026, 3, 20))
    assigned(c, issues["C"], date(2026, 3, 6), dept_a, date(2026, 4, 30))
    with travel(date(2026, 3, 10)):
        for name in "CG":
            workflow.post_progress(issue_id=issues[name].pk, by=d, note="办理中")
    with travel(date(2026, 3, 12)):
        request = workflow.request_extension(
            issue_id=issues["H"].pk, by=d, deadline=date(2026, 3, 27), reason="需等待第三方检测"
        )
        workflow.decide_extension(request_id=request.pk, by=c, approve=True)
    resolved(d, issues["B"], date(2026, 3, 18))
    issues["E"] = raised(c, enterprise, date(2026, 3, 23), title="E")
    answered(c, issues["B"], date(2026, 3, 23), S, U)  # sent back
    resolved(d, issues["H"], date(2026, 3, 25))
    answered(c, issues["H"], date(2026, 3, 26), B, B, close=True)
    resolved(d, issues["B"], date(2026, 3, 27))
    issues["F"] = raised(c, enterprise, date(2026, 3, 30), title="F")
    answered(c, issues["B"], date(2026, 3, 30), S, S, close=True)
    return issues


MARCH_COUNTS = {
    "raised": 7,
    "solved_on_spot": 1,
    "resolved": 4,
    "department_resolved": 3,
    "closed": 4,
    "closed_resolved": 3,
    "rounds": 3,
    "sent_back": 1,
}
MARCH_RATES = {
    "response_rate": (3, 6, "50.0"),
    "on_time_rate": (2, 3, "66.7"),
    "on_time_original_rate": (1, 3, "33.3"),
    "sent_back_rate": (1, 3, "33.3"),
    "resolution_rate": (3, 4, "75.0"),
    "reply_satisfaction": ("2.9", 3, "96.7"),
    "solution_satisfaction": ("1.9", 3, "63.3"),
    "reply_satisfied_share": (2, 3, "66.7"),
    "solution_satisfied_share": (1, 3, "33.3"),
}


def check_march(today: date) -> None:
    report = figures.report(MARCH, figures.Filters(), today).as_json()
    for name, value in MARCH_COUNTS.items():
        assert report[name] == value, name
    for name, (numerator, denominator, percent) in MARCH_RATES.items():
        assert report[name] == {"numerator": numerator, "denominator": denominator, "percent": percent}, name
    assert report["average_days"] == "21.3"  # (16 + 25 + 23) / 3


@pytest.mark.django_db
def test_the_march_report_gives_the_hand_computed_numbers(history, dept_a):
    check_march(today=date(2026, 3, 31))
    # The same numbers counted from the history rows themselves (a department filter does
    # not use the city's daily counts), for the department's own figures.
    by_department = figures.report(MARCH, figures.Filters(department=dept_a.pk), date(2026, 3, 31))
    assert by_department.counts["department_resolved"] == 3 and by_department.counts["sent_back"] == 1
    assert by_department.as_json()["raised"] is None  # not a department figure
    assert rollup.differences() == []


@pytest.mark.django_db
def test_the_live_figures_on_31_march(history):
    now = Issue.objects.now_counts(date(2026, 3, 31))
    assert now["open"] == 4  # C, E, F, G
    assert now["overdue"] == 1  # E: untriaged past its limit (交办超时)
    assert now["due_soon"] == 0
    red = list(Issue.objects.overdue(date(2026, 3, 31)).values_list("title", flat=True))
    assert red == ["E"]


@pytest.mark.django_db
def test_a_later_round_changes_nothing_in_march(history, coordinator):
    answered(coordinator, history["B"], date(2026, 4, 10), S, U)  # B is sent back
    history["B"].refresh_from_db()
    assert history["B"].status == "in_progress"
    check_march(today=date(2026, 4, 10))
    april = figures.report(APRIL, figures.Filters(), date(2026, 4, 10)).as_json()
    assert (april["rounds"], april["sent_back"], april["department_resolved"]) == (1, 1, 0)
    assert april["sent_back_rate"] == {"numerator": 1, "denominator": 0, "percent": None}
    assert str(figures.Rate(1, 0)) == "—"
    call_command("rebuild_figures", "--check")


@pytest.mark.django_db
def test_a_reopen_later_changes_nothing_in_march(history, coordinator):
    with travel(date(2026, 4, 20)):
        workflow.reopen(
            issue_id=history["H"].pk, by=coordinator, reason="企业再次反映", deadline=date(2026, 5, 20)
        )
        workflow.reopen(issue_id=history["D"].pk, by=coordinator, reason="并非重复")
    check_march(today=date(2026, 4, 20))


@pytest.mark.django_db
def test_the_rollup_and_the_history_rows_agree_on_every_figure(history, dept_a):
    for period in (MARCH, APRIL, figures.Period(date(2026, 2, 1), date(2026, 4, 30))):
        for filters in (figures.Filters(), figures.Filters(department=dept_a.pk)):
            assert rollup.sums(period, filters, "default") == figures.raw_tallies(period, filters)


@pytest.mark.parametrize(
    ("numerator", "denominator", "percent"),
    [(2, 3, "66.7"), (1, 3, "33.3"), (11, 12, "91.7"), (4, 6, "66.7"), (905, 2000, "45.3"), (0, 5, "0.0")],
)
def test_rates_round_half_up_to_one_decimal(numerator, denominator, percent):
    assert figures.Rate(numerator, denominator).percent == percent  # 905 / 2000 = 45.25 %
