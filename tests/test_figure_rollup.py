"""The per-day figure rollup stays exact through random workflow histories.

Random sequences of real workflow steps (raise, solved on the spot, assign, progress,
resolve, feedback, confirm, reopen, close, change deadline, upheld objection moving the
department, common issue resolved with its linked issues, category edit) plus what the
workflow cannot do but the database may see (timestamps moved with a queryset `.update()`,
to any time of day incl. either side of midnight Asia/Shanghai; an enterprise moved to
another district or sector). After each history:

- the rollup the triggers kept == a recomputation from the issues in Python
  (`rebuild_figures --check`);
- every dashboard figure read from the rollup == the same figure counted over the issue
  table (the filtered path), for several periods.
"""

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from enterprises.models import Enterprise, Sector
from issues import figure_rollup, figures, workdays, workflow
from issues.models import (
    Issue,
    IssueDayFigure,
    IssueMonthFigure,
    Outcome,
    Satisfaction,
    Scope,
    Source,
    Status,
)

from .factories import DistrictFactory, EnterpriseFactory, category

SH = ZoneInfo("Asia/Shanghai")
CATEGORIES = ["approvals", "tax", "financing", "land"]


def _moment(rng: random.Random, day: date) -> datetime:
    """A time on `day` (Shanghai), often just before or after midnight."""
    choice = rng.random()
    if choice < 0.3:
        return datetime.combine(day, time(23, 59, 59), tzinfo=SH)
    if choice < 0.6:
        return datetime.combine(day, time(0, 0, 1), tzinfo=SH)
    return datetime.combine(day, time(rng.randrange(24), rng.randrange(60)), tzinfo=SH)


def _try(step, **kwargs):
    try:
        return step(**kwargs)
    except workflow.WorkflowError:
        return None


def run_history(seed: int, coordinator, staff_a, dept_a, dept_b, steps: int = 60) -> None:
    rng = random.Random(seed)
    today = timezone.localdate()
    districts = [DistrictFactory(), DistrictFactory()]
    enterprises = [
        EnterpriseFactory(district=districts[i % 2], sector=[Sector.INDUSTRIAL, Sector.SERVICES][i % 2])
        for i in range(4)
    ]
    future = workdays.add_workdays(today, 10)
    issues: list[int] = []
    commons: list[int] = []

    def pick(*statuses):
        found = list(Issue.objects.filter(pk__in=issues, status__in=statuses).values_list("pk", flat=True))
        return rng.choice(found) if found else None

    for _ in range(steps):
        action = rng.choice(
            ["raise", "raise", "assign", "progress", "resolve", "feedback", "confirm", "reopen", "close"]
            + ["deadline", "objection", "common", "backdate", "enterprise", "edit"]
        )
        c = coordinator
        if action == "raise":
            on_site = rng.random() < 0.2
            raised_on = today - timedelta(days=rng.randrange(0, 70))
            issue = workflow.raise_issue(
                by=c,
                enterprise=rng.choice(enterprises),
                title="问题",
                category=category(rng.choice(CATEGORIES)),
                source=Source.ENTERPRISE_REQUEST,
                raised_on=raised_on,
                solved_on_site=on_site,
                resolution="现场解决" if on_site else "",
            )
            issues.append(issue.pk)
        elif action == "assign" and (pk := pick(Status.NEW)):
            department = dept_a if rng.random() < 0.6 else dept_b
            workflow.assign(issue_id=pk, by=c, department=department, deadline=future)
        elif action == "progress" and (pk := pick(Status.ASSIGNED, Status.IN_PROGRESS)):
            workflow.post_progress(issue_id=pk, by=c, note="进展")
        elif action == "resolve" and (pk := pick(Status.ASSIGNED, Status.IN_PROGRESS)):
            workflow.resolve(issue_id=pk, by=c, resolution="已解决")
        elif action == "feedback" and (pk := pick(Status.RESOLVED, Status.CLOSED)):
            workflow.record_feedback(
                issue_id=pk,
                by=c,
                contacted_on=today - timedelta(days=rng.randrange(0, 40)),
                reply_satisfaction=rng.choice(Satisfaction.values),
                solution_satisfaction=rng.choice(Satisfaction.values),
            )
        elif action == "confirm" and (pk := pick(Status.RESOLVED)):
            _try(
                workflow.confirm,
                issue_id=pk,
                by=c,
                contacted_on=today - timedelta(days=rng.randrange(0, 40)),
                reply_satisfaction=rng.choice(Satisfaction.values),
                solution_satisfaction=rng.choice([Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED]),
            )
        elif action == "reopen" and (pk := pick(Status.RESOLVED, Status.CLOSED)):
            workflow.reopen(issue_id=pk, by=c, reason="企业不满意", deadline=future)
        elif action == "close" and (pk := pick(Status.NEW)):
            workflow.close(issue_id=pk, by=c, outcome=Outcome.DUPLICATE, reason="重复")
        elif action == "deadline" and (pk := pick(Status.ASSIGNED, Status.IN_PROGRESS)):
            _try(
                workflow.change_deadline,
                issue_id=pk,
                by=c,
                deadline=future + timedelta(days=7),
                reason="延期",
            )
        elif action == "objection":
            found = list(
                Issue.objects.filter(
                    pk__in=issues, status=Status.ASSIGNED, lead_department=dept_a
                ).values_list("pk", flat=True)
            )
            if found:
                pk = rng.choice(found)
                Issue.objects.filter(pk=pk).update(assigned_at=timezone.now())
                objection = _try(
                    workflow.object_to_assignment, issue_id=pk, by=staff_a, reason="非本单位职责"
                )
                if objection:
                    workflow.decide_objection(objection_id=objection.pk, by=c, uphold=True, department=dept_b)
        elif action == "common":
            common = workflow.create_common_issue(by=c, title="共性问题", category=category("policy"))
            commons.append(common.pk)
            linked = [
                pk for pk in issues if Issue.objects.filter(pk=pk, status__in=["new", "assigned"]).exists()
            ]
            linked = rng.sample(linked, min(3, len(linked)))
            if linked:
                workflow.merge_into_common(issue_ids=linked, common_issue_id=common.pk, by=c)
            workflow.assign(issue_id=common.pk, by=c, department=dept_b, deadline=future)
            workflow.resolve(issue_id=common.pk, by=c, resolution="政策调整", resolve_linked=True)
        elif action == "backdate" and issues:
            # What the workflow cannot do but the database may see: any moment, any day.
            pk = rng.choice(issues)
            issue = Issue.objects.get(pk=pk)
            day = issue.raised_on + timedelta(days=rng.randrange(0, 5))
            changes = {}
            for field in ("assigned_at", "resolved_at", "closed_at"):
                if getattr(issue, field) is not None:
                    changes[field] = _moment(rng, day)
            if issue.original_deadline and rng.random() < 0.5:
                changes["original_deadline"] = day + timedelta(days=rng.randrange(-2, 3))
            Issue.objects.filter(pk=pk).update(**changes)
        elif action == "enterprise":
            enterprise = rng.choice(enterprises)
            enterprise.district = rng.choice(districts)
            enterprise.sector = rng.choice([Sector.INDUSTRIAL, Sector.SERVICES, Sector.WHOLESALE_RETAIL])
            enterprise.save()
        elif action == "edit" and (pk := pick(Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS)):
            issue = Issue.objects.get(pk=pk)
            workflow.edit_details(
                issue_id=pk, by=c, expected_version=issue.version, category=category(rng.choice(CATEGORIES))
            )


def _raw(monkeypatch, compute):
    """The same figure counted over the issue table (the path a filter takes)."""
    with monkeypatch.context() as m:
        m.setattr(figures, "uses_rollup", lambda filters: False)
        return compute()


def _groups(rows):
    return [(r.key, r.label, r.counts, r.params) for r in rows]


def assert_figures_agree(monkeypatch, today: date) -> None:
    periods = [
        figures.period_for("month", today),
        figures.period_for("year", today),
        figures.period_for("week", today),
        figures.Period(today - timedelta(days=30), today),
        figures.Period(today - timedelta(days=9), today - timedelta(days=3)),
        figures.Period(today, today),
    ]
    none = figures.Filters()
    for period in periods:
        rolled = figures.summary(period, none, today)
        raw = _raw(monkeypatch, lambda p=period: figures.summary(p, none, today))
        assert rolled == raw, period
        rolled = figures.league_table(period, none, today)
        raw = _raw(monkeypatch, lambda p=period: figures.league_table(p, none, today))
        assert _groups(rolled) == _groups(raw), period
        for by in ("category", "district", "sector"):
            rolled = figures.breakdown(by, period, none, today)
            raw = _raw(monkeypatch, lambda p=period, b=by: figures.breakdown(b, p, none, today))
            assert _groups(rolled) == _groups(raw), (period, by)
    rolled = figures.monthly_trend(today, none)
    raw = _raw(monkeypatch, lambda: figures.monthly_trend(today, none))
    assert _groups(rolled) == _groups(raw)


@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(6))
def test_rollup_equals_recomputation_and_raw_figures(seed, coordinator, staff_a, dept_a, dept_b, monkeypatch):
    run_history(seed, coordinator, staff_a, dept_a, dept_b)
    assert Issue.objects.filter(scope=Scope.INDIVIDUAL).exists()
    assert figure_rollup.differences() == []
    call_command("rebuild_figures", "--check")
    assert_figures_agree(monkeypatch, timezone.localdate())


@pytest.mark.django_db
def test_rebuild_repairs_and_check_reports(coordinator, staff_a, dept_a, dept_b, monkeypatch):
    run_history(99, coordinator, staff_a, dept_a, dept_b, steps=30)
    expected = figure_rollup.expected_rows()
    IssueDayFigure.objects.filter(dimension="all").update(raised=0)  # damage it
    with pytest.raises(CommandError, match="differs"):
        call_command("rebuild_figures", "--check")
    call_command("rebuild_figures")
    assert figure_rollup.stored_rows() == expected
    call_command("rebuild_figures", "--check")
    assert_figures_agree(monkeypatch, timezone.localdate())


@pytest.mark.django_db
def test_month_rows_are_the_day_rows_summed_and_are_checked(
    coordinator, staff_a, dept_a, dept_b, monkeypatch
):
    """The month rows (read for whole months: month, quarter, year) follow the day rows
    through their own triggers; damage to them is reported and repaired like the days'."""
    run_history(7, coordinator, staff_a, dept_a, dept_b, steps=30)
    months = figure_rollup.stored_months()
    assert months and months == figure_rollup.months_of(figure_rollup.stored_rows())
    assert all(month.day == 1 for month, _dimension, _key in months)
    IssueMonthFigure.objects.filter(dimension="department").update(resolved=F("resolved") + 1)  # damage
    with pytest.raises(CommandError, match="differs"):
        call_command("rebuild_figures", "--check")
    assert any(line.startswith("month ") for line in figure_rollup.differences())
    call_command("rebuild_figures")
    assert figure_rollup.differences() == []
    assert_figures_agree(monkeypatch, timezone.localdate())


@pytest.mark.django_db
def test_midnight_boundary_in_the_rollup(coordinator, dept_a):
    """2026-03-31 23:59:59+08:00 is March; 2026-04-01 00:00:01+08:00 is April (UTC: both
    on March 31): the rollup files each on its Shanghai day."""
    enterprise = EnterpriseFactory()
    issues = []
    for _ in range(2):
        issue = workflow.raise_issue(
            by=coordinator,
            enterprise=enterprise,
            title="问题",
            category=category(),
            source=Source.ENTERPRISE_REQUEST,
            raised_on=date(2026, 3, 20),
        )
        workflow.assign(issue_id=issue.pk, by=coordinator, department=dept_a, deadline=timezone.localdate())
        workflow.resolve(issue_id=issue.pk, by=coordinator, resolution="已解决")
        issues.append(issue)
    Issue.objects.filter(pk=issues[0].pk).update(resolved_at=datetime(2026, 3, 31, 23, 59, 59, tzinfo=SH))
    Issue.objects.filter(pk=issues[1].pk).update(resolved_at=datetime(2026, 4, 1, 0, 0, 1, tzinfo=SH))
    resolved = dict(
        IssueDayFigure.objects.filter(dimension="all", resolved__gt=0).values_list("day", "resolved")
    )
    assert resolved == {date(2026, 3, 31): 1, date(2026, 4, 1): 1}
    march = figures.summary(figures.month_period(2026, 3), figures.Filters())
    april = figures.summary(figures.month_period(2026, 4), figures.Filters())
    assert (march["resolved"], april["resolved"]) == (1, 1)
    assert march["avg_days"] == 11 and april["avg_days"] == 12


@pytest.mark.django_db
def test_enterprise_moved_to_another_district_moves_its_figures(coordinator):
    old, new = DistrictFactory(), DistrictFactory()
    enterprise = EnterpriseFactory(district=old)
    workflow.raise_issue(
        by=coordinator, enterprise=enterprise, title="问题", category=category(), source=Source.OTHER
    )
    Enterprise.objects.filter(pk=enterprise.pk).update(district=new, sector=Sector.SERVICES)
    keys = set(
        IssueDayFigure.objects.filter(dimension__in=["district", "sector"], raised__gt=0).values_list(
            "dimension", "key"
        )
    )
    assert keys == {("district", str(new.pk)), ("sector", Sector.SERVICES)}
    assert figure_rollup.differences() == []
