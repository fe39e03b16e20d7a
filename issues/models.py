"""Departments, categories, issues and their whole-process record.

The life cycle rules (which status may follow which, who may move it) live in
`issues.workflow`; this module holds the facts and the constraints the database can say.
"""

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import workdays


class Status(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# A department is working on these: they carry a deadline and a supervision colour.
ACTIVE_STATUSES = (Status.ASSIGNED, Status.IN_PROGRESS)
# Not yet closed: still on someone's list.
OPEN_STATUSES = (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED)
# New and never triaged (not assigned, merged into a common issue or closed at triage): the
# coordinators' queue, the "waiting for triage" figure and its list, and, past its limit, red.
UNTRIAGED = Q(status=Status.NEW, triaged_at__isnull=True)


class Source(models.TextChoices):
    VISIT = "visit", _("Visit")
    SURVEY = "survey", _("Survey")
    ENTERPRISE_REQUEST = "request", _("Enterprise request")
    OTHER = "other", _("Other")


class Scope(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    COMMON = "common", _("Common (shared by many enterprises)")


class Priority(models.TextChoices):
    NORMAL = "normal", pgettext_lazy("priority", "Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Outcome(models.TextChoices):
    """How a closed issue ended; the resolution rate counts the resolved ones among all closed."""

    RESOLVED = "resolved", _("Resolved")
    # Resolved, but closed without the enterprise's answer: a coordinator's documented exception.
    UNREACHABLE = "unreachable", _("Resolved; the enterprise could not be reached")
    ENTERPRISE_CLOSED = "enterprise_closed", _("Resolved; the enterprise has closed down")
    DUPLICATE = "duplicate", _("Duplicate")
    NOT_ACTIONABLE = "not_actionable", _("Not actionable")


RESOLVED_OUTCOMES = (Outcome.RESOLVED, Outcome.UNREACHABLE, Outcome.ENTERPRISE_CLOSED)
UNCONFIRMED_OUTCOMES = (Outcome.UNREACHABLE, Outcome.ENTERPRISE_CLOSED)


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY_SATISFIED = "basically", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")


class Channel(models.TextChoices):
    """How the enterprise's answer in a feedback round (回访) was obtained."""

    PHONE = "phone", _("Phone")
    ON_SITE = "on_site", _("On site")
    ONLINE = "online", _("The enterprise itself, online")
    OTHER = "other", _("Other")


class Colour(models.TextChoices):
    """Supervision colours (三色督办) of an active issue."""

    NONE = "", _("On track")
    BLUE = "blue", _("Due soon")
    YELLOW = "yellow", _("Behind schedule")
    RED = "red", _("Overdue")


def colour_label(colour: str) -> str:
    """The colour's name for a spreadsheet cell ("" when on track)."""
    return str(Colour(colour).label) if colour else ""


# The thresholds, used by the stored dates (`Issue.compute_supervision_dates`) and by every
# text that states them.
DUE_SOON_WORKDAYS = 3
STALLED_AFTER_WORKDAYS = 10
RESPONSE_WORKDAYS = 2  # an issue is triaged within 2 working days of being raised


def colour_conditions(today: date) -> dict[str, Q]:
    """The supervision colours (三色督办) on `today`, in precedence order, each excluding the
    ones before it: THE definition that lists, counts, figures, the weekly list and reminders
    all use (the colour annotation, its rank and every filter derive from it).

    red: overdue — being handled and past its deadline, or never triaged and past its
         2-working-day triage limit (交办超时);
    yellow: behind schedule — a milestone late, or no progress for 10 working days;
    blue: due soon — the deadline within 3 working days.
    Working days are known in Python: the dates an issue turns blue or yellow are stored
    when it changes (`due_soon_from`, `stalled_from`), so here it is plain date comparison.
    """
    active = Q(status__in=ACTIVE_STATUSES)
    untriaged_late = UNTRIAGED & Q(respond_by__lt=today)
    current = active & Q(deadline__gte=today)  # active issues always have a deadline
    stalled = Q(stalled_from__lte=today)
    return {
        Colour.RED: (active & Q(deadline__lt=today)) | untriaged_late,
        Colour.YELLOW: current & stalled,
        Colour.BLUE: current & ~stalled & Q(due_soon_from__lte=today),
    }


def now_conditions(today: date) -> dict[str, Q]:
    """The "now" figures, each a condition on an open enterprise issue (`now_counts`)."""
    colours = colour_conditions(today)
    return {
        "open": Q(),
        "overdue": colours[Colour.RED],
        "due_soon": due_soon_condition(today),
        "yellow": colours[Colour.YELLOW],
        "blue": colours[Colour.BLUE],
        "untriaged": UNTRIAGED,
    }


def due_soon_condition(today: date) -> Q:
    """Due within 3 working days and not overdue (yellow ones included): the "due soon" figure."""
    return Q(status__in=ACTIVE_STATUSES, deadline__gte=today, due_soon_from__lte=today)


class Department(models.Model):
    """A responsible unit (责任单位), e.g. 市发展改革委, 市税务局, 滨海新区政府."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    short_name = models.CharField(_("short name"), max_length=30, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="departments",
        verbose_name=_("members"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    chat_webhook = models.URLField(
        _("group chat robot URL"),
        blank=True,
        help_text=_("The 企业微信 or 钉钉 group robot of this department: notifications are posted there."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=50, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class IssueQuerySet(models.QuerySet):
    def open(self):
        """Not closed: new, assigned, in progress, or resolved awaiting the enterprise."""
        return self.filter(status__in=OPEN_STATUSES)

    def enterprise_issues(self):
        """Issues of one enterprise each; common issues (共性问题) are their containers."""
        return self.filter(scope=Scope.INDIVIDUAL)

    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)

    def untriaged(self):
        return self.filter(UNTRIAGED)

    def awaiting_answer(self):
        """Resolved, waiting for the enterprise's answer (待确认): oldest first."""
        return self.filter(status=Status.RESOLVED).order_by("resolved_at", "id")

    def overdue(self, today: date | None = None):
        """Red: see `colour_conditions`."""
        return self.filter(colour_conditions(today or timezone.localdate())[Colour.RED])

    def due_soon(self, today: date | None = None):
        return self.filter(due_soon_condition(today or timezone.localdate()))

    def with_colour(self, today: date | None = None):
        """Annotate `colour` and its sortable `colour_rank` (red 0, yellow 1, blue 2, none 3)."""
        conditions = colour_conditions(today or timezone.localdate())
        return self.annotate(
            colour=Case(
                *[When(q, then=Value(colour)) for colour, q in conditions.items()],
                default=Value(Colour.NONE),
                output_field=models.CharField(max_length=10),
            ),
            colour_rank=Case(
                *[When(q, then=Value(rank)) for rank, q in enumerate(conditions.values())],
                default=Value(len(conditions)),
                output_field=models.IntegerField(),
            ),
        )

    def with_colour_filter(self, colour: str, today: date | None = None):
        conditions = colour_conditions(today or timezone.localdate())
        return self.filter(conditions[colour]) if colour in conditions else self

    def now_counts(self, today: date | None = None, by: str | tuple[str, ...] = "") -> dict:
        """The "now" figures of these issues, in ONE query: THE definitions that home, the
        lists, the dashboard and the weekly list show. Open: enterprise issues not closed
        (a common issue is the container of its enterprises' issues: `common_open` counts
        those apart); overdue is red; `untriaged`: new and never triaged. With `by` (a field
        path), {value: figures} per value; with a tuple of paths, {(value, ...): figures}."""
        conditions = now_conditions(today or timezone.localdate())
        aggregates = {name: models.Count("pk", filter=q) for name, q in conditions.items()}
        rows = self.enterprise_issues().open()
        if not by:
            return rows.aggregate(**aggregates)
        if isinstance(by, tuple):
            grouped = rows.values(*by).annotate(**aggregates).order_by()
            return {tuple(row.pop(f) for f in by): row for row in grouped}
        return {row.pop(by): row for row in rows.values(by).annotate(**aggregates).order_by()}

    def common_open(self) -> int:
        return self.filter(scope=Scope.COMMON).open().count()

    def list_rows(self, today: date | None = None):
        """Issues as the lists and cards show them: colour, and the names of their
        enterprise, lead department and owner in the same query."""
        return self.with_colour(today).select_related("enterprise", "lead_department", "owner")

    def for_spreadsheet(self, today: date | None = None):
        """Issues as every spreadsheet writes them (`issues.spreadsheet.issue_columns`):
        colour, names, and the latest note of the record."""
        return (
            self.with_colour(today)
            .select_related("enterprise", "enterprise__district", "category", "lead_department", "owner")
            .with_latest_note()
        )

    def with_latest_note(self):
        """`latest_note` and `latest_note_at`: the newest note of each issue's record."""
        latest = IssueEvent.objects.filter(issue=OuterRef("pk")).exclude(note="").order_by("-at", "-id")
        return self.annotate(
            latest_note=Subquery(latest.values("note")[:1]),
            latest_note_at=Subquery(latest.values("at")[:1]),
        )

    def items(self, today: date | None = None):
        """Issues as the enterprise and visit pages list them (with category, department)."""
        return self.with_colour(today).select_related("category", "lead_department")

    def visible_to(self, user):
        from .permissions import visible_issues

        return visible_issues(user, self)


class Issue(models.Model):
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="issues",
        verbose_name=_("enterprise"),
        help_text=_("Empty for a common issue: its enterprises' issues link to it."),
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    visit = models.ForeignKey(
        "visits.Visit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="issues",
        verbose_name=_("visit"),
    )
    survey_response = models.ForeignKey(
        "enterprises.SurveyResponse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="issues",
        verbose_name=_("survey response"),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="issues", verbose_name=_("category")
    )
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.INDIVIDUAL)
    common_issue = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="linked_issues",
        limit_choices_to={"scope": Scope.COMMON},
        verbose_name=_("common issue"),
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW)

    lead_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="led_issues",
        verbose_name=_("lead department"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_issues",
        verbose_name=_("owner"),
    )
    co_departments = models.ManyToManyField(
        Department,
        through="CoDepartment",
        blank=True,
        related_name="co_handled_issues",
        verbose_name=_("co-handling departments"),
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    original_deadline = models.DateField(_("original deadline"), null=True, blank=True)

    resolution = models.TextField(_("resolution"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    close_reason = models.TextField(_("reason for closing"), blank=True)
    solved_on_site = models.BooleanField(_("solved on the spot"), default=False)

    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="raised_issues",
        verbose_name=_("raised by"),
    )
    raised_on = models.DateField(_("raised on"))
    # Working-day dates computed in Python when the issue changes (see `workflow`).
    respond_by = models.DateField(_("respond by"), null=True, blank=True)
    due_soon_from = models.DateField(_("due soon from"), null=True, blank=True)
    stalled_from = models.DateField(_("behind schedule from"), null=True, blank=True)
    last_progress_on = models.DateField(_("last progress on"), null=True, blank=True)

    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    # The first triage decision (assigned, merged into a common issue, or closed at triage):
    # written once, never reset, so the response rate of a closed period never changes.
    triaged_at = models.DateTimeField(_("triaged at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Optimistic lock: every workflow step and every edit bumps it; an edit from a stale
    # version is refused instead of silently overwriting a colleague's change.
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = IssueQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_on", "-id"]
        verbose_name = _("issue")
        verbose_name_plural = _("issues")
        indexes = [
            models.Index(fields=["status", "deadline"]),
            models.Index(fields=["lead_department", "status", "deadline"], name="issue_department_status"),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["enterprise", "status"]),
            models.Index(fields=["category", "status"]),
            models.Index(fields=["raised_on"]),
            models.Index(fields=["deadline"]),
            # The default order of lists and the admin changelist.
            models.Index(fields=["-raised_on", "-id"], name="issue_raised_order"),
            # The "now" figures, the supervision colours and the lists' urgent-first order read
            # only the open issues (a tenth of all), and only these columns: PostgreSQL answers
            # them from the index alone (index-only scans; migration 0014 keeps the table
            # vacuumed often enough for that). SQLite has no INCLUDE and goes without.
            models.Index(
                fields=["status", "deadline", "id"],
                include=[
                    "respond_by",
                    "triaged_at",
                    "stalled_from",
                    "due_soon_from",
                    "raised_on",
                    "scope",
                    "lead_department",
                    "category",
                    "enterprise",
                ],
                condition=Q(status__in=["new", "assigned", "in_progress", "resolved"]),
                name="issue_open_colour",
            ),
            # Open issues by deadline: the red list (督办清单, longest overdue first) reads the
            # first rows past their deadline here instead of skipping the closed ones.
            models.Index(
                fields=["deadline", "respond_by", "id"],
                condition=Q(status__in=["new", "assigned", "in_progress", "resolved"]),
                name="issue_open_deadline",
            ),
            # Common issues are few: the "common issues open" figure counts them here, not
            # by scanning every open issue.
            models.Index(fields=["status"], condition=Q(scope="common"), name="issue_common_status"),
            # Resolutions waiting for the enterprise's answer (待确认), oldest first: the
            # coordinators' queue reads its first rows here instead of sorting them all.
            models.Index(
                fields=["resolved_at", "id"], condition=Q(status="resolved"), name="issue_awaiting_answer"
            ),
            # Untriaged issues by their triage limit: the coordinators' queue, the red ones
            # past it, and the response rate's pending part (counted from the index alone).
            models.Index(
                fields=["respond_by"],
                include=["scope"],
                condition=Q(triaged_at__isnull=True),
                name="issue_untriaged",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=Status.values), name="issue_status_valid"),
            models.CheckConstraint(condition=Q(source__in=Source.values), name="issue_source_valid"),
            models.CheckConstraint(condition=Q(scope__in=Scope.values), name="issue_scope_valid"),
            models.CheckConstraint(condition=Q(priority__in=Priority.values), name="issue_priority_valid"),
            models.CheckConstraint(
                condition=Q(outcome__in=[*Outcome.values, ""]), name="issue_outcome_valid"
            ),
            # An individual issue belongs to one enterprise; a common one to none, and it
            # links to no other common issue.
            models.CheckConstraint(
                condition=(Q(scope=Scope.INDIVIDUAL) & Q(enterprise__isnull=False))
                | (Q(scope=Scope.COMMON) & Q(enterprise__isnull=True) & Q(common_issue__isnull=True)),
                name="issue_scope_enterprise",
            ),
            models.CheckConstraint(
                condition=~Q(source=Source.VISIT) | Q(visit__isnull=False),
                name="issue_visit_source_has_visit",
            ),
            models.CheckConstraint(
                condition=~Q(source=Source.SURVEY) | Q(survey_response__isnull=False),
                name="issue_survey_source_has_response",
            ),
            # Being worked on means someone is responsible, by a date.
            models.CheckConstraint(
                condition=~Q(status__in=[Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED])
                | (
                    Q(lead_department__isnull=False)
                    & Q(deadline__isnull=False)
                    & Q(assigned_at__isnull=False)
                ),
                name="issue_assigned_has_department_and_deadline",
            ),
            models.CheckConstraint(
                condition=Q(deadline__isnull=True, original_deadline__isnull=True)
                | Q(deadline__isnull=False, original_deadline__isnull=False),
                name="issue_original_deadline_kept",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.RESOLVED) | (~Q(resolution="") & Q(resolved_at__isnull=False)),
                name="issue_resolved_has_resolution",
            ),
            # Closed ⇔ an outcome; resolved outcome needs the resolution text, the others a reason.
            models.CheckConstraint(
                condition=(Q(status=Status.CLOSED) & ~Q(outcome="") & Q(closed_at__isnull=False))
                | (~Q(status=Status.CLOSED) & Q(outcome="")),
                name="issue_closed_has_outcome",
            ),
            models.CheckConstraint(
                condition=~Q(outcome__in=RESOLVED_OUTCOMES) | ~Q(resolution=""),
                name="issue_resolved_outcome_has_resolution",
            ),
            # Closing without resolving, or without the enterprise's answer, is explained.
            models.CheckConstraint(
                condition=Q(outcome__in=["", Outcome.RESOLVED]) | ~Q(close_reason=""),
                name="issue_closed_unresolved_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(solved_on_site=True) | Q(outcome=Outcome.RESOLVED),
                name="issue_solved_on_site_is_resolved",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="issue_version_positive"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("issues:detail", args=[self.pk])

    # -- derived facts about one issue ----------------------------------------------------
    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def deadline_extended(self) -> bool:
        return bool(self.deadline and self.original_deadline and self.deadline > self.original_deadline)

    @property
    def colour(self) -> str:
        """The supervision colour, from `IssueQuerySet.with_colour` (every page loads issues
        through it: there is no second definition in Python)."""
        return self.__dict__.get("colour", Colour.NONE)

    @colour.setter
    def colour(self, value: str) -> None:
        self.__dict__["colour"] = value

    @property
    def colour_label(self) -> str:
        return colour_label(self.colour)

    def days_overdue(self, today: date | None = None) -> int:
        """Days past the deadline (or past the triage limit, for an untriaged issue)."""
        today = today or timezone.localdate()
        if self.colour != Colour.RED:
            return 0
        limit = self.deadline if self.is_active else self.respond_by
        return max((today - limit).days, 0) if limit else 0

    def compute_supervision_dates(self, next_milestone_due: date | None) -> None:
        """Store the dates this issue turns blue and yellow (working days, in Python).

        blue from: the 3rd working day before the deadline;
        yellow from: the day after the earliest unfinished milestone's due date, or 10
        working days after the last progress, whichever comes first.
        """
        if not self.is_active or self.deadline is None:
            self.due_soon_from = self.stalled_from = None
            return
        self.due_soon_from = workdays.add_workdays(self.deadline, -DUE_SOON_WORKDAYS)
        candidates = []
        if self.last_progress_on:
            candidates.append(workdays.add_workdays(self.last_progress_on, STALLED_AFTER_WORKDAYS))
        if next_milestone_due:
            candidates.append(date.fromordinal(next_milestone_due.toordinal() + 1))
        self.stalled_from = min(candidates) if candidates else None


class CoDepartment(models.Model):
    """A co-handling department (协办单位) with its own report-in date."""

    issue = models.ForeignKey(
        Issue, on_delete=models.PROTECT, related_name="co_handlings", verbose_name=_("issue")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="co_handlings", verbose_name=_("department")
    )
    report_by = models.DateField(_("report in by"))
    reported_on = models.DateField(_("reported in on"), null=True, blank=True)
    report = models.TextField(_("report"), blank=True)

    class Meta:
        ordering = ["report_by", "id"]
        verbose_name = _("co-handling department")
        verbose_name_plural = _("co-handling departments")
        constraints = [
            models.UniqueConstraint(fields=["issue", "department"], name="codepartment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.department} · {self.issue_id}"


class Milestone(models.Model):
    """A step of an issue's roadmap (路线图)."""

    issue = models.ForeignKey(
        Issue, on_delete=models.PROTECT, related_name="milestones", verbose_name=_("issue")
    )
    title = models.CharField(_("title"), max_length=200)
    due_on = models.DateField(_("due on"))
    done_on = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        indexes = [models.Index(fields=["issue", "done_on", "due_on"])]

    def __str__(self) -> str:
        return self.title

    def is_late(self, today: date | None = None) -> bool:
        return self.done_on is None and self.due_on < (today or timezone.localdate())


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Decision(models.Model):
    """A department's request that a coordinator decides (approve or refuse); withdrawn when
    the issue is resolved first. One pending request of a kind per issue."""

    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    reason = models.TextField(_("reason"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        abstract = True


class ExtensionRequest(Decision):
    """A department asks for a later deadline, before the current one passes."""

    issue = models.ForeignKey(
        Issue, on_delete=models.PROTECT, related_name="extension_requests", verbose_name=_("issue")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    current_deadline = models.DateField(_("current deadline"))
    requested_deadline = models.DateField(_("requested deadline"))

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("deadline extension request")
        verbose_name_plural = _("deadline extension requests")
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_deadline__gt=F("current_deadline")),
                name="extension_later_than_current",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="extension_has_reason"),
            models.UniqueConstraint(
                fields=["issue"],
                condition=Q(status="pending"),
                name="extension_one_pending_per_issue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issue_id}: {self.current_deadline} → {self.requested_deadline}"


class Objection(Decision):
    """A department says an issue was assigned to the wrong unit (within one working day)."""

    issue = models.ForeignKey(
        Issue, on_delete=models.PROTECT, related_name="objections", verbose_name=_("issue")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("department")
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("raised by")
    )
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    suggested_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("suggested department"),
    )

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = _("assignment objection")
        verbose_name_plural = _("assignment objections")
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="objection_has_reason"),
            models.UniqueConstraint(
                fields=["issue"],
                condition=Q(status="pending"),
                name="objection_one_pending_per_issue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issue_id}: {self.department}"


class EventKind(models.TextChoices):
    RAISED = "raised", _("Raised")
    ASSIGNED = "assigned", _("Assigned")
    STARTED = "started", _("Work started")
    PROGRESS = "progress", _("Progress posted")
    RESOLVED = "resolved", _("Reported resolved")
    FEEDBACK = "feedback", _("Enterprise feedback recorded")
    FEEDBACK_REQUESTED = "feedback_link", _("Feedback link issued to the enterprise")
    ENTERPRISE_NOTE = "enterprise_note", _("Information added by the enterprise")
    SENT_BACK = "sent_back", _("Sent back by the enterprise (重办)")
    CONFIRMED = "confirmed", _("Closed after confirmation")
    CLOSED_UNCONFIRMED = "closed_unconfirmed", _("Closed without the enterprise's confirmation")
    CLOSED = "closed", _("Closed without resolving")
    REOPENED = "reopened", _("Reopened")
    DEADLINE_CHANGED = "deadline", _("Deadline changed")
    OWNER_CHANGED = "owner", _("Owner changed")
    EXTENSION_REQUESTED = "ext_requested", _("Extension requested")
    EXTENSION_APPROVED = "ext_approved", _("Extension approved")
    EXTENSION_REFUSED = "ext_refused", _("Extension refused")
    OBJECTION_RAISED = "objection", _("Assignment objected to")
    OBJECTION_UPHELD = "objection_upheld", _("Objection upheld, reassigned")
    OBJECTION_REJECTED = "objection_rejected", _("Objection rejected, assignment confirmed")
    MERGED = "merged", _("Linked to a common issue")
    CO_DEPARTMENT_ADDED = "co_added", _("Co-handling department added")
    CO_REPORTED = "co_reported", _("Co-handling department reported in")
    MILESTONE_ADDED = "ms_added", _("Milestone added")
    MILESTONE_DONE = "ms_done", _("Milestone completed")
    EDITED = "edited", _("Details edited")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError(f"{self.model.__name__} is append-only: its rows are never updated.")

    def delete(self):
        raise PermissionError(f"{self.model.__name__} is append-only: its rows are never deleted.")


class AppendOnly(models.Model):
    """History: written once, never edited, never deleted. Database triggers (migrations
    0003 and 0011) refuse UPDATE, DELETE and TRUNCATE as well, so not even raw SQL can
    rewrite it."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError(f"{type(self).__name__} is append-only: its rows are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{type(self).__name__} is append-only: its rows are never deleted.")


class FigureSnapshot(models.Model):
    """Where a history row counts on the dashboard: the issue's lead department, category and
    its enterprise's district and sector AT THAT MOMENT. Figures of a past period read these,
    never the issue as it is today, so a later reassignment or edit rewrites no report."""

    lead_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lead department then"),
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("category then")
    )
    district = models.ForeignKey(
        "enterprises.District",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("district then"),
    )
    sector = models.CharField(_("sector then"), max_length=20, blank=True)

    class Meta:
        abstract = True

    def snapshot(self, issue: "Issue") -> None:
        self.lead_department_id = issue.lead_department_id
        self.category_id = issue.category_id
        enterprise = issue.enterprise
        self.district_id = enterprise.district_id if enterprise else None
        self.sector = enterprise.sector if enterprise else ""


class IssueEvent(AppendOnly, FigureSnapshot):
    """The whole-process record (全过程跟踪) of an issue. Never edited, never deleted.

    Besides what a reader of the timeline sees (who, when, status from/to, note), each event
    carries the typed facts the dashboard counts (`dashboard.figures`): the day it counts on,
    where it counts (`FigureSnapshot`) and, for a triage or a resolution, whether it was done
    by its due date. Written once by `issues.history`, so a reopen rewrites nothing.
    """

    issue = models.ForeignKey(Issue, on_delete=models.PROTECT, related_name="events", verbose_name=_("issue"))
    kind = models.CharField(_("what"), max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    status_from = models.CharField(_("status from"), max_length=12, choices=Status.choices, blank=True)
    status_to = models.CharField(_("status to"), max_length=12, choices=Status.choices, blank=True)
    deadline_from = models.DateField(_("deadline from"), null=True, blank=True)
    deadline_to = models.DateField(_("deadline to"), null=True, blank=True)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("department"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    note = models.TextField(_("note"), blank=True)
    # Shown to the enterprise (its pages and feedback links); staff choose, internal by default.
    public = models.BooleanField(_("visible to the enterprise"), default=False)

    # -- facts the figures count --
    day = models.DateField(_("day counted"))
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.INDIVIDUAL)
    on_the_spot = models.BooleanField(_("settled on the spot"), default=False)
    triage = models.BooleanField(_("first triage"), default=False)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    in_time = models.BooleanField(_("by the due date"), null=True, blank=True)
    in_time_original = models.BooleanField(_("by the original deadline"), null=True, blank=True)
    days = models.PositiveIntegerField(_("days since raised"), null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("issue event")
        verbose_name_plural = _("issue events")
        indexes = [
            models.Index(fields=["issue", "at"]),
            models.Index(fields=["kind", "day"]),
            models.Index(fields=["day"], name="issueevent_day"),
            models.Index(fields=["due_on"], condition=Q(triage=True), name="issueevent_triage_due"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EventKind.values), name="event_kind_valid"),
            models.CheckConstraint(condition=Q(scope__in=Scope.values), name="event_scope_valid"),
            models.CheckConstraint(
                condition=~Q(triage=True) | (Q(due_on__isnull=False) & Q(in_time__isnull=False)),
                name="event_triage_judged",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EventKind.RESOLVED)
                | Q(on_the_spot=True)
                | (Q(due_on__isnull=False) & Q(in_time__isnull=False) & Q(days__isnull=False)),
                name="event_resolution_judged",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {timezone.localtime(self.at):%Y-%m-%d %H:%M}"


class FeedbackRound(AppendOnly, FigureSnapshot):
    """One answer of the enterprise about a resolution (回访记录): never edited, never deleted.

    A later round never erases an earlier one: satisfaction is counted over the rounds of a
    period. An unsatisfied solution sends the issue back to its department (重办) in the same
    step (`sent_back`); the round stays and counts.
    """

    issue = models.ForeignKey(
        Issue, on_delete=models.PROTECT, related_name="feedback_rounds", verbose_name=_("issue")
    )
    number = models.PositiveSmallIntegerField(_("round"))
    contacted_on = models.DateField(_("answered on"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    contact_name = models.CharField(_("enterprise contact"), max_length=50, blank=True)
    reply_satisfaction = models.CharField(
        _("reply satisfaction"), max_length=12, choices=Satisfaction.choices
    )
    solution_satisfaction = models.CharField(
        _("solution satisfaction"), max_length=12, choices=Satisfaction.choices
    )
    comment = models.TextField(_("the enterprise's words"), blank=True)
    sent_back = models.BooleanField(_("sent back"), default=False)

    class Meta:
        ordering = ["issue", "number"]
        verbose_name = _("feedback round")
        verbose_name_plural = _("feedback rounds")
        indexes = [models.Index(fields=["contacted_on"], name="feedbackround_day")]
        constraints = [
            models.UniqueConstraint(fields=["issue", "number"], name="feedbackround_unique_number"),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="feedbackround_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(reply_satisfaction__in=Satisfaction.values)
                & Q(solution_satisfaction__in=Satisfaction.values),
                name="feedbackround_satisfaction_valid",
            ),
            models.CheckConstraint(
                condition=~Q(sent_back=True) | Q(solution_satisfaction=Satisfaction.UNSATISFIED),
                name="feedbackround_sent_back_unsatisfied",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.issue_id} · {self.number}"

    @property
    def accepted(self) -> bool:
        """The enterprise accepts the solution: satisfied or basically satisfied."""
        return self.solution_satisfaction != Satisfaction.UNSATISFIED


class FeedbackRequest(models.Model):
    """A link that asks the enterprise for its answer about a resolution, with no account:
    signed, expiring, single-use and revocable (`issues.feedback_links`). Only a hash of the
    link's secret is kept, so the table cannot be turned back into working links."""

    issue = models.ForeignKey(
        Issue, on_delete=models.PROTECT, related_name="feedback_requests", verbose_name=_("issue")
    )
    secret_hash = models.CharField(_("secret (hashed)"), max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    created_at = models.DateTimeField(_("issued at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    feedback_round = models.OneToOneField(
        FeedbackRound,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="request",
        verbose_name=_("feedback round"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("feedback link")
        verbose_name_plural = _("feedback links")
        constraints = [
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | Q(feedback_round__isnull=False),
                name="feedbackrequest_used_has_round",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.issue_id} · {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", _("An issue was assigned to you")
    AWAITING_ANSWER = "awaiting_answer", _("Resolved: waiting for the enterprise's answer")
    ANSWER_RECEIVED = "answer_received", _("The enterprise answered")
    SENT_BACK = "sent_back", _("Sent back by the enterprise")
    ENTERPRISE_REQUEST = "enterprise_request", _("New problem raised by an enterprise")
    FEEDBACK_LINK = "feedback_link", _("Your opinion on a resolution")


class NotificationChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    CHAT = "chat", _("Group chat (企业微信 / 钉钉)")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    """One message to one recipient on one channel (`issues.notifications`): written in the
    same transaction as the workflow step that causes it, delivered after commit by a task,
    with retries. A failed delivery is kept and logged; it never undoes the step."""

    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=NotificationChannel.choices)
    issue = models.ForeignKey(
        Issue, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("issue")
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    address = models.CharField(_("address"), max_length=500, help_text=_("An email address or a webhook URL"))
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    status = models.CharField(
        _("status"), max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["status", "created_at"], name="notification_status")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.address}"


class NotificationPreference(models.Model):
    """How a person wants to be told (each channel on or off); everybody gets email until
    they choose otherwise."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email = models.BooleanField(_("by email"), default=True)
    chat = models.BooleanField(_("in the group chat"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user)


class OfficialDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Official holiday")
    WORKDAY = "workday", _("Make-up working day (调休)")


class OfficialDay(models.Model):
    """The official calendar as published by the State Council, entered by administrators:
    overrides the calendar library (which knows no year it was not released for)."""

    day = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=OfficialDayKind.choices)
    name = models.CharField(_("name"), max_length=30, blank=True, help_text=_("e.g. 元旦, 春节"))

    class Meta:
        ordering = ["day"]
        verbose_name = _("official calendar day")
        verbose_name_plural = _("official calendar")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=OfficialDayKind.values), name="officialday_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.get_kind_display()} {self.name}".strip()

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        workdays.reset()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        workdays.reset()
        return result


class ReminderSent(models.Model):
    """One reminder email per recipient, kind and day: running the daily job twice sends once."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recipient")
    )
    kind = models.CharField(_("kind"), max_length=30)
    sent_on = models.DateField(_("sent on"))
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    issue_count = models.PositiveIntegerField(_("issues listed"), default=0)

    class Meta:
        ordering = ["-sent_on", "recipient_id"]
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        constraints = [
            models.UniqueConstraint(fields=["recipient", "kind", "sent_on"], name="reminder_once_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.kind} {self.sent_on}"


# -- Evidence files, the access log and the change trail (issue 13) ------------------------------


class AttachmentKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    DOCUMENT = "document", _("Document")


class AttachmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        from .attachments import visible_attachments

        return visible_attachments(user, self)


class Attachment(models.Model):
    """A photo or document (an approval letter, a reply letter) kept as evidence: on an issue,
    optionally with the step (event) it came with, or on a visit.

    Written only by `issues.attachments.attach`, which checks the file by its content and
    stores it under a random name; served only by `issues.file_views`, after the same access
    check as its issue or visit (there is no public media URL). Never edited."""

    issue = models.ForeignKey(
        Issue,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("issue"),
    )
    event = models.ForeignKey(
        IssueEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("added with"),
    )
    visit = models.ForeignKey(
        "visits.Visit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("visit"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=AttachmentKind.choices)
    name = models.CharField(_("file name"), max_length=150)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    file = models.FileField(_("file"), max_length=200, upload_to="evidence/")
    thumbnail = models.FileField(_("thumbnail"), max_length=200, upload_to="evidence/", blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("added by")
    )
    uploaded_at = models.DateTimeField(_("added at"), default=timezone.now)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("file")
        verbose_name_plural = _("files")
        indexes = [
            models.Index(fields=["issue", "uploaded_at"], name="attachment_issue"),
            models.Index(fields=["visit", "uploaded_at"], name="attachment_visit"),
        ]
        constraints = [
            # An issue's file (maybe with one of its steps) or a visit's file, never both.
            models.CheckConstraint(
                condition=(Q(issue__isnull=False) & Q(visit__isnull=True))
                | (Q(issue__isnull=True) & Q(visit__isnull=False) & Q(event__isnull=True)),
                name="attachment_one_owner",
            ),
            models.CheckConstraint(condition=Q(kind__in=AttachmentKind.values), name="attachment_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("issues:file", args=[self.pk])

    @property
    def is_image(self) -> bool:
        return self.kind == AttachmentKind.PHOTO


class AccessKind(models.TextChoices):
    LOGIN = "login", _("Signed in")
    LOGIN_FAILED = "login_failed", _("Failed sign-in")
    EXPORT = "export", _("Export")
    IMPORT = "import", _("Survey import")
    FEEDBACK_LINK = "feedback_link", _("Feedback link issued")


class AccessLog(models.Model):
    """Who took data out or let data in, and who signed in: exports (every spreadsheet
    download), survey imports, feedback links issued, sign-ins and failed sign-ins. Written by
    `issues.access_log`; searchable by administrators in the admin; rows older than
    ACCESS_LOG_DAYS are removed by `manage.py prune_access_log`."""

    at = models.DateTimeField(_("when"), default=timezone.now)
    kind = models.CharField(_("what"), max_length=20, choices=AccessKind.choices)
    # The user row may go one day; the name stays.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    ip = models.CharField(_("IP address"), max_length=45, blank=True)
    target = models.CharField(_("page or object"), max_length=200, blank=True)
    query = models.TextField(_("filter"), blank=True)
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        indexes = [
            models.Index(fields=["at"], name="accesslog_at"),
            models.Index(fields=["user", "at"], name="accesslog_user"),
            models.Index(fields=["kind", "at"], name="accesslog_kind"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=AccessKind.values), name="accesslog_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.username} · {timezone.localtime(self.at):%Y-%m-%d %H:%M}"


# Old and new values of every change (django-simple-history; `issues.trail`). An issue's
# history keeps its descriptive details only: status and responsibility are the workflow's
# IssueEvent record. Users without passwords or login times; with their groups (roles).
from django.apps import apps as _apps  # noqa: E402
from simple_history import register as _track  # noqa: E402

from .trail import TrailRecords  # noqa: E402

_track(Issue, records_class=TrailRecords, only=("title", "description", "category", "priority"))
_track(Department, records_class=TrailRecords, m2m_fields=["members"])
_track(
    _apps.get_model(settings.AUTH_USER_MODEL, require_ready=False),
    app="issues",
    records_class=TrailRecords,
    excluded_fields=["password", "last_login"],
    m2m_fields=["groups"],
)
