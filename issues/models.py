"""Departments, categories, issues and their whole-process record.

The life cycle rules (which status may follow which, who may move it) live in
`issues.workflow`; this module holds the facts and the constraints the database can say.
"""

import functools
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.urls import get_script_prefix, reverse
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
    """How a closed issue ended; the resolution rate counts RESOLVED among all closed."""

    RESOLVED = "resolved", _("Resolved")
    DUPLICATE = "duplicate", _("Duplicate")
    NOT_ACTIONABLE = "not_actionable", _("Not actionable")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY_SATISFIED = "basically", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")


class Colour(models.TextChoices):
    """Supervision colours (三色督办) of an active issue."""

    NONE = "", _("On track")
    BLUE = "blue", _("Due soon")
    YELLOW = "yellow", _("Behind schedule")
    RED = "red", _("Overdue")


def choice_label(choices: type[models.TextChoices], value: str) -> str:
    """The label of `value` in the active language, or `value` itself when it is not a
    choice (as Django's get_FOO_display)."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def colour_label(colour: str) -> str:
    """The colour's name for a spreadsheet cell ("" when on track)."""
    return str(Colour(colour).label) if colour else ""


def colour_conditions(today: date) -> dict[str, Q]:
    """The rows of each supervision colour on `today`, as plain column conditions: the ONE
    definition every list, count, figure, weekly list and reminder uses.

    red: being handled (assigned / in progress) and past its deadline;
    yellow: not red, a milestone late or no progress for 10 working days (stalled_from);
    blue: not red or yellow, deadline within 3 working days (due_soon_from);
    on_track: active and none of these. `due_soon` is the deadline rule alone (it
    includes yellow issues), as `Issue.objects.due_soon()` and the "due soon" figure count.
    """
    active = Q(status__in=ACTIVE_STATUSES)
    current = active & Q(deadline__gte=today)  # active issues always have a deadline
    stalled, due_soon = Q(stalled_from__lte=today), Q(due_soon_from__lte=today)
    return {
        Colour.RED: active & Q(deadline__lt=today),
        Colour.YELLOW: current & stalled,
        Colour.BLUE: current & due_soon & ~stalled,
        "on_track": current & ~stalled & ~due_soon,
        "due_soon": current & due_soon,
        "inactive": ~active,
    }


DUE_SOON_WORKDAYS = 3
STALLED_AFTER_WORKDAYS = 10


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
        return self.filter(status__in=OPEN_STATUSES)

    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)

    def overdue(self, today: date | None = None):
        """Red: see `colour_conditions`."""
        return self.filter(colour_conditions(today or timezone.localdate())[Colour.RED])

    def due_soon(self, today: date | None = None):
        """Active, not overdue, within 3 working days of the deadline (includes yellow ones)."""
        return self.filter(colour_conditions(today or timezone.localdate())["due_soon"])

    def behind_schedule(self, today: date | None = None):
        """Yellow: see `colour_conditions`."""
        return self.filter(colour_conditions(today or timezone.localdate())[Colour.YELLOW])

    def with_colour(self, today: date | None = None):
        """Annotate `colour` (red > yellow > blue > on track) from the stored dates.

        Working days are known in Python, so the dates on which an issue turns blue or
        yellow are computed and stored when it changes; here it is plain date comparison.
        """
        today = today or timezone.localdate()
        return self.annotate(
            colour=Case(
                When(~Q(status__in=ACTIVE_STATUSES), then=Value(Colour.NONE)),
                When(deadline__lt=today, then=Value(Colour.RED)),
                When(stalled_from__lte=today, then=Value(Colour.YELLOW)),
                When(due_soon_from__lte=today, then=Value(Colour.BLUE)),
                default=Value(Colour.NONE),
                output_field=models.CharField(max_length=10),
            )
        )

    def with_colour_filter(self, colour: str, today: date | None = None):
        conditions = colour_conditions(today or timezone.localdate())
        return self.filter(conditions[colour]) if colour in conditions else self

    def visible_to(self, user):
        from .permissions import visible_issues

        return visible_issues(user, self)


@functools.lru_cache(maxsize=16)
def _detail_url_parts(url_name: str, script_prefix: str) -> tuple[str, str]:
    """A detail page's URL around its id, resolved once: lists link 50 or more objects a
    page (a reverse() each cost more than the rest of the link)."""
    marker = 987654321
    prefix, suffix = reverse(url_name, args=[marker]).split(str(marker))
    return prefix, suffix


def detail_url(url_name: str, pk: int) -> str:
    """reverse(url_name, args=[pk]) for a URL with the id as its one argument."""
    prefix, suffix = _detail_url_parts(url_name, get_script_prefix())
    return f"{prefix}{pk}{suffix}"


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

    # The enterprise's follow-up (回访): raw facts, so any official rate can be computed.
    contacted_on = models.DateField(_("enterprise contacted on"), null=True, blank=True)
    reply_satisfaction = models.CharField(
        _("reply satisfaction"), max_length=12, choices=Satisfaction.choices, blank=True
    )
    solution_satisfaction = models.CharField(
        _("solution satisfaction"), max_length=12, choices=Satisfaction.choices, blank=True
    )

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
            # A department's lists and counts; each colour's count from the index alone.
            models.Index(
                fields=["lead_department", "status", "deadline"],
                include=["stalled_from", "due_soon_from"],
                name="issue_department_colour",
            ),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["enterprise", "status"]),
            models.Index(fields=["category", "status"]),
            models.Index(fields=["raised_on"]),
            models.Index(fields=["deadline"]),
            models.Index(fields=["due_soon_from"]),
            models.Index(fields=["stalled_from"]),
            # The default order of lists and the admin changelist.
            models.Index(fields=["-raised_on", "-id"], name="issue_raised_order"),
            # Period figures select by the day something happened.
            models.Index(fields=["resolved_at"], name="issue_resolved_at"),
            models.Index(fields=["closed_at"], name="issue_closed_at"),
            models.Index(fields=["assigned_at"], name="issue_assigned_at"),
            models.Index(fields=["contacted_on"], name="issue_contacted_on"),
            # Supervision works on the ~10 % of issues being handled: their deadline order,
            # and each colour's count read from this index alone (the colour columns carried).
            models.Index(
                fields=["deadline", "id"],
                include=["stalled_from", "due_soon_from"],
                condition=Q(status__in=["assigned", "in_progress"]),
                name="issue_active_colour",
            ),
            # The dashboard's live figures (open, overdue, due soon, colours, responses not
            # yet due) per department / category / enterprise, read from this index alone.
            models.Index(
                fields=[
                    "lead_department",
                    "category",
                    "enterprise",
                    "status",
                    "deadline",
                    "due_soon_from",
                    "stalled_from",
                    "respond_by",
                    "raised_on",
                    "assigned_at",
                    "closed_at",
                    "id",
                ],
                condition=Q(status__in=["new", "assigned", "in_progress", "resolved"], scope="individual"),
                name="issue_open_figures",
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
            models.CheckConstraint(
                condition=Q(reply_satisfaction__in=[*Satisfaction.values, ""])
                & Q(solution_satisfaction__in=[*Satisfaction.values, ""]),
                name="issue_satisfaction_valid",
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
                condition=~Q(outcome=Outcome.RESOLVED) | ~Q(resolution=""),
                name="issue_resolved_outcome_has_resolution",
            ),
            models.CheckConstraint(
                condition=~Q(outcome__in=[Outcome.DUPLICATE, Outcome.NOT_ACTIONABLE]) | ~Q(close_reason=""),
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
        return detail_url("issues:detail", self.pk)

    # Django's get_FOO_display builds a dict of the field's choices on every call (33 µs);
    # lists, exports and the admin call these once per row. The same label from the enum.
    def get_status_display(self) -> str:
        return choice_label(Status, self.status)

    def get_priority_display(self) -> str:
        return choice_label(Priority, self.priority)

    def get_source_display(self) -> str:
        return choice_label(Source, self.source)

    def get_scope_display(self) -> str:
        return choice_label(Scope, self.scope)

    def get_outcome_display(self) -> str:
        return choice_label(Outcome, self.outcome)

    # -- derived facts about one issue ----------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def deadline_extended(self) -> bool:
        return bool(self.deadline and self.original_deadline and self.deadline > self.original_deadline)

    def colour_on(self, today: date | None = None) -> str:
        """The supervision colour on a day: the Python twin of `IssueQuerySet.with_colour`."""
        if not self.is_active or self.deadline is None:
            return Colour.NONE
        today = today or timezone.localdate()
        if self.deadline < today:
            return Colour.RED
        if self.stalled_from and self.stalled_from <= today:
            return Colour.YELLOW
        if self.due_soon_from and self.due_soon_from <= today:
            return Colour.BLUE
        return Colour.NONE

    @property
    def colour(self) -> str:
        # Lists annotate `colour` in SQL (with_colour); this covers a single loaded issue.
        if "colour" in self.__dict__:
            return self.__dict__["colour"]
        return self.colour_on()

    @colour.setter
    def colour(self, value: str) -> None:
        self.__dict__["colour"] = value

    def days_overdue(self, today: date | None = None) -> int:
        today = today or timezone.localdate()
        if not self.is_active or not self.deadline or self.deadline >= today:
            return 0
        return (today - self.deadline).days

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


class ExtensionRequest(models.Model):
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
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
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


class Objection(models.Model):
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
    reason = models.TextField(_("reason"))
    suggested_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("suggested department"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
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
    CONFIRMED = "confirmed", _("Closed after confirmation")
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
        raise PermissionError("IssueEvent is append-only: events are never updated.")

    def delete(self):
        raise PermissionError("IssueEvent is append-only: events are never deleted.")


class IssueEvent(models.Model):
    """The whole-process record (全过程跟踪) of an issue. Never edited, never deleted.

    Database triggers (migration 0003) refuse UPDATE and DELETE as well, so not even
    raw SQL can rewrite history.
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

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("issue event")
        verbose_name_plural = _("issue events")
        indexes = [
            models.Index(fields=["issue", "at"]),
            models.Index(fields=["kind", "at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EventKind.values), name="event_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {timezone.localtime(self.at):%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("IssueEvent is append-only: events are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("IssueEvent is append-only: events are never deleted.")


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


class FigureCounts(models.Model):
    """The counters of the dashboard's period figures for one group (see
    `issues.figure_rollup`): what happened to enterprise issues (scope individual) of one
    department / category / district / sector, or of all of them (dimension "all", key "")."""

    DIMENSIONS = ("all", "department", "category", "district", "sector")

    dimension = models.CharField(_("dimension"), max_length=12)
    key = models.CharField(_("key"), max_length=30, blank=True)
    # By raised_on.
    raised = models.IntegerField(default=0)
    solved_on_site = models.IntegerField(default=0)
    responded_in_time = models.IntegerField(default=0)
    responded_late = models.IntegerField(default=0)
    # By the Asia/Shanghai date of assigned_at.
    assigned = models.IntegerField(default=0)
    # By the Asia/Shanghai date of resolved_at.
    resolved = models.IntegerField(default=0)
    resolved_judged = models.IntegerField(default=0)
    resolved_on_time = models.IntegerField(default=0)
    resolve_days_sum = models.IntegerField(default=0)
    # By the Asia/Shanghai date of closed_at.
    closed = models.IntegerField(default=0)
    closed_resolved = models.IntegerField(default=0)
    # By contacted_on.
    contacted = models.IntegerField(default=0)
    reply_with = models.IntegerField(default=0)
    reply_satisfied = models.IntegerField(default=0)
    reply_basically = models.IntegerField(default=0)
    solution_with = models.IntegerField(default=0)
    solution_satisfied = models.IntegerField(default=0)
    solution_basically = models.IntegerField(default=0)

    class Meta:
        abstract = True


class IssueDayFigure(FigureCounts):
    """Per-day totals behind the dashboard's period figures (see `issues.figure_rollup`).

    One row per (dimension, key, day): what happened that day. Maintained by database
    triggers on the issue and enterprise tables in the same transaction as every write,
    whatever sends it (workflow, admin, bulk seed, raw SQL); `manage.py rebuild_figures
    --check` verifies it from the issues themselves. Never edited by hand.
    """

    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("issue day figure")
        verbose_name_plural = _("issue day figures")
        indexes = [models.Index(fields=["dimension", "day"], name="issuedayfigure_period")]
        constraints = [
            # (dimension, key, day): one group's days are adjacent; a period of one
            # dimension reads the (dimension, day) index.
            models.UniqueConstraint(fields=["dimension", "key", "day"], name="issuedayfigure_unique"),
            models.CheckConstraint(
                condition=Q(dimension__in=list(FigureCounts.DIMENSIONS)),
                name="issuedayfigure_dimension_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.dimension} {self.key}"


class IssueMonthFigure(FigureCounts):
    """The day rows summed per calendar month (`month`: its first day), for the periods that
    are whole months (month, quarter, year): a year of one department is 12 rows, not 365.
    Written by the same database triggers as the day rows, right after them; checked
    against them by `manage.py rebuild_figures --check`. Never edited by hand."""

    month = models.DateField(_("month"))

    class Meta:
        verbose_name = _("issue month figure")
        verbose_name_plural = _("issue month figures")
        indexes = [models.Index(fields=["dimension", "month"], name="issuemonthfigure_period")]
        constraints = [
            models.UniqueConstraint(fields=["dimension", "key", "month"], name="issuemonthfigure_unique"),
            models.CheckConstraint(
                condition=Q(dimension__in=list(FigureCounts.DIMENSIONS)),
                name="issuemonthfigure_dimension_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.dimension} {self.key}"
