"""`manage.py seed_scale`: a deterministic city-scale data set for benchmarks and drills.

    manage.py seed_scale                      # 5,000 enterprises, 200,000 issues, ~1M events
    manage.py seed_scale --scale 0.1          # a tenth of every count
    manage.py seed_scale --issues 50000 --password 'correct-horse-battery-9'

BULK, NOT THROUGH THE WORKFLOW. Rows are written with `bulk_create` in batches (no COPY,
no `save()`, no signals, no per-row permission checks, no history), because running
200,000 issues through `issues.workflow` one step at a time would take hours. The
workflow is still the only way the app changes an issue; this command only fabricates a
past that the workflow *could* have produced:

- every row satisfies the models' CheckConstraints (the database refuses it otherwise);
- status-dependent fields match the status (assigned ⇒ department, deadline, assigned_at;
  resolved ⇒ resolution, resolved_at; closed ⇒ outcome and its text; on-the-spot ⇒
  closed as resolved on the day it was raised);
- `respond_by`, `due_soon_from` and `stalled_from` are computed exactly as the workflow
  does (`Issue.compute_supervision_dates`, `issues.workdays`, cached per date);
- each issue's IssueEvent rows tell its story in order (raised → assigned → started →
  progress … → resolved → feedback → confirmed; or raised → closed; raised → confirmed
  for an issue settled on the spot), with the status_from/status_to the workflow writes;
- owners are members of their issue's lead department.

Deterministic: the same `--seed` and `--today` give the same rows. Every status and every
supervision colour (red, yellow, blue, on track) is present on `--today`. A few departments
own most issues (Zipf-like weights), as in a real city.
"""

import random
import time
from datetime import date, datetime, timedelta
from functools import cache
from itertools import accumulate
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from dashboard import rollup
from enterprises.credit_code import ALPHABET, check_character
from enterprises.models import (
    Contact,
    District,
    Enterprise,
    EnterpriseAccount,
    OperatingStatus,
    OrderTrend,
    Sector,
    Survey,
    SurveyResponse,
)
from issues import workdays
from issues.models import (
    ACTIVE_STATUSES,
    RESPONSE_WORKDAYS,
    Category,
    Channel,
    CoDepartment,
    Department,
    EventKind,
    FeedbackRound,
    Issue,
    IssueEvent,
    Milestone,
    Outcome,
    Priority,
    Satisfaction,
    Scope,
    Source,
    Status,
)
from issues.roles import Role
from visits.models import Official, Topic, Visit, VisitStatus

BASE = {
    "enterprises": 5000,
    "departments": 40,
    "users": 400,
    "visits": 30000,
    "issues": 200000,
}
MINIMUM = {"enterprises": 20, "departments": 4, "users": 30, "visits": 40, "issues": 120}
YEARS = 3
TZ = ZoneInfo(settings.TIME_ZONE)

DEPARTMENT_NAMES = [
    "市发展改革委", "市税务局", "市工业和信息化局", "市商务局", "市市场监管委", "市人力资源社会保障局",
    "市规划资源局", "市住房城乡建设委", "市生态环境局", "市交通运输委", "市科技局", "市财政局",
    "市金融局", "市应急管理局", "市水务局", "市城市管理委", "市农业农村委", "市政务服务办",
    "国网天津电力", "天津海关", "市教委", "市卫生健康委", "市公安局", "市司法局", "市文化和旅游局",
    "市统计局", "市国资委", "市医保局", "市知识产权局", "市消防救援总队", "滨海新区政府", "和平区政府",
    "河西区政府", "南开区政府", "河东区政府", "河北区政府", "红桥区政府", "东丽区政府", "西青区政府",
    "津南区政府",
]  # fmt: skip
NAME_WORDS = ["华信", "津港", "海河", "渤海", "恒通", "新源", "宏达", "中环", "泰丰", "联创", "金桥", "瑞丰",
              "天成", "北方", "滨城", "远航", "博远", "鑫达", "汇智", "盛世"]  # fmt: skip
INDUSTRIES = ["汽车制造", "石油化工", "装备制造", "电子信息", "生物医药", "新材料", "批发零售", "物流仓储",
              "软件服务", "商务服务", "食品加工", "航空航天"]  # fmt: skip
TITLES = ["用电增容审批进度慢", "增值税留抵退税咨询", "流动资金贷款需求", "厂区扩建用地规划调整",
          "天然气供应保障", "技术工人招聘困难", "港口集疏运通道拥堵", "新产品市场准入许可",
          "研发费用加计扣除政策落实", "环评审批时限", "员工子女入学", "电子税务局功能优化",
          "出口退税办理", "项目能评审批", "道路施工影响物流"]  # fmt: skip
SECTOR_WEIGHTS = [
    (Sector.INDUSTRIAL, 50),
    (Sector.WHOLESALE_RETAIL, 20),
    (Sector.SERVICES, 25),
    (Sector.OTHER, 5),
]
# Users by role, out of 400 (the rest of the 400 are department staff).
ROLE_SHARE = {
    Role.ADMINISTRATOR: 4,
    Role.COORDINATOR: 16,
    Role.LEADER: 12,
    Role.OFFICIAL: 120,
    Role.ENTERPRISE: 20,  # contacts of key enterprises with their own login (issue 16)
}


@cache
def add_workdays(day: date, n: int) -> date:
    """`workdays.add_workdays`, memoised: the seed asks for the same few thousand dates."""
    return workdays.add_workdays(day, n)


def credit_code(n: int) -> str:
    serial = ""
    for _ in range(9):
        n, r = divmod(n, len(ALPHABET))
        serial = ALPHABET[r] + serial
    base = "91120000" + serial  # area 0000: never collides with the demo's or the tests' codes
    return base + check_character(base)


def weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def zipf_weights(n: int, s: float = 1.3) -> list[float]:
    return [1 / (i + 1) ** s for i in range(n)]


class Command(BaseCommand):
    help = "Bulk-create a deterministic city-scale data set (not through the workflow; see docstring)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="Multiply every count (0.01 for tests).")
        for name in BASE:
            parser.add_argument(
                f"--{name}", type=int, help=f"Number of {name} (default {BASE[name]} × scale)."
            )
        parser.add_argument("--seed", type=int, default=20240601)
        parser.add_argument("--today", type=date.fromisoformat, help="The day the data ends (YYYY-MM-DD).")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--password",
            default="",
            help="Password for every seeded user (for benchmarks). Without it, logins are impossible.",
        )
        parser.add_argument(
            "--allow-existing", action="store_true", help="Seed even if the database already has issues."
        )

    # -- entry -----------------------------------------------------------------------------------
    def handle(self, *args, **opts):
        if Issue.objects.exists() and not opts["allow_existing"]:
            raise CommandError("The database already has issues; use --allow-existing to add more.")
        self.rng = random.Random(opts["seed"])
        self.today = opts["today"] or timezone.localdate()
        self.start = self.today - timedelta(days=365 * YEARS)
        self.batch = opts["batch_size"]
        self.counts = {
            name: opts[name]
            if opts[name] is not None
            else max(MINIMUM[name], round(BASE[name] * opts["scale"]))
            for name in BASE
        }
        self.counts["departments"] = min(self.counts["departments"], len(DEPARTMENT_NAMES))
        self.password_hash = make_password(opts["password"]) if opts["password"] else make_password(None)
        self.timings: list[tuple[str, float, int]] = []
        began = time.monotonic()
        with transaction.atomic():
            self.step("reference data", self.seed_reference)
            self.step("users", self.seed_users)
            self.step("enterprises", self.seed_enterprises)
            self.step("visits", self.seed_visits)
            self.step("surveys", self.seed_surveys)
            self.step("issues and events", self.seed_issues)
        # Bulk inserts bypass `issues.history`: the dashboard's daily counts are made from
        # the history once, at the end.
        self.step("figure rollup", rollup.rebuild)
        total = time.monotonic() - began
        for label, seconds, rows in self.timings:
            self.stdout.write(f"  {label:<20} {rows:>9} rows  {seconds:7.1f} s")
        self.stdout.write(self.style.SUCCESS(f"seed_scale done in {total:.1f} s"))

    def step(self, label, fn):
        began = time.monotonic()
        rows = fn()
        self.timings.append((label, time.monotonic() - began, rows))

    def at(self, day: date, minute: int = 0) -> datetime:
        """A working-hours timestamp on `day`; `minute` orders events of the same day."""
        return datetime(day.year, day.month, day.day, 9, 0, tzinfo=TZ) + timedelta(minutes=minute)

    def past_day(self, bias: float = 1.4) -> date:
        """A day in the three years, more of them recent (the work grows)."""
        days = (self.today - self.start).days
        return self.today - timedelta(days=int(days * self.rng.random() ** bias))

    # -- reference data, people -----------------------------------------------------------------
    def seed_reference(self) -> int:
        self.districts = list(District.objects.all())
        if not self.districts:
            self.districts = District.objects.bulk_create(
                [District(name=f"第{i + 1}区", sort_order=i) for i in range(16)]
            )
        self.categories = list(Category.objects.all())
        if not self.categories:
            raise CommandError("No categories: run migrate first.")
        names = DEPARTMENT_NAMES[: self.counts["departments"]]
        existing = {d.name: d for d in Department.objects.filter(name__in=names)}
        Department.objects.bulk_create(
            [Department(name=n, short_name=n[:10]) for n in names if n not in existing]
        )
        by_name = {d.name: d for d in Department.objects.filter(name__in=names)}
        self.departments = [by_name[n] for n in names]
        # A few departments own most issues.
        self.department_weights = list(accumulate(zipf_weights(len(self.departments))))
        self.category_weights = list(accumulate(zipf_weights(len(self.categories), 0.8)))
        return len(self.departments)

    def seed_users(self) -> int:
        User = get_user_model()
        n = self.counts["users"]
        roles = []
        for role, share in ROLE_SHARE.items():
            roles += [role] * max(1, round(n * share / 400))
        roles += [Role.DEPARTMENT] * max(len(self.departments), n - len(roles))
        users = []
        for i, role in enumerate(roles):
            users.append(
                User(
                    username=f"{role}{i:04d}",
                    first_name=f"{role}{i:04d}",
                    # One in ten has no email address: reminders must skip them.
                    email="" if i % 10 == 9 else f"{role}{i:04d}@example.invalid",
                    password=self.password_hash,
                    is_staff=role in (Role.COORDINATOR, Role.ADMINISTRATOR),
                    is_superuser=role == Role.ADMINISTRATOR,
                    date_joined=self.at(self.start),
                )
            )
        users = User.objects.bulk_create(users, batch_size=self.batch)
        groups = {g.name: g for g in Group.objects.filter(name__in=Role.values)}
        User.groups.through.objects.bulk_create(
            [
                User.groups.through(user_id=u.pk, group_id=groups[r].pk)
                for u, r in zip(users, roles, strict=True)
            ],
            batch_size=self.batch,
        )
        self.by_role = {r: [u for u, ur in zip(users, roles, strict=True) if ur == r] for r in Role.values}
        # Department staff: every department has at least one member; big departments more.
        staff = self.by_role[Role.DEPARTMENT]
        self.members: dict[int, list[int]] = {d.pk: [] for d in self.departments}
        for i, user in enumerate(staff):
            if i < len(self.departments):
                dept = self.departments[i]
            else:
                dept = self.rng.choices(self.departments, cum_weights=self.department_weights)[0]
            self.members[dept.pk].append(user.pk)
        Department.members.through.objects.bulk_create(
            [
                Department.members.through(department_id=d, user_id=u)
                for d, us in self.members.items()
                for u in us
            ],
            batch_size=self.batch,
        )
        self.coordinator_ids = [u.pk for u in self.by_role[Role.COORDINATOR]]
        self.official_user_ids = [u.pk for u in self.by_role[Role.OFFICIAL]]
        officials = [
            Official(name=f"官员{i:04d}", title="处长", organisation="市委办公厅", user_id=uid)
            for i, uid in enumerate(self.official_user_ids)
        ] + [Official(name=f"市领导{i:02d}", title="副市长") for i in range(max(2, n // 40))]
        self.officials = Official.objects.bulk_create(officials, batch_size=self.batch)
        return len(users)

    def seed_enterprises(self) -> int:
        rng = self.rng
        rows, contacts = [], []
        for i in range(self.counts["enterprises"]):
            district = self.districts[i % len(self.districts)]
            rows.append(
                Enterprise(
                    name=f"天津{rng.choice(NAME_WORDS)}{rng.choice(INDUSTRIES)}{i:05d}有限公司",
                    credit_code=credit_code(i + 1),
                    sector=weighted(rng, SECTOR_WEIGHTS),
                    industry=rng.choice(INDUSTRIES),
                    district=district,
                    address=f"{district.name}{rng.randint(1, 999)}号",
                    employees=rng.randint(20, 20000),
                    is_key=i % 10 == 0,
                    liaison_department=self.departments[i % len(self.departments)] if i % 10 == 0 else None,
                )
            )
        self.enterprises = Enterprise.objects.bulk_create(rows, batch_size=self.batch)
        for e in self.enterprises:
            contacts.append(Contact(enterprise=e, name="联系人", phone="022-12345678", is_primary=True))
        contacts = Contact.objects.bulk_create(contacts, batch_size=self.batch)
        # Enterprise accounts: the contacts of the first key enterprises.
        key_contacts = [c for c in contacts if c.enterprise.is_key]
        accounts = [
            EnterpriseAccount(user=user, enterprise=contact.enterprise, contact=contact)
            for user, contact in zip(self.by_role[Role.ENTERPRISE], key_contacts, strict=False)
        ]
        EnterpriseAccount.objects.bulk_create(accounts, batch_size=self.batch)
        # Key enterprises are visited and raise issues far more often.
        self.enterprise_weights = list(accumulate(8.0 if e.is_key else 1.0 for e in self.enterprises))
        return len(rows) + len(contacts) + len(accounts)

    def seed_visits(self) -> int:
        rng = self.rng
        rows = []
        for _ in range(self.counts["visits"]):
            roll = rng.random()
            if roll < 0.04:
                status, day = VisitStatus.PLANNED, self.today + timedelta(days=rng.randint(1, 30))
            elif roll < 0.07:
                status, day = VisitStatus.CANCELLED, self.past_day()
            else:
                status, day = VisitStatus.COMPLETED, self.past_day()
            rows.append(
                Visit(
                    enterprise=rng.choices(self.enterprises, cum_weights=self.enterprise_weights)[0],
                    visited_on=day,
                    status=status,
                    topics=rng.sample(Topic.values, 3),
                    summary="走访了解生产经营情况，宣讲惠企政策。" if status == VisitStatus.COMPLETED else "",
                    created_by_id=rng.choice(self.official_user_ids),
                )
            )
        visits = Visit.objects.bulk_create(rows, batch_size=self.batch)
        Visit.lead_officials.through.objects.bulk_create(
            [
                Visit.lead_officials.through(visit_id=v.pk, official_id=o.pk)
                for v in visits
                for o in rng.sample(self.officials, rng.choice((1, 1, 2)))
            ],
            batch_size=self.batch,
        )
        Visit.accompanying_departments.through.objects.bulk_create(
            [
                Visit.accompanying_departments.through(visit_id=v.pk, department_id=d.pk)
                for v in visits
                if rng.random() < 0.3
                for d in rng.sample(self.departments, min(2, len(self.departments)))
            ],
            batch_size=self.batch,
        )
        self.completed_visits = [v for v in visits if v.status == VisitStatus.COMPLETED]
        return len(visits)

    def seed_surveys(self) -> int:
        rng = self.rng
        surveys = []
        for k in range(YEARS * 2):
            held = self.start + timedelta(days=90 + 182 * k)
            if held > self.today:
                break
            half = "上半年" if held.month <= 6 else "下半年"
            surveys.append(Survey(name=f"{held.year}年{half}重点企业问卷（规模测试 {k + 1}）", held_on=held))
        surveys = Survey.objects.bulk_create(surveys)
        rows = []
        for survey in surveys:
            for e in rng.sample(self.enterprises, max(1, len(self.enterprises) * 3 // 10)):
                rows.append(
                    SurveyResponse(
                        survey=survey,
                        enterprise=e,
                        submitted_on=min(self.today, survey.held_on + timedelta(days=rng.randint(0, 14))),
                        operating_status=rng.choice(OperatingStatus.values),
                        order_trend=rng.choice(OrderTrend.values),
                        employees=e.employees,
                        difficulties="原材料价格上涨",
                        needs="希望加快审批",
                    )
                )
        self.responses = SurveyResponse.objects.bulk_create(rows, batch_size=self.batch)
        return len(rows)

    # -- issues -------------------------------------------------------------------------------------
    def seed_issues(self) -> int:
        n = self.counts["issues"]
        n_common = max(2, n // 500)
        # The first issues are made to order, so a tiny seed still has every status and colour.
        forced = [("new", None), ("resolved", None), ("closed", None), ("closed_dup", None)]
        forced += [("in_progress", c) for c in ("red", "yellow", "blue", "none")]
        forced += [("assigned", c) for c in ("red", "yellow", "blue", "none")]
        self.common_ids: list[int] = []
        self.milestones: list[Milestone] = []
        self.co_handlings: list[CoDepartment] = []
        self.rounds: list[FeedbackRound] = []
        self.places = {e.pk: (e.district_id, e.sector) for e in self.enterprises}
        done = events = 0
        while done < n:
            # The common issues go first, alone, so later batches can link to them.
            size = min(self.batch, n - done) if done else min(n_common, n)
            planned = []
            for i in range(done, done + size):
                if i < n_common:
                    planned.append(self.plan_common())
                else:
                    f = forced[i - n_common] if i - n_common < len(forced) else (None, None)
                    planned.append(self.plan_individual(*f))
            issues = Issue.objects.bulk_create([p[0] for p in planned], batch_size=self.batch)
            if not self.common_ids:
                self.common_ids = [i.pk for i in issues[:n_common]]
            rows = []
            for issue, (_, story) in zip(issues, planned, strict=True):
                for ev in story:
                    ev.issue_id = issue.pk
                    rows.append(ev)
            for ms in self.milestones:
                ms.issue_id = ms.issue.pk
            Milestone.objects.bulk_create(self.milestones, batch_size=self.batch)
            self.milestones = []
            for co in self.co_handlings:
                co.issue_id = co.issue.pk
            CoDepartment.objects.bulk_create(self.co_handlings, batch_size=self.batch)
            self.co_handlings = []
            for feedback in self.rounds:
                feedback.issue_id = feedback.issue.pk
            FeedbackRound.objects.bulk_create(self.rounds, batch_size=self.batch)
            self.rounds = []
            IssueEvent.objects.bulk_create(rows, batch_size=self.batch)
            done += size
            events += len(rows)
            self.stdout.write(f"  issues {done}/{n}, events {events}", ending="\r")
            self.stdout.flush()
        self.stdout.write("")
        self.event_count = events
        return n + events

    def plan_co_department(self, issue, lead_id, assigned, seq, coordinator, story) -> None:
        """A co-handling department (协办单位), added when the issue is assigned; most have
        reported in by now."""
        rng = self.rng
        co_dept = rng.choice(self.departments)
        while co_dept.pk == lead_id:
            co_dept = rng.choice(self.departments)
        co = CoDepartment(issue=issue, department_id=co_dept.pk, report_by=assigned + timedelta(days=10))
        story.append(self.event(EventKind.CO_DEPARTMENT_ADDED, assigned, seq, coordinator,
                                department_id=co_dept.pk, note=f"{co.report_by:%Y-%m-%d}"))  # fmt: skip
        day = assigned + timedelta(days=rng.randint(2, 12))
        if day < self.today and rng.random() < 0.8:
            members = self.members[co_dept.pk]
            co.reported_on, co.report = day, "本单位承办部分已办理完毕。"
            actor = rng.choice(members) if members else coordinator
            story.append(self.event(EventKind.CO_REPORTED, day, seq, actor,
                                    department_id=co_dept.pk, note=co.report))  # fmt: skip
        self.co_handlings.append(co)

    def department(self) -> Department:
        return self.rng.choices(self.departments, cum_weights=self.department_weights)[0]

    def event(self, kind, day, seq, actor_id, **facts) -> IssueEvent:
        return IssueEvent(kind=kind, at=self.at(day, seq), actor_id=actor_id, day=day, **facts)

    def record_facts(self, issue: Issue, story: list[IssueEvent]) -> None:
        """What `issues.history` records with each event, for a story written in bulk: where
        it counts (the issue's department, category, district and sector), the first triage
        and each resolution judged against their dates."""
        district_id, sector = self.places.get(issue.enterprise_id, (None, ""))
        for event in story:
            event.scope, event.category_id, event.sector = issue.scope, issue.category_id, sector
            event.lead_department_id, event.district_id = issue.lead_department_id, district_id
            if event.kind == EventKind.RAISED:
                event.day = issue.raised_on
            first = event.kind in (EventKind.ASSIGNED, EventKind.MERGED) or (
                event.kind == EventKind.CLOSED and event.status_from == Status.NEW
            )
            if first and issue.triaged_at is None and issue.respond_by is not None:
                issue.triaged_at = event.at
                event.triage, event.due_on, event.in_time = (
                    True,
                    issue.respond_by,
                    event.day <= issue.respond_by,
                )
            if event.kind == EventKind.RESOLVED and not event.on_the_spot:
                event.due_on = event.deadline_to = issue.deadline
                event.in_time = event.day <= issue.deadline
                event.in_time_original = event.day <= issue.original_deadline
                event.days = (event.day - issue.raised_on).days

    def plan_common(self):
        rng = self.rng
        raised = self.past_day()
        issue = Issue(
            scope=Scope.COMMON,
            source=Source.OTHER,
            title=f"共性问题：{rng.choice(TITLES)}",
            description="多家企业反映的共性问题，需在政策层面统一解决。",
            category=rng.choices(self.categories, cum_weights=self.category_weights)[0],
            raised_by_id=rng.choice(self.coordinator_ids),
            raised_on=raised,
        )
        return self.finish_plan(issue, status=None, colour=None)

    def plan_individual(self, status, colour):
        rng = self.rng
        roll = rng.random()
        issue = Issue(
            title=rng.choice(TITLES),
            description="企业反映的问题，详见走访记录。",
            category=rng.choices(self.categories, cum_weights=self.category_weights)[0],
            priority=weighted(rng, [(Priority.NORMAL, 85), (Priority.HIGH, 12), (Priority.URGENT, 3)]),
        )
        if roll < 0.55 and self.completed_visits:
            visit = rng.choice(self.completed_visits)
            issue.source, issue.visit_id, issue.enterprise_id = Source.VISIT, visit.pk, visit.enterprise_id
            issue.raised_on, issue.raised_by_id = visit.visited_on, visit.created_by_id
        elif roll < 0.70 and self.responses:
            response = rng.choice(self.responses)
            issue.source, issue.survey_response_id = Source.SURVEY, response.pk
            issue.enterprise_id = response.enterprise_id
            issue.raised_on = min(self.today, response.submitted_on + timedelta(days=rng.randint(0, 7)))
            issue.raised_by_id = rng.choice(self.coordinator_ids)
        else:
            issue.source = Source.ENTERPRISE_REQUEST if roll < 0.9 else Source.OTHER
            issue.enterprise_id = rng.choices(self.enterprises, cum_weights=self.enterprise_weights)[0].pk
            issue.raised_on, issue.raised_by_id = self.past_day(), rng.choice(self.coordinator_ids)
        if status is not None:  # made to order: recent enough for its colour story
            issue.raised_on = self.today - timedelta(days=60 if colour == "red" else 30)
        return self.finish_plan(issue, status, colour)

    def pick_status(self, issue: Issue) -> str:
        """Older issues are mostly closed; recent ones are still being worked on."""
        age = (self.today - issue.raised_on).days
        if age <= 5:
            table = [("new", 35), ("assigned", 30), ("in_progress", 20), ("resolved", 5), ("closed", 10)]
        elif age <= 60:
            table = [("new", 2), ("assigned", 12), ("in_progress", 40), ("resolved", 16), ("closed", 30)]
        elif age <= 365:
            table = [("new", 0.2), ("assigned", 0.8), ("in_progress", 4), ("resolved", 3), ("closed", 92)]
        else:
            table = [("in_progress", 0.3), ("resolved", 0.5), ("closed", 99.2)]
        status = weighted(self.rng, table)
        if status == "closed":
            roll = self.rng.random()
            if issue.source == Source.VISIT and roll < 0.12:
                return "on_site"
            if roll < 0.17 and issue.scope == Scope.INDIVIDUAL:
                return "closed_dup"
        return status

    def finish_plan(self, issue: Issue, status: str | None, colour: str | None):
        """The issue's story, and on each of its events the facts `issues.history` records
        (every story: a new issue's "raised" counts as much as a confirmed one's)."""
        issue, story = self.tell_story(issue, status, colour)
        self.record_facts(issue, story)
        return issue, story

    def tell_story(self, issue: Issue, status: str | None, colour: str | None):
        """Fill the status-dependent fields and write the events the workflow would have."""
        rng, today = self.rng, self.today
        status = status or self.pick_status(issue)
        raised = issue.raised_on
        issue.respond_by = add_workdays(raised, RESPONSE_WORKDAYS)
        story = [self.event(EventKind.RAISED, raised, 0, issue.raised_by_id, note=issue.description[:500])]
        seq = 1
        if (
            issue.scope == Scope.INDIVIDUAL
            and self.common_ids
            and status != "closed_dup"
            and rng.random() < 0.03
        ):
            issue.common_issue_id = rng.choice(self.common_ids)
            story.append(self.event(EventKind.MERGED, raised, seq, rng.choice(self.coordinator_ids)))
            seq += 1

        def clamp(day: date) -> date:
            return min(day, today)

        if status == "new":
            if colour is None:  # an unassigned issue is a fresh one
                issue.raised_on = raised = max(raised, today - timedelta(days=rng.randint(0, 6)))
                issue.respond_by = add_workdays(raised, RESPONSE_WORKDAYS)
                story[0].at = self.at(raised)
                if len(story) > 1:
                    story[1].at = self.at(raised, 1)
            return issue, story
        if status == "on_site":
            now = self.at(raised, seq)
            issue.status, issue.outcome, issue.solved_on_site = Status.CLOSED, Outcome.RESOLVED, True
            issue.resolution, issue.resolved_at, issue.closed_at = "现场协调解决。", now, now
            issue.respond_by = None  # nothing to triage
            story.append(
                self.event(
                    EventKind.RESOLVED,
                    raised,
                    seq,
                    issue.raised_by_id,
                    note=issue.resolution,
                    on_the_spot=True,
                )
            )
            seq += 1
            story.append(
                self.event(
                    EventKind.CONFIRMED,
                    raised,
                    seq,
                    issue.raised_by_id,
                    note=issue.resolution,
                    status_from=Status.NEW,
                    status_to=Status.CLOSED,
                )  # fmt: skip
            )
            return issue, story
        coordinator = rng.choice(self.coordinator_ids)
        if status == "closed_dup":
            day = clamp(add_workdays(raised, rng.randint(0, 3)))
            issue.status = Status.CLOSED
            issue.outcome = rng.choice([Outcome.DUPLICATE, Outcome.NOT_ACTIONABLE])
            issue.close_reason, issue.closed_at = "与已登记问题重复或不属于政府职责范围。", self.at(day, seq)
            story.append(
                self.event(
                    EventKind.CLOSED,
                    day,
                    seq,
                    coordinator,
                    note=f"{issue.outcome}: {issue.close_reason}",
                    status_from=Status.NEW,
                    status_to=Status.CLOSED,
                )  # fmt: skip
            )
            return issue, story

        # Assigned: department, owner (a member, or nobody yet), deadline.
        dept = self.department()
        assigned = clamp(add_workdays(raised, weighted(rng, [(0, 2), (1, 4), (2, 3), (3, 1), (5, 1)])))
        if colour == "blue":
            assigned = today - timedelta(days=2)
        elif colour == "none":
            assigned = today - timedelta(days=1)
        issue.lead_department_id = dept.pk
        members = self.members[dept.pk]
        issue.owner_id = rng.choice(members) if members and rng.random() < 0.7 else None
        issue.original_deadline = issue.deadline = assigned + timedelta(
            days=rng.choice((15, 30, 30, 45, 60, 90))
        )
        issue.assigned_at = self.at(assigned, seq)
        issue.last_progress_on = assigned
        issue.status = Status.ASSIGNED
        story.append(
            self.event(
                EventKind.ASSIGNED,
                assigned,
                seq,
                coordinator,
                status_from=Status.NEW,
                status_to=Status.ASSIGNED,
                department_id=dept.pk,
                owner_id=issue.owner_id,
                deadline_to=issue.deadline,
            )  # fmt: skip
        )
        seq += 1
        # Not on the made-to-order issues: their dates are fixed for their colour, and their
        # random draws stay as they were.
        if colour is None and len(self.departments) > 1 and rng.random() < 0.06:
            self.plan_co_department(issue, dept.pk, assigned, seq, coordinator, story)
            seq += 1
        worker = issue.owner_id or (rng.choice(members) if members else coordinator)
        if colour:  # made to order, on `today`
            issue.deadline = issue.original_deadline = {
                "red": today - timedelta(days=5),
                "yellow": today + timedelta(days=30),
                "blue": add_workdays(today, 2),
                "none": today + timedelta(days=40),
            }[colour]
            story[-1].deadline_to = issue.deadline
        elif rng.random() < 0.06 and assigned < today:  # an extension granted by a coordinator
            old = issue.deadline
            issue.deadline = old + timedelta(days=rng.choice((15, 30, 45)))
            day = clamp(min(old, assigned + timedelta(days=rng.randint(1, 10))))
            story.append(
                self.event(
                    EventKind.DEADLINE_CHANGED,
                    day,
                    seq,
                    coordinator,
                    note="企业项目进度调整，申请延期。",
                    deadline_from=old,
                    deadline_to=issue.deadline,
                )  # fmt: skip
            )
            seq += 1
        last = max(assigned, story[-1].at.date())

        if status != "assigned":
            started = clamp(last + timedelta(days=rng.randint(0, 5)))
            # Made to order: started long enough ago for its colour, never before it was
            # assigned (a holiday can push the assignment late: National Day, 2026-09-27 → 10-09).
            if colour == "yellow":
                started = max(last, today - timedelta(days=25))
            elif colour == "red":
                started = max(last, today - timedelta(days=50))
            directly_resolved = status != "in_progress" and rng.random() < 0.1
            if not directly_resolved:
                issue.status = Status.IN_PROGRESS
                story.append(
                    self.event(
                        EventKind.STARTED,
                        started,
                        seq,
                        worker,
                        note="已对接企业，开始办理。",
                        status_from=Status.ASSIGNED,
                        status_to=Status.IN_PROGRESS,
                    )  # fmt: skip
                )
                seq += 1
                last = issue.last_progress_on = max(last, started)
                end = clamp(issue.deadline + timedelta(days=20))
                if colour == "yellow":
                    end = today - timedelta(days=20)
                elif colour == "red":
                    end = today - timedelta(days=3)
                for _ in range(rng.choice((0, 0, 1, 1, 2))):
                    if end <= last:
                        break
                    last = last + timedelta(days=rng.randint(1, max(1, min(20, (end - last).days))))
                    story.append(
                        self.event(EventKind.PROGRESS, last, seq, worker, note="办理进展：已协调相关单位。")
                    )
                    seq += 1
                if colour in ("yellow", "red") and last < end:
                    story.append(
                        self.event(EventKind.PROGRESS, end, seq, worker, note="办理进展：等待企业材料。")
                    )
                    seq, last = seq + 1, end
                issue.last_progress_on = last

        if status in ("resolved", "closed"):
            resolved = clamp(last + timedelta(days=rng.randint(0, 15)))
            status_from = issue.status
            issue.status, issue.resolution = Status.RESOLVED, "已协调解决，企业诉求已办结。"
            issue.resolved_at = self.at(resolved, seq)
            issue.last_progress_on = resolved
            story.append(
                self.event(
                    EventKind.RESOLVED,
                    resolved,
                    seq,
                    worker,
                    note=issue.resolution,
                    status_from=status_from,
                    status_to=Status.RESOLVED,
                )  # fmt: skip
            )
            seq += 1
            feedback = status == "closed" or rng.random() < 0.3
            if feedback:
                contacted = clamp(resolved + timedelta(days=rng.randint(0, 7)))
                satisfied = [(Satisfaction.SATISFIED, 80), (Satisfaction.BASICALLY_SATISFIED, 17)]
                online = rng.random() < 0.15
                self.rounds.append(
                    FeedbackRound(
                        issue=issue,
                        number=1,
                        contacted_on=contacted,
                        channel=Channel.ONLINE if online else Channel.PHONE,
                        recorded_by_id=None if online else coordinator,
                        recorded_at=self.at(contacted, seq),
                        reply_satisfaction=weighted(rng, [*satisfied, (Satisfaction.UNSATISFIED, 3)]),
                        # An unsatisfied answer would have sent it back: these accept.
                        solution_satisfaction=weighted(rng, satisfied),
                    )
                )
                story.append(self.event(EventKind.FEEDBACK, contacted, seq, None if online else coordinator))
                seq += 1
                if status == "closed":
                    closed = clamp(contacted + timedelta(days=rng.randint(0, 5)))
                    issue.status, issue.outcome, issue.closed_at = (
                        Status.CLOSED,
                        Outcome.RESOLVED,
                        self.at(closed, seq),
                    )
                    story.append(
                        self.event(
                            EventKind.CONFIRMED,
                            closed,
                            seq,
                            coordinator,
                            status_from=Status.RESOLVED,
                            status_to=Status.CLOSED,
                        )  # fmt: skip
                    )

        next_due = None
        if issue.status in ACTIVE_STATUSES and colour is None and rng.random() < 0.05:
            due = issue.last_progress_on + timedelta(days=rng.randint(5, 30))
            title = "完成现场踏勘"
            self.milestones.append(Milestone(issue=issue, title=title, due_on=due))
            story.append(self.event(EventKind.MILESTONE_ADDED, issue.last_progress_on, seq, worker,
                                    note=f"{title} ({due:%Y-%m-%d})"))  # fmt: skip
            next_due = due
        issue.compute_supervision_dates(next_due)
        assert issue.status in Status.values
        for feedback in self.rounds[-1:]:
            if feedback.issue is issue:
                feedback.snapshot(issue)
        return issue, story
