"""`manage.py seed_demo`: the demo city (DESIGN §7), idempotent and deterministic.

Reference data (enterprises, contacts, departments, officials, demo accounts) is keyed on
natural keys (credit code, name, username) and only created when missing. The story —
visits, issues in every state, a survey round — is written once: if the demo survey
already exists, a second run only makes sure the demo accounts exist.

Every issue is made and moved by `issues.workflow`, the same functions the pages and the
admin call; the history is replayed at its real dates (see `replayed_history`).
"""

import random
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from datetime import time as clock_time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from enterprises.credit_code import ALPHABET, validate_credit_code
from enterprises.models import (
    Contact,
    District,
    Enterprise,
    OperatingStatus,
    OrderTrend,
    Survey,
    SurveyResponse,
)
from issues import demo, workdays, workflow
from issues.clock import replaying
from issues.models import Category, Channel, Colour, Department, Issue, Outcome, Satisfaction, Source, Status
from issues.roles import Role
from visits.models import Official, Topic, Visit, VisitStatus

DEMO_PASSWORD = "demo-password-2026"
SEED = 2026

# username → (role, display name, is_staff, is_superuser)
DEMO_ACCOUNTS = {
    "official": (Role.OFFICIAL, "赵志远", False, False),
    "coordinator": (Role.COORDINATOR, "钱晓光", True, False),
    "department": (Role.DEPARTMENT, "孙立平", False, False),
    "leader": (Role.LEADER, "程思远", False, False),
    "admin": (Role.ADMINISTRATOR, "系统管理员", True, True),
    # An enterprise's contact person: the enterprise's own pages only (bound after the story).
    "enterprise": (Role.ENTERPRISE, "刘经理", False, False),
}


# -- the clock --------------------------------------------------------------------------------


class HistoricalClock:
    """A settable "now" for replaying the demo's past.

    `at(day)` moves the clock to `day`; each call on the same day is 30 s later than the
    last, so one issue's events keep their order. On the real today the clock stays a
    little before the real now: nothing is ever recorded in the future.
    """

    def __init__(self) -> None:
        self.real_now = timezone.now()
        self.real_today = timezone.localdate(self.real_now)
        self._moment = self.real_now
        self._ticks: Counter = Counter()

    def at(self, day: date) -> None:
        if day > self.real_today:
            raise ValueError(f"The demo cannot record events in the future ({day}).")
        self._ticks[day] += 1
        tick = self._ticks[day]
        if day == self.real_today:
            # Today's events go in the last hour before now (but not before midnight).
            midnight = timezone.make_aware(datetime.combine(day, clock_time(0, 0)))
            base = max(midnight, self.real_now - timedelta(minutes=60))
            self._moment = min(base + (self.real_now - base) * tick / 1000, self.real_now)
        else:
            start = timezone.make_aware(datetime.combine(day, clock_time(9, 0)))
            self._moment = start + timedelta(seconds=30 * tick)

    def now(self) -> datetime:
        return self._moment

    def today(self) -> date:
        return timezone.localdate(self._moment)


@contextmanager
def replayed_history():
    """Write the demo story at its historical dates (`issues.clock.replaying`).

    The workflow refuses a deadline before "today", as it must for real users. A demo
    that shows overdue (red) issues honestly therefore has to assign them in the past:
    the story replays each step at its historical date, and the events carry those dates.
    """
    clock = HistoricalClock()
    with replaying(clock.now):
        yield clock


# -- reference data -----------------------------------------------------------------------------


def ensure_accounts() -> dict:
    """The five demo logins (one per role), created if missing, roles always ensured.

    A password is set only when the account is created: an existing demo account keeps
    whatever password it has.
    """
    User = get_user_model()
    users, created = {}, []
    password_hash = None  # the demo password is public; hashing it once saves ~2 s of PBKDF2
    lead_dept, _ = Department.objects.get_or_create(
        name=demo.LEAD_DEPARTMENT, defaults={"short_name": "发改委"}
    )
    for username, (role, name, is_staff, is_superuser) in DEMO_ACCOUNTS.items():
        user, made = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": name,
                "email": f"{username}@example.com",
                "is_staff": is_staff,
                "is_superuser": is_superuser,
            },
        )
        if made:
            password_hash = password_hash or make_password(DEMO_PASSWORD)
            user.password = password_hash
            user.save(update_fields=["password"])
            created.append(username)
        elif (is_staff and not user.is_staff) or (is_superuser and not user.is_superuser):
            user.is_staff, user.is_superuser = True, user.is_superuser or is_superuser
            user.save(update_fields=["is_staff", "is_superuser"])
        user.groups.add(Group.objects.get(name=role))
        users[username] = user
    lead_dept.members.add(users["department"])
    official, _ = Official.objects.get_or_create(
        name=demo.CADRES[0][0],
        defaults={"title": demo.CADRES[0][1], "organisation": demo.CADRES[0][2]},
    )
    if official.user_id is None:
        official.user = users["official"]
        official.save(update_fields=["user"])
    return {"users": users, "created": created}


def ensure_enterprise_account(user) -> None:
    """Bind the demo enterprise login to the enterprise with a resolution waiting for its
    answer and the most issues (the same one on every run of the same story)."""
    from django.db.models import Count, Q

    from enterprises.models import EnterpriseAccount

    if EnterpriseAccount.objects.filter(user=user).exists():
        return
    enterprise = (
        Enterprise.objects.annotate(
            waiting=Count("issues", filter=Q(issues__status=Status.RESOLVED)), total=Count("issues")
        )
        .order_by("-waiting", "-total", "pk")
        .first()
    )
    contact = enterprise.contacts.order_by("-is_primary", "id").first()
    EnterpriseAccount.objects.create(user=user, enterprise=enterprise, contact=contact)


def ensure_departments() -> dict[str, Department]:
    depts = {}
    for name, short, _code, _cats in demo.DEPARTMENTS:
        depts[name], _ = Department.objects.get_or_create(name=name, defaults={"short_name": short})
    return depts


def ensure_department_staff(depts: dict[str, Department], demo_department_user) -> dict[str, list]:
    """One fictional staff member per department (no usable password), plus the demo login."""
    User = get_user_model()
    group = Group.objects.get(name=Role.DEPARTMENT)
    rng = random.Random(SEED + 1)
    staff: dict[str, list] = {}
    for name, _short, code, _cats in demo.DEPARTMENTS:
        user, made = User.objects.get_or_create(
            username=f"demo_{code}",
            defaults={"first_name": rng.choice(demo.SURNAMES) + rng.choice(demo.GIVEN)},
        )
        if made:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user.groups.add(group)
            depts[name].members.add(user)
        staff[name] = [user]
    staff[demo.LEAD_DEPARTMENT].insert(0, demo_department_user)
    return staff


def ensure_officials(official_user) -> tuple[list[Official], list[Official]]:
    leaders = [
        Official.objects.get_or_create(name=n, defaults={"title": t, "organisation": o})[0]
        for n, t, o in demo.LEADERS
    ]
    cadres = [
        Official.objects.get_or_create(name=n, defaults={"title": t, "organisation": o})[0]
        for n, t, o in demo.CADRES
    ]
    return leaders, cadres


def ensure_enterprises(depts: dict[str, Department], leaders: list[Official]) -> list[Enterprise]:
    rng = random.Random(SEED)
    districts = {d.name: d for d in District.objects.all()}
    missing = set(demo.AREA_CODES) - set(districts)
    if missing:
        raise CommandError(f"Districts missing (run migrate first): {', '.join(sorted(missing))}")
    dept_list = list(depts.values())
    enterprises = []
    for index, (name, sector, industry, district, employees, revenue) in enumerate(demo.ENTERPRISES, 1):
        salt = "".join(rng.choice(ALPHABET) for _ in range(5))
        code = demo.demo_credit_code(index, district, salt)
        validate_credit_code(code)
        contact_names = [rng.choice(demo.SURNAMES) + rng.choice(demo.GIVEN) for _ in range(2)]
        titles = rng.sample(demo.CONTACT_TITLES, 2)
        phones = [f"022-6{rng.randint(100, 999)}{rng.randint(1000, 9999)}" for _ in range(2)]
        enterprise, made = Enterprise.objects.get_or_create(
            credit_code=code,
            defaults={
                "name": name,
                "sector": sector,
                "industry": industry,
                "district": districts[district],
                "address": f"天津市{district}演示路{index}号",
                "employees": employees,
                "annual_revenue": revenue,
                "is_key": True,
                "liaison_leader": leaders[index % len(leaders)],
                "liaison_department": dept_list[index % len(dept_list)],
            },
        )
        if made:
            for n, (contact, title, phone) in enumerate(zip(contact_names, titles, phones, strict=True)):
                Contact.objects.get_or_create(
                    enterprise=enterprise,
                    name=contact,
                    defaults={
                        "title": title,
                        "phone": phone,
                        "email": f"contact{index:02d}{n}@example.com",
                        "is_primary": n == 0,
                    },
                )
        enterprises.append(enterprise)
    return enterprises


# -- the story ----------------------------------------------------------------------------------


class Story:
    """Visits over the last four months and issues in every state, replayed day by day."""

    def __init__(self, *, clock, rng, accounts, depts, staff, leaders, cadres, enterprises, second_official):
        self.clock, self.rng = clock, rng
        self.today = clock.real_today
        self.official = accounts["official"]
        self.coordinator = accounts["coordinator"]
        self.second_official = second_official
        self.depts, self.staff = depts, staff
        self.leaders, self.cadres = leaders, cadres
        self.enterprises = enterprises
        self.categories = {c.code: c for c in Category.objects.all()}
        self.dept_by_category = defaultdict(list)
        for name, _short, _code, cats in demo.DEPARTMENTS:
            for cat in cats:
                self.dept_by_category[cat].append(name)
        self.visits: list[Visit] = []
        self.issues_per_visit: Counter = Counter()
        self.template_index: Counter = Counter()

    # helpers -----------------------------------------------------------------------------
    def days_ago(self, n: int) -> date:
        return self.today - timedelta(days=n)

    def workday_on_or_before(self, day: date) -> date:
        while not workdays.is_workday(day):
            day -= timedelta(days=1)
        return day

    def wd(self, day: date, n: int) -> date:
        """n working days after `day`, but never later than today."""
        return min(workdays.add_workdays(day, n), self.today)

    def at(self, day: date) -> None:
        self.clock.at(min(day, self.today))

    def owner_for(self, dept_name: str):
        members = self.staff[dept_name]
        if len(members) > 1 and self.rng.random() < 0.7:
            return members[0]
        return self.rng.choice(members)

    def department_for(self, category_code: str) -> str:
        options = self.dept_by_category.get(category_code) or [demo.LEAD_DEPARTMENT]
        # The NDRC (市发展改革委) leads a good share: it owns the cross-cutting approvals.
        if demo.LEAD_DEPARTMENT in options and self.rng.random() < 0.6:
            return demo.LEAD_DEPARTMENT
        return self.rng.choice(options)

    def template(self, category_code: str | None = None):
        code = category_code or self.rng.choice(sorted(demo.ISSUE_TEMPLATES))
        options = demo.ISSUE_TEMPLATES[code]
        title, description, resolution = options[self.template_index[code] % len(options)]
        self.template_index[code] += 1
        return code, title, description, resolution

    # visits ------------------------------------------------------------------------------
    def make_visits(self) -> None:
        real = self.enterprises[: len(demo.REAL_ENTERPRISES)]
        others = self.enterprises[len(demo.REAL_ENTERPRISES) :]
        # 38 of the 50 key enterprises get a completed visit: coverage is not 100%.
        visited = real + self.rng.sample(others, 32)
        order = visited + self.rng.sample(visited, 20)
        topics = list(Topic.values)
        for i, enterprise in enumerate(order):
            visited_on = self.workday_on_or_before(self.days_ago(118 - 2 * i))
            self.visits.append(
                self.add_visit(enterprise, visited_on, VisitStatus.COMPLETED, topics, creator_index=i)
            )
        unvisited = [e for e in self.enterprises if e not in visited]
        for i, enterprise in enumerate(unvisited[:8]):
            planned = workdays.add_workdays(self.today, 2 + 2 * i)
            self.add_visit(enterprise, planned, VisitStatus.PLANNED, topics, creator_index=i)
        cancelled_on = self.workday_on_or_before(self.days_ago(10))
        self.add_visit(unvisited[8], cancelled_on, VisitStatus.CANCELLED, topics, creator_index=0)

    def add_visit(self, enterprise, visited_on, status, topics, *, creator_index: int) -> Visit:
        rng = self.rng
        creator = self.official if creator_index % 3 else self.second_official
        visit = Visit.objects.create(
            enterprise=enterprise,
            visited_on=visited_on,
            status=status,
            topics=sorted(rng.sample(topics, rng.randint(3, 5))),
            policies_explained="；".join(rng.sample(demo.POLICIES, 2))
            if status == VisitStatus.COMPLETED
            else "",
            summary=(
                rng.choice(demo.VISIT_SUMMARIES)
                if status == VisitStatus.COMPLETED
                else demo.CANCELLED_REASON
                if status == VisitStatus.CANCELLED
                else ""
            ),
            created_by=creator,
        )
        visit.lead_officials.set([rng.choice(self.leaders), rng.choice(self.cadres)])
        visit.accompanying_departments.set(rng.sample(list(self.depts.values()), rng.randint(1, 3)))
        return visit

    def pick_visit(self, min_age: int, max_age: int) -> Visit:
        fitting = [v for v in self.visits if min_age <= (self.today - v.visited_on).days <= max_age]
        if not fitting:
            raise CommandError(f"No demo visit between {min_age} and {max_age} days ago.")
        fewest = min(self.issues_per_visit[v.pk] for v in fitting)
        visit = self.rng.choice([v for v in fitting if self.issues_per_visit[v.pk] == fewest])
        self.issues_per_visit[visit.pk] += 1
        return visit

    # issue steps (each at its historical date) ---------------------------------------------
    def raise_from_visit(self, min_age, max_age, category_code=None, **extra) -> tuple[Issue, str, str]:
        visit = self.pick_visit(min_age, max_age)
        code, title, description, resolution = self.template(category_code)
        self.at(visit.visited_on)
        issue = workflow.raise_issue(
            by=visit.created_by,
            enterprise=visit.enterprise,
            visit=visit,
            source=Source.VISIT,
            title=title,
            description=description,
            category=self.categories[code],
            raised_on=visit.visited_on,
            priority=self.rng.choice(["normal", "normal", "high", "urgent"]),
            **extra,
        )
        return issue, code, resolution

    def assign(self, issue, day, deadline, dept_name=None, code=None):
        dept_name = dept_name or self.department_for(code or issue.category.code)
        self.at(day)
        return workflow.assign(
            issue_id=issue.pk,
            by=self.coordinator,
            department=self.depts[dept_name],
            owner=self.owner_for(dept_name),
            deadline=deadline,
            note="请按期办结并及时反馈进展。",
        )

    def handler(self, issue):
        issue.refresh_from_db()
        return issue.owner or self.staff[issue.lead_department.name][-1]

    def start(self, issue, day, note="已与企业对接，明确办理路径。"):
        self.at(day)
        return workflow.start(issue_id=issue.pk, by=self.handler(issue), note=note)

    def progress(self, issue, day, note):
        self.at(day)
        return workflow.post_progress(issue_id=issue.pk, by=self.handler(issue), note=note)

    def resolve(self, issue, day, resolution, **kw):
        self.at(day)
        by = kw.pop("by", None) or self.handler(issue)
        return workflow.resolve(issue_id=issue.pk, by=by, resolution=resolution, **kw)

    def answer(self, issue, day, reply, solution, comment="", close=False, channel=Channel.PHONE):
        """One feedback round (回访): unsatisfied sends the issue back to its department."""
        self.at(day)
        return workflow.record_round(
            issue_id=issue.pk,
            by=self.coordinator,
            contacted_on=day,
            channel=channel,
            contact_name=issue.enterprise.contacts.order_by("-is_primary", "id")
            .values_list("name", flat=True)
            .first()
            or "",
            reply_satisfaction=reply,
            solution_satisfaction=solution,
            comment=comment or ("企业认可办理结果。" if solution != Satisfaction.UNSATISFIED else ""),
            close=close,
        )

    def confirm(self, issue, day, reply=Satisfaction.SATISFIED, solution=Satisfaction.SATISFIED):
        """The enterprise accepts on the phone; the coordinator closes in the same step."""
        return self.answer(issue, day, reply, solution, close=True)

    def ndrc_first(self, i: int) -> dict:
        """The first issue of a scenario goes to 市发展改革委, so the demo department login
        sees every colour on its own list."""
        return {"category_code": "approvals"} if i == 0 else {}

    def worked(self, issue, raised, deadline, *, progress_days=(), code=None, dept_name=None):
        """Assign the next working day, start, and post progress on the given days."""
        self.assign(issue, self.wd(raised, 1), deadline, dept_name=dept_name, code=code)
        self.start(issue, self.wd(raised, 2))
        for day in progress_days:
            self.progress(issue, day, self.rng.choice(PROGRESS_NOTES))

    # scenarios -----------------------------------------------------------------------------
    def on_site(self, n):
        for i in range(n):
            title, code, resolution = demo.ON_SITE_RESOLUTIONS[i % len(demo.ON_SITE_RESOLUTIONS)]
            visit = self.pick_visit(4, 118)
            self.at(visit.visited_on)
            workflow.raise_issue(
                by=visit.created_by,
                enterprise=visit.enterprise,
                visit=visit,
                source=Source.VISIT,
                title=title,
                category=self.categories[code],
                raised_on=visit.visited_on,
                solved_on_site=True,
                resolution=resolution,
            )

    def confirmed(self, n):
        satisfactions = [
            (Satisfaction.SATISFIED, Satisfaction.SATISFIED),
            (Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED),
            (Satisfaction.BASICALLY_SATISFIED, Satisfaction.BASICALLY_SATISFIED),
            (Satisfaction.SATISFIED, Satisfaction.SATISFIED),
        ]
        for i in range(n):
            issue, code, resolution = self.raise_from_visit(45, 118)
            r = issue.raised_on
            # Most are resolved in time; every fourth one late (the on-time rate is not 100%).
            late = i % 4 == 3
            deadline = r + timedelta(days=20 if late else self.rng.choice([20, 30, 45]))
            self.worked(issue, r, deadline, progress_days=[self.wd(r, 6)])
            resolved_on = self.wd(deadline, 3) if late else self.wd(r, 12)
            self.resolve(issue, resolved_on, resolution)
            reply, solution = satisfactions[i % len(satisfactions)]
            self.confirm(issue, self.wd(resolved_on, 2), reply, solution)

    def reopened_then_confirmed(self):
        issue, code, resolution = self.raise_from_visit(80, 118)
        r = issue.raised_on
        self.worked(issue, r, r + timedelta(days=40), progress_days=[self.wd(r, 5)])
        self.resolve(issue, self.wd(r, 10), "已协调相关单位，初步答复企业。")
        # The enterprise does not accept: the issue goes back to the department (重办).
        self.answer(
            issue,
            self.wd(r, 12),
            Satisfaction.BASICALLY_SATISFIED,
            Satisfaction.UNSATISFIED,
            "企业认为问题尚未实际解决。",
        )
        self.progress(issue, self.wd(r, 16), "重新约谈企业，制定整改方案。")
        self.resolve(issue, self.wd(r, 22), resolution)
        self.confirm(issue, self.wd(r, 24), Satisfaction.SATISFIED, Satisfaction.SATISFIED)

    def reopened_from_closed(self):
        """Closed, then the coordinator reopens it: in progress again with a new deadline."""
        issue, code, resolution = self.raise_from_visit(70, 118)
        r = issue.raised_on
        self.worked(issue, r, r + timedelta(days=30), progress_days=[self.wd(r, 5)])
        self.resolve(issue, self.wd(r, 12), resolution)
        self.confirm(issue, self.wd(r, 14), Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED)
        reopen_on = self.days_ago(12)
        self.at(reopen_on)
        workflow.reopen(
            issue_id=issue.pk,
            by=self.coordinator,
            reason="企业再次反映同一问题，督查发现未彻底解决。",
            deadline=reopen_on + timedelta(days=45),
        )
        self.progress(issue, self.days_ago(3), "已重新组织现场核查。")

    def closed_without_resolving(self):
        for outcome, reason in [
            (Outcome.DUPLICATE, "与同一企业此前反映的问题重复，已合并办理。"),
            (Outcome.DUPLICATE, "与本次走访记录的另一问题重复。"),
            (Outcome.NOT_ACTIONABLE, "属企业内部经营事项，不属于政府职责范围，已向企业说明。"),
        ]:
            issue, _code, _res = self.raise_from_visit(10, 100)
            self.at(self.wd(issue.raised_on, 1))
            workflow.close(issue_id=issue.pk, by=self.coordinator, outcome=outcome, reason=reason)

    def resolved_waiting(self, n):
        """Resolved, the enterprise's answer still to come (待确认). The first had asked for a
        later deadline, the second objected to the assignment: resolving withdrew both."""
        for i in range(n):
            issue, code, resolution = self.raise_from_visit(15, 60)
            r = issue.raised_on
            if i == 1:
                assigned = self.assign(issue, self.wd(r, 1), r + timedelta(days=30), code=code)
                self.at(self.wd(r, 1))
                workflow.object_to_assignment(
                    issue_id=issue.pk,
                    by=self.handler(assigned),
                    reason="部分事项需其他部门配合，建议调整主办单位。",
                )
            else:
                self.worked(issue, r, r + timedelta(days=30), progress_days=[self.wd(r, 4)])
            if i == 0:
                self.at(self.wd(r, 5))
                workflow.request_extension(
                    issue_id=issue.pk,
                    by=self.handler(issue),
                    deadline=r + timedelta(days=45),
                    reason="等待企业补充材料。",
                )
            self.resolve(issue, self.wd(r, 9), resolution)

    def resolved_unsatisfied(self):
        issue, code, resolution = self.raise_from_visit(30, 80)
        r = issue.raised_on
        self.worked(issue, r, self.today + timedelta(days=25), progress_days=[self.wd(r, 4)])
        self.resolve(issue, self.wd(r, 8), "已答复企业办理流程。")
        self.answer(
            issue,
            self.wd(r, 10),
            Satisfaction.SATISFIED,
            Satisfaction.UNSATISFIED,
            "只答复了流程，问题没有解决。",
        )
        self.progress(issue, self.days_ago(2), "已约谈企业负责人，重新制定方案。")

    def answered_online(self, n):
        """The enterprise answers the feedback link itself: accepted, the issue closes."""
        satisfactions = [Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED, Satisfaction.SATISFIED]
        for i in range(n):
            issue, code, resolution = self.raise_from_visit(40, 100)
            r = issue.raised_on
            self.worked(issue, r, r + timedelta(days=30), progress_days=[self.wd(r, 5)])
            self.resolve(issue, self.wd(r, 11), resolution)
            self.at(self.wd(r, 13))
            workflow.record_round(
                issue_id=issue.pk,
                by=None,
                contacted_on=self.wd(r, 13),
                channel=Channel.ONLINE,
                reply_satisfaction=Satisfaction.SATISFIED,
                solution_satisfaction=satisfactions[i % len(satisfactions)],
                comment="办理及时，感谢。",
                close=True,
            )

    def sent_back_after_closing(self):
        """Closed in one month; the enterprise calls again later: sent back (重办). The
        closed month keeps its figures; the sending back counts in its own month."""
        issue, code, resolution = self.raise_from_visit(75, 118)
        r = issue.raised_on
        self.worked(issue, r, r + timedelta(days=30), progress_days=[self.wd(r, 4)])
        self.resolve(issue, self.wd(r, 10), resolution)
        self.confirm(issue, self.wd(r, 12), Satisfaction.SATISFIED, Satisfaction.SATISFIED)
        self.answer(
            issue,
            self.days_ago(9),
            Satisfaction.SATISFIED,
            Satisfaction.UNSATISFIED,
            "问题再次出现，请重新办理。",
        )
        self.progress(issue, self.days_ago(4), "已重新组织现场核查。")

    def closed_unreachable(self):
        """Resolved, but the enterprise cannot answer: closed as a documented exception."""
        for outcome, reason in (
            (Outcome.UNREACHABLE, "三次电话回访（三个工作日）均无人接听，联系人已离职。"),
            (Outcome.ENTERPRISE_CLOSED, "企业已注销，无法回访。"),
        ):
            issue, code, resolution = self.raise_from_visit(60, 110)
            r = issue.raised_on
            self.worked(issue, r, r + timedelta(days=30), progress_days=[self.wd(r, 4)])
            self.resolve(issue, self.wd(r, 9), resolution)
            self.at(self.wd(r, 20))
            workflow.close_unconfirmed(issue_id=issue.pk, by=self.coordinator, outcome=outcome, reason=reason)

    def new(self, n):
        for _ in range(n):
            self.raise_from_visit(1, 8)

    def assigned(self, n):
        for _ in range(n):
            issue, code, _res = self.raise_from_visit(4, 14)
            self.assign(issue, self.days_ago(1), self.today + timedelta(days=30))

    def objection_pending(self):
        issue, code, _res = self.raise_from_visit(4, 10)
        assigned = self.assign(issue, self.today, self.today + timedelta(days=20), dept_name="市商务局")
        self.at(self.today)
        workflow.object_to_assignment(
            issue_id=issue.pk,
            by=self.staff["市商务局"][0] if assigned.owner is None else assigned.owner,
            reason="该事项属于税费政策范畴，建议由市税务局主办。",
            suggested_department=self.depts["市税务局"],
        )

    def objection_decided(self, uphold: bool):
        issue, code, resolution = self.raise_from_visit(20, 60, category_code="tax")
        r = issue.raised_on
        day = self.wd(r, 1)
        assigned = self.assign(issue, day, r + timedelta(days=60), dept_name="市商务局")
        self.at(day)
        objection = workflow.object_to_assignment(
            issue_id=issue.pk,
            by=assigned.owner,
            reason="出口退税事项由税务部门主管。",
            suggested_department=self.depts["市税务局"],
        )
        self.at(self.wd(r, 2))
        workflow.decide_objection(
            objection_id=objection.pk,
            by=self.coordinator,
            uphold=uphold,
            note="同意调整主办单位。" if uphold else "该事项涉及外贸政策，仍由市商务局牵头，市税务局协办。",
            department=self.depts["市税务局"] if uphold else None,
            owner=self.staff["市税务局"][0] if uphold else None,
        )
        if not uphold:
            self.at(self.wd(r, 2))
            workflow.add_co_department(
                issue_id=issue.pk,
                by=self.coordinator,
                department=self.depts["市税务局"],
                report_by=self.wd(r, 8),
            )
        self.start(issue, self.wd(r, 3))
        self.progress(issue, self.days_ago(2), "已与企业逐笔核对退税材料。")

    def green(self, n, *, co=False, milestones=False):
        for i in range(n):
            plain = not (co or milestones)
            issue, code, _res = self.raise_from_visit(
                20 if not plain else 10, 60, **(self.ndrc_first(i) if plain else {})
            )
            r = issue.raised_on
            deadline = self.today + timedelta(days=self.rng.randint(20, 60))
            self.worked(
                issue,
                r,
                deadline,
                progress_days=[self.wd(r, 5)] if plain else [],
                dept_name=demo.LEAD_DEPARTMENT if plain and i == 0 else None,
            )
            if co:
                issue.refresh_from_db()
                other = next(d for d in self.depts if d not in (issue.lead_department.name, "市税务局"))
                self.at(self.wd(r, 3))
                workflow.add_co_department(
                    issue_id=issue.pk,
                    by=self.coordinator,
                    department=self.depts[other],
                    report_by=self.wd(r, 10),
                )
                if i == 0:
                    self.at(self.wd(r, 8))
                    workflow.co_report_in(
                        issue_id=issue.pk, by=self.staff[other][-1], report="我单位已完成职责范围内的审核。"
                    )
            if milestones:
                self.at(self.wd(r, 2))
                first = workflow.add_milestone(
                    issue_id=issue.pk, by=self.handler(issue), title="完成现场踏勘", due_on=self.wd(r, 6)
                )
                workflow.add_milestone(
                    issue_id=issue.pk,
                    by=self.handler(issue),
                    title="出具办理意见",
                    due_on=deadline - timedelta(days=7),
                )
                self.at(self.wd(r, 5))
                workflow.complete_milestone(milestone_id=first.pk, by=self.handler(issue), note="按期完成")
            self.progress(issue, self.days_ago(self.rng.randint(1, 5)), self.rng.choice(PROGRESS_NOTES))

    def blue(self, n):
        for i in range(n):
            issue, code, _res = self.raise_from_visit(20, 50, **self.ndrc_first(i))
            r = issue.raised_on
            deadline = workdays.add_workdays(self.today, 1 + i % 3)
            self.worked(
                issue,
                r,
                deadline,
                progress_days=[self.wd(r, 5), self.days_ago(2)],
                dept_name=demo.LEAD_DEPARTMENT if i == 0 else None,
            )

    def extension_pending(self):
        issue, code, _res = self.raise_from_visit(20, 50, category_code="land")
        r = issue.raised_on
        deadline = workdays.add_workdays(self.today, 2)
        self.worked(issue, r, deadline, progress_days=[self.days_ago(3)], dept_name=demo.LEAD_DEPARTMENT)
        self.at(self.today)
        workflow.request_extension(
            issue_id=issue.pk,
            by=self.handler(issue),
            deadline=deadline + timedelta(days=30),
            reason="需等待上级部门会签意见，申请延期30天。",
        )

    def extension_approved(self):
        issue, code, _res = self.raise_from_visit(40, 90)
        r = issue.raised_on
        first = self.wd(r, 20)
        self.worked(issue, r, first, progress_days=[self.wd(r, 5)])
        self.at(self.wd(r, 15))
        request = workflow.request_extension(
            issue_id=issue.pk,
            by=self.handler(issue),
            deadline=self.today + timedelta(days=40),
            reason="项目需经专家论证，论证会安排在下月。",
        )
        self.at(self.wd(r, 16))
        workflow.decide_extension(request_id=request.pk, by=self.coordinator, approve=True, note="同意延期。")
        self.progress(issue, self.days_ago(4), "专家论证材料已准备完毕。")

    def yellow_milestone(self, n):
        for i in range(n):
            issue, code, _res = self.raise_from_visit(25, 60, **self.ndrc_first(i))
            r = issue.raised_on
            deadline = self.today + timedelta(days=30)
            self.worked(issue, r, deadline, dept_name=demo.LEAD_DEPARTMENT if i == 0 else None)
            self.at(self.wd(r, 2))
            workflow.add_milestone(
                issue_id=issue.pk, by=self.handler(issue), title="完成方案论证", due_on=self.days_ago(5)
            )
            workflow.add_milestone(
                issue_id=issue.pk,
                by=self.handler(issue),
                title="完成审批",
                due_on=deadline - timedelta(days=5),
            )
            self.progress(issue, self.days_ago(2), "方案论证会因专家时间冲突推迟。")

    def yellow_stalled(self, n):
        for _ in range(n):
            issue, code, _res = self.raise_from_visit(35, 80)
            r = issue.raised_on
            last = workdays.add_workdays(self.today, -12)
            self.worked(issue, r, self.today + timedelta(days=35), progress_days=[last])

    def red(self, n):
        for i in range(n):
            issue, code, _res = self.raise_from_visit(50, 118)
            r = issue.raised_on
            deadline = min(r + timedelta(days=30), self.days_ago(3 + 7 * i))
            self.worked(issue, r, deadline, progress_days=[self.wd(r, 6), self.wd(r, 15)])

    def red_extension_refused(self):
        issue, code, _res = self.raise_from_visit(60, 118)
        r = issue.raised_on
        deadline = self.wd(r, 20)
        self.worked(issue, r, deadline, progress_days=[self.wd(r, 5)])
        self.at(self.wd(r, 18))
        request = workflow.request_extension(
            issue_id=issue.pk,
            by=self.handler(issue),
            deadline=deadline + timedelta(days=60),
            reason="企业补充材料未到位。",
        )
        self.at(self.wd(r, 19))
        workflow.decide_extension(
            request_id=request.pk,
            by=self.coordinator,
            approve=False,
            note="材料问题应督促企业补正，不同意延期。",
        )
        self.progress(issue, self.wd(r, 25), "仍在督促企业补正材料。")

    def common_issues(self):
        # A: in progress; four enterprise issues linked, two of them still new.
        title, code, description, dept = demo.COMMON_ISSUES[0]
        start_day = self.days_ago(40)
        linked_a = [self.raise_from_visit(46, 90, category_code=code)[0] for _ in range(4)]
        for issue in linked_a[2:]:
            self.assign(issue, self.wd(issue.raised_on, 1), self.today + timedelta(days=50), dept_name=dept)
        self.start(linked_a[3], self.wd(linked_a[3].raised_on, 3))
        self.at(start_day)
        common_a = workflow.create_common_issue(
            by=self.coordinator, title=title, category=self.categories[code], description=description
        )
        workflow.merge_into_common(
            issue_ids=[i.pk for i in linked_a],
            common_issue_id=common_a.pk,
            by=self.coordinator,
            note="同类问题合并为共性问题统一推动解决。",
        )
        self.assign(common_a, self.wd(start_day, 1), self.today + timedelta(days=45), dept_name=dept)
        self.start(common_a, self.wd(start_day, 2), "牵头研究压减用电报装时限的政策措施。")
        self.progress(common_a, self.days_ago(1), "政策措施征求意见稿已发各相关单位。")

        # B: resolved with every linked issue (the new one is assigned first, then resolved).
        title, code, description, dept = demo.COMMON_ISSUES[1]
        start_day = self.days_ago(30)
        linked_b = [self.raise_from_visit(36, 100, category_code=code)[0] for _ in range(3)]
        for issue in linked_b[1:]:
            self.assign(issue, self.wd(issue.raised_on, 1), self.today + timedelta(days=20), dept_name=dept)
        self.start(linked_b[2], self.wd(linked_b[2].raised_on, 2))
        self.at(start_day)
        common_b = workflow.create_common_issue(
            by=self.coordinator, title=title, category=self.categories[code], description=description
        )
        workflow.merge_into_common(
            issue_ids=[i.pk for i in linked_b], common_issue_id=common_b.pk, by=self.coordinator
        )
        self.assign(common_b, self.wd(start_day, 1), self.today + timedelta(days=10), dept_name=dept)
        self.start(common_b, self.wd(start_day, 2))
        self.resolve(
            common_b,
            self.days_ago(5),
            "出台出口退税提速措施，一类、二类出口企业退税3个工作日内办结。",
            resolve_linked=True,
            by=self.coordinator,  # the linked issues are other departments': a coordinator's call
        )
        self.confirm(linked_b[1], self.days_ago(2), Satisfaction.SATISFIED, Satisfaction.SATISFIED)

    def from_survey(self, survey_responses):
        for i, response in enumerate(survey_responses[:3]):
            code, title, description, resolution = self.template(["labour", "tax", "energy"][i])
            self.at(response.submitted_on)
            issue = workflow.raise_issue(
                by=self.coordinator,
                enterprise=response.enterprise,
                survey_response=response,
                source=Source.SURVEY,
                title=title,
                description=response.needs or description,
                category=self.categories[code],
                raised_on=response.submitted_on,
            )
            r = issue.raised_on
            if i == 0:
                self.worked(issue, r, r + timedelta(days=30), progress_days=[self.wd(r, 4)])
                self.resolve(issue, self.wd(r, 12), resolution)
                self.confirm(issue, self.wd(r, 14))
            elif i == 1:
                self.worked(issue, r, self.today + timedelta(days=25), progress_days=[self.days_ago(3)])
            else:
                self.at(self.wd(r, 1))
                workflow.close(
                    issue_id=issue.pk,
                    by=self.coordinator,
                    outcome=Outcome.NOT_ACTIONABLE,
                    reason="企业已自行解决，无需政府协调。",
                )

    def enterprise_requests(self):
        """企业吹哨、部门报到: enterprises raising problems between visits."""
        for i, age in enumerate([2, 20]):
            enterprise = self.enterprises[(7 * i + 11) % len(self.enterprises)]
            code, title, description, _res = self.template(["logistics", "financing"][i])
            raised = self.workday_on_or_before(self.days_ago(age))
            self.at(raised)
            issue = workflow.raise_issue(
                by=self.coordinator,
                enterprise=enterprise,
                source=Source.ENTERPRISE_REQUEST,
                title=title,
                description=description,
                category=self.categories[code],
                raised_on=raised,
            )
            if i == 1:
                self.worked(issue, raised, self.today + timedelta(days=28), progress_days=[self.days_ago(1)])

    def make_survey(self) -> list[SurveyResponse]:
        held_on = self.workday_on_or_before(self.days_ago(112))
        survey = Survey.objects.create(name=demo.SURVEY_NAME, held_on=held_on)
        responses = []
        for i, enterprise in enumerate(self.enterprises[::3]):
            need, need_category = demo.NEEDS[i % len(demo.NEEDS)]
            difficulty = "、".join(self.rng.sample(demo.DIFFICULTIES, 2))
            contact = enterprise.contacts.first()
            answers = {
                "operating_status": self.rng.choice(
                    [OperatingStatus.NORMAL, OperatingStatus.NORMAL, OperatingStatus.MOSTLY_NORMAL]
                ),
                "order_trend": self.rng.choice(list(OrderTrend.values)),
                "employees": enterprise.employees,
                "labour_shortage": self.rng.choice([0, 0, 10, 25, 60]),
            }
            responses.append(
                SurveyResponse.objects.create(
                    survey=survey,
                    enterprise=enterprise,
                    submitted_on=held_on,
                    difficulties=difficulty,
                    needs=need,
                    need_categories=need_category,
                    contact_name=contact.name if contact else "",
                    contact_phone=contact.phone if contact else "",
                    raw_row={
                        "统一社会信用代码": enterprise.credit_code,
                        "企业名称": enterprise.name,
                        "所在区": enterprise.district.name,
                        "填报日期": held_on.isoformat(),
                        "主要困难": difficulty,
                        "诉求类别": need_category,
                        "具体诉求": need,
                    },
                    source_file="demo.csv",
                    source_row=i + 2,
                    **answers,
                )
            )
        return responses

    def tell(self) -> None:
        self.make_visits()
        responses = self.make_survey()
        self.on_site(10)
        self.confirmed(12)
        self.reopened_then_confirmed()
        self.reopened_from_closed()
        self.closed_without_resolving()
        self.resolved_waiting(4)
        self.resolved_unsatisfied()
        self.answered_online(3)
        self.sent_back_after_closing()
        self.closed_unreachable()
        self.objection_decided(uphold=True)
        self.objection_decided(uphold=False)
        self.green(7)
        self.green(2, co=True)
        self.green(2, milestones=True)
        self.blue(3)
        self.extension_pending()
        self.extension_approved()
        self.yellow_milestone(2)
        self.yellow_stalled(2)
        self.red(3)
        self.red_extension_refused()
        self.common_issues()
        self.from_survey(responses)
        self.enterprise_requests()
        self.assigned(3)
        self.objection_pending()
        self.new(5)


PROGRESS_NOTES = [
    "已召开专题协调会，明确各方职责。",
    "已赴企业现场调研，收集相关材料。",
    "已形成初步办理方案，正在征求意见。",
    "相关审批材料已进入审查环节。",
    "已与企业再次沟通办理进展。",
]


# -- the command ---------------------------------------------------------------------------------


class Command(BaseCommand):
    help = "Load the demo city: 50 key enterprises, visits, issues in every state, one login per role."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even though DEBUG is off (demo accounts have a published password).",
        )

    def handle(self, *args, **options):
        if not (settings.DEBUG or getattr(settings, "TESTING", False) or options["allow_production"]):
            raise CommandError(
                "Refusing to load demo data with DEBUG off: the demo accounts share a published "
                "password. Pass --allow-production if you really mean it."
            )
        started = time.monotonic()
        with transaction.atomic():
            accounts = ensure_accounts()
            users = accounts["users"]
            depts = ensure_departments()
            staff = ensure_department_staff(depts, users["department"])
            leaders, cadres = ensure_officials(users["official"])
            enterprises = ensure_enterprises(depts, leaders)
            if Survey.objects.filter(name=demo.SURVEY_NAME).exists():
                told = False
            else:
                second_official = self._second_official(cadres)
                with replayed_history() as clock:
                    Story(
                        clock=clock,
                        rng=random.Random(SEED),
                        accounts=users,
                        depts=depts,
                        staff=staff,
                        leaders=leaders,
                        cadres=cadres,
                        enterprises=enterprises,
                        second_official=second_official,
                    ).tell()
                told = True
            ensure_enterprise_account(users["enterprise"])
        self._report(accounts, told, time.monotonic() - started)

    def _second_official(self, cadres):
        """A second visiting cadre, so the demo official sees only some visits' issues."""
        User = get_user_model()
        user, made = User.objects.get_or_create(
            username="demo_cadre", defaults={"first_name": cadres[1].name}
        )
        if made:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=Role.OFFICIAL))
        if cadres[1].user_id is None:
            cadres[1].user = user
            cadres[1].save(update_fields=["user"])
        return user

    def _report(self, accounts, told, seconds):
        out = self.stdout
        if told:
            out.write(self.style.SUCCESS("Demo data loaded."))
        else:
            out.write("Demo data already present: only the demo accounts were checked.")
        out.write("")
        out.write(f"Demo accounts (password for all: {DEMO_PASSWORD})")
        out.write(f"  {'username':<13}{'role':<16}{'password':<22}note")
        for username, (role, _name, is_staff, _su) in DEMO_ACCOUNTS.items():
            note = []
            if is_staff:
                note.append("admin site")
            if username == "department":
                note.append(demo.LEAD_DEPARTMENT)
            if username == "enterprise":
                account = accounts["users"][username].enterprise_account
                note.append(f"{account.enterprise.name} (/e/)")
            if username not in accounts["created"]:
                note.append("existing account: password unchanged")
            out.write(f"  {username:<13}{role:<16}{DEMO_PASSWORD:<22}{', '.join(note)}")
        out.write("")
        today = timezone.localdate()
        statuses = Counter(Issue.objects.values_list("status", flat=True))
        colours = Counter(Issue.objects.with_colour(today).values_list("colour", flat=True))
        visits = Counter(Visit.objects.values_list("status", flat=True))
        out.write(f"  enterprises     {Enterprise.objects.count()} ({Enterprise.objects.key().count()} key)")
        # Values, not labels: this table is for whoever runs the command, in any language.
        out.write("  visits          " + ", ".join(f"{s} {visits.get(s, 0)}" for s in VisitStatus.values))
        out.write(
            "  issues          "
            + ", ".join(f"{s} {statuses.get(s, 0)}" for s in Status.values)
            + f" (solved on the spot {Issue.objects.filter(solved_on_site=True).count()})"
        )
        out.write(
            "  colours today   "
            + ", ".join(f"{c} {colours.get(c, 0)}" for c in (Colour.RED, Colour.YELLOW, Colour.BLUE))
            + f", on track {colours.get(Colour.NONE, 0)}"
        )
        out.write(f"  took            {seconds:.1f} s")
