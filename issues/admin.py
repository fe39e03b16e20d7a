"""The Django admin in which coordinators triage issues (DESIGN §2, §4).

Rules kept here:
- every list and form shows only `permissions.visible_issues(user)`;
- status and every workflow field are read-only: they change through the actions below,
  each of which calls `issues.workflow` (one issue, one transaction);
- only coordinators (and administrators) change anything; issues and events are never
  deleted;
- every list sets `list_select_related` explicitly, so its query count does not grow with
  the number of rows (asserted in tests/test_admin.py).
"""

from datetime import date

from django import forms
from django.apps import apps as django_apps
from django.contrib import admin, messages
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connections, models, transaction
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import people, permissions, workflow
from .admin_forms import (
    AssignForm,
    CloseForm,
    IssueAddForm,
    IssueChangeForm,
    MergeForm,
    NoteForm,
    ReassignForm,
)
from .models import (
    AccessLog,
    Attachment,
    Category,
    CoDepartment,
    Colour,
    Department,
    ExtensionRequest,
    FeedbackRequest,
    FeedbackRound,
    Issue,
    IssueEvent,
    Milestone,
    Notification,
    Objection,
    OfficialDay,
    OfficialDayKind,
    RequestStatus,
    Scope,
)
from .people import person_name
from .permissions import Action
from .roles import Role, is_coordinator, sees_everything
from .spreadsheet import csv_response, xlsx_response
from .trail import TrailAdminMixin

# -- helpers ---------------------------------------------------------------------------------


def person_column(field: str, model=None, description=None):
    """A list or read-only column showing the person in `field` by name (`issues.people`),
    sorted by name; `model` gives the column the field's own label."""

    @admin.display(
        description=description or model._meta.get_field(field).verbose_name,
        ordering=f"{field}__first_name",
    )
    def column(self, obj):
        return person_name(getattr(obj, field)) or self.get_empty_value_display()

    column.__name__ = f"{field}_name"
    return column


def error_text(error: Exception) -> str:
    """One line from a WorkflowError / ValidationError / PermissionDenied."""
    if isinstance(error, ValidationError):
        return " ".join(str(m) for m in error.messages)
    return str(error) or str(_("Permission denied."))


class VisibleIssuesMixin:
    """Related rows of issues the user may not see are hidden too."""

    issue_lookup = "issue"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if sees_everything(request.user):
            return qs
        visible = permissions.visible_issues(request.user, Issue.objects.all())
        return qs.filter(**{f"{self.issue_lookup}__in": visible.values("pk")})


ADMIN_MEDIA = forms.Media(css={"all": ["app/app.css", "app/admin.css"]})


class ReadOnlyAdminMixin:
    """Rows that only the app writes (the workflow, uploads, the access log): viewable, never
    added, changed or deleted in the admin. Inlines use it too."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def render_action_form(model_admin, request, form, *, action, title, intro, issues, selected):
    """The intermediate page of an action: the selected rows, the form, and back again."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "form": form,
        "issues": issues,
        "selected": [obj.pk for obj in selected],
        "action": action,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        "opts": model_admin.model._meta,
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/issues/issue/action_form.html", context)


def run_each(model_admin, request, objects, step, done_message, *, label) -> None:
    """Call `step(obj)` for each object, each in its own transaction (the workflow's);
    keep the successes and report every failure by name."""
    done = 0
    for obj in objects:
        try:
            step(obj)
        except (ValidationError, PermissionDenied) as error:
            model_admin.message_user(request, f"{label(obj)}: {error_text(error)}", messages.ERROR)
        else:
            done += 1
    if done:
        model_admin.message_user(request, done_message(done), messages.SUCCESS)


# -- reference data --------------------------------------------------------------------------


@admin.register(Department)
class DepartmentAdmin(TrailAdminMixin, admin.ModelAdmin):
    list_display = ["name", "short_name", "member_count", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "short_name"]
    filter_horizontal = ["members"]
    list_select_related = ()  # no foreign keys shown; members are counted in SQL
    # A robot's address typed without a scheme is an https one (Django 6's default, chosen now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("members", distinct=True))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj):
        return obj.member_count


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    # By name: the code ("approvals") is the seed data's key, on the change page only (#17).
    list_display = ["name", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]
    list_select_related = ()


# -- issue: Django's changelist, tuned with its own knobs ------------------------------------


class EstimatedCountPaginator(Paginator):
    """The unfiltered list of every issue takes PostgreSQL's estimate of the table's rows
    (pg_class.reltuples, kept by autovacuum) for its page count when the table is big, where
    an exact COUNT(*) would read every row on every page; a small table (an estimate can be
    stale there: it decides whether the list has pages at all) and any filtered list are
    counted exactly. The admin shows no full result count (`show_full_result_count = False`)."""

    ESTIMATE_FROM = 10_000

    @cached_property
    def count(self):
        queryset = self.object_list
        connection = connections[queryset.db]
        if queryset.query.where or connection.vendor != "postgresql":
            return super().count
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [Issue._meta.db_table]
            )
            estimate = cursor.fetchone()[0]
        return estimate if estimate and estimate > self.ESTIMATE_FROM else super().count


# -- issue: list filters ----------------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.overdue()
        return queryset


class DueSoonFilter(admin.SimpleListFilter):
    title = _("due soon")
    parameter_name = "due_soon"

    def lookups(self, request, model_admin):
        return [("yes", _("Due within 3 working days"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.due_soon()
        return queryset


class ColourFilter(admin.SimpleListFilter):
    title = _("supervision colour")
    parameter_name = "colour"

    def lookups(self, request, model_admin):
        return [(c.value, c.label) for c in (Colour.RED, Colour.YELLOW, Colour.BLUE)]

    def queryset(self, request, queryset):
        if self.value() in (Colour.RED, Colour.YELLOW, Colour.BLUE):
            return queryset.with_colour_filter(self.value())
        return queryset


class TriageFilter(admin.SimpleListFilter):
    """The triage queue (待分派): new issues nobody has decided on yet. An issue linked to a
    common issue was triaged when it was linked: it waits for the common one, not for triage."""

    title = _("triage")
    parameter_name = "triage"

    def lookups(self, request, model_admin):
        return [("waiting", _("Waiting for triage")), ("following", _("Following a common issue"))]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.untriaged()
        if self.value() == "following":
            return queryset.filter(common_issue__isnull=False)
        return queryset


# -- issue: inlines -----------------------------------------------------------------------------


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class IssueEventInline(ReadOnlyInline):
    model = IssueEvent
    verbose_name_plural = _("timeline")
    fields = [
        "at",
        "kind",
        "actor_name",
        "status_from",
        "status_to",
        "department",
        "owner_name",
        "deadline_from",
        "deadline_to",
        "note",
    ]
    ordering = ["at", "id"]
    actor_name = person_column("actor", IssueEvent)
    owner_name = person_column("owner", IssueEvent)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "department", "owner")


@admin.display(description=_("recorded by"), ordering="recorded_by__first_name")
def recorded_by_name(model_admin, obj):
    return person_name(obj.recorded_by) or _("The enterprise itself")


class FeedbackRoundInline(ReadOnlyInline):
    model = FeedbackRound
    verbose_name_plural = _("feedback rounds")
    fields = [
        "number",
        "contacted_on",
        "channel",
        "contact_name",
        "reply_satisfaction",
        "solution_satisfaction",
        "sent_back",
        "comment",
        "recorded_by_name",
    ]
    ordering = ["number"]
    recorded_by_name = recorded_by_name

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by")


class MilestoneInline(ReadOnlyInline):
    model = Milestone
    fields = ["title", "due_on", "done_on"]


class CoDepartmentInline(ReadOnlyInline):
    model = CoDepartment
    fields = ["department", "report_by", "reported_on", "report"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("department")


# -- issue -------------------------------------------------------------------------------------

# Shown on the change form, never editable there: the workflow owns them.
WORKFLOW_FIELDS = (
    "status",
    "enterprise",
    "source",
    "visit",
    "survey_response",
    "scope",
    "common_issue",
    "lead_department",
    "owner_name",
    "deadline",
    "original_deadline",
    "respond_by",
    "due_soon_from",
    "stalled_from",
    "last_progress_on",
    "resolution",
    "outcome",
    "close_reason",
    "solved_on_site",
    "raised_by_name",
    "raised_on",
    "assigned_at",
    "triaged_at",
    "resolved_at",
    "closed_at",
    "created_at",
    "updated_at",
    "version",
)
# The change form loads these with the issue: one query, however many are shown.
CHANGE_FORM_RELATED = (
    "enterprise",
    "visit__enterprise",
    "survey_response__enterprise",
    "survey_response__survey",
    "common_issue",
    "lead_department",
    "owner",
    "raised_by",
    "category",
)
EXPORT_HEADER = (
    _("ID"),
    _("Title"),
    _("Enterprise"),
    _("Unified social credit code"),
    _("Category"),
    _("Scope"),
    _("Source"),
    _("Priority"),
    _("Status"),
    _("Supervision colour"),
    _("Lead department"),
    _("Owner"),
    _("Raised on"),
    _("Deadline"),
    _("Original deadline"),
    _("Description"),
)


@admin.register(Issue)
class IssueAdmin(TrailAdminMixin, admin.ModelAdmin):
    form = IssueChangeForm
    add_form = IssueAddForm

    @property
    def media(self):
        return super().media + ADMIN_MEDIA

    change_form_template = "admin/issues/issue/change_form.html"

    # Fits 1366 px beside the filters (#17): the title carries its enterprise and category
    # on a second line, names and dates are short, long texts are truncated (full on hover).
    list_display = [
        "id",
        "title_cell",
        "status_badge",  # with the common issue it follows
        "colour_badge",  # with the days overdue: one column, not two
        "deadline_short",
        "department_short",
        "owner_name",
        "raised_short",
    ]
    list_display_links = ["title_cell"]
    list_select_related = ["lead_department", "owner", "enterprise", "category"]
    list_filter = [
        TriageFilter,
        "status",
        OverdueFilter,
        DueSoonFilter,
        ColourFilter,
        "lead_department",
        "category",
        "enterprise__district",
        "source",
        "scope",
        "priority",
    ]
    search_fields = [
        "title",
        "description",
        "enterprise__name",
        "enterprise__credit_code",
        "=id",
        *people.search_fields("owner"),
    ]
    autocomplete_fields = ["enterprise", "visit", "survey_response"]
    list_per_page = 25
    show_full_result_count = False  # saves a COUNT(*) over the whole table per page
    paginator = EstimatedCountPaginator  # and no COUNT(*) over every issue on the unfiltered list
    ordering = ["-raised_on", "-id"]  # the issue_raised_order index: LIMIT 25 reads 25 rows
    inlines = [CoDepartmentInline, MilestoneInline, FeedbackRoundInline, IssueEventInline]
    actions = ["assign_issues", "merge_into_common_issue", "close_issues", "export_csv", "export_xlsx"]

    add_fieldsets = [
        (None, {"fields": ["enterprise", "source", "visit", "survey_response"]}),
        (None, {"fields": ["title", "description", "category", "priority"]}),
    ]
    fieldsets = [
        (None, {"fields": ["title", "description", "category", "priority", "expected_version"]}),
        (
            _("Status and responsibility (changed only through the workflow)"),
            {
                "fields": [
                    "status_badge",
                    "supervision_colour",
                    ("lead_department", "owner_name"),
                    ("deadline", "original_deadline"),
                    "respond_by",
                    ("due_soon_from", "stalled_from", "last_progress_on"),
                ]
            },
        ),
        (
            _("Origin"),
            {
                "fields": [
                    "enterprise",
                    ("source", "scope"),
                    "visit",
                    "survey_response",
                    "common_issue_link",
                    ("raised_by_name", "raised_on"),
                ]
            },
        ),
        (
            _("Outcome"),
            {"fields": ["resolution", ("outcome", "solved_on_site"), "close_reason"]},
        ),
        (
            _("Record"),
            {
                "classes": ["collapse"],
                "fields": [
                    ("triaged_at", "assigned_at", "resolved_at", "closed_at"),
                    ("created_at", "updated_at"),
                    "version",
                ],
            },
        ),
    ]

    # -- queryset and permissions ----------------------------------------------------------

    def get_queryset(self, request):
        qs = super().get_queryset(request).with_colour()
        return permissions.visible_issues(request.user, qs)

    def get_object(self, request, object_id, from_field=None):
        queryset = self.get_queryset(request).select_related(*CHANGE_FORM_RELATED)
        field = Issue._meta.pk if from_field is None else Issue._meta.get_field(from_field)
        try:
            return queryset.get(**{field.name: field.to_python(object_id)})
        except (Issue.DoesNotExist, ValidationError, ValueError):
            return None

    def has_add_permission(self, request):
        return super().has_add_permission(request) and is_coordinator(request.user)

    def has_change_permission(self, request, obj=None):
        # Department staff hold the model permission for their browser pages; the admin's
        # changes (triage actions, edits) are for coordinators only.
        if not (super().has_change_permission(request, obj) and is_coordinator(request.user)):
            return False
        if obj is not None:
            return workflow.state_allows(Action.EDIT, obj) and permissions.can(request.user, Action.EDIT, obj)
        return True

    def has_delete_permission(self, request, obj=None):
        return False  # issues are closed, never deleted

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (*WORKFLOW_FIELDS, "status_badge", "supervision_colour", "common_issue_link")

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []

    def get_actions(self, request):
        actions = super().get_actions(request)
        if request.GET.get("scope") == Scope.COMMON:
            actions.pop("merge_into_common_issue", None)  # a common issue links to no other
        return actions

    def get_urls(self):
        return [
            path(
                "<path:object_id>/assign/",
                self.admin_site.admin_view(self.assign_view),
                name="issues_issue_assign",
            ),
            *super().get_urls(),
        ]

    # -- saving through the workflow ---------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The change page offers the triage steps its issue allows (the changelist actions
        # work on many issues at once): assigning a new issue here, in one step.
        if (
            obj is not None
            and self.has_change_permission(request)
            and workflow.state_allows(Action.ASSIGN, obj)
        ):
            context["assign_url"] = reverse("admin:issues_issue_assign", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def assign_view(self, request, object_id):
        """Assign one issue from its change page: the assign action's form, for this issue."""
        issue = self.get_object(request, object_id)
        if issue is None:
            raise Http404
        if not self.has_change_permission(request):
            raise PermissionDenied
        change_url = reverse("admin:issues_issue_change", args=[issue.pk])
        if not workflow.state_allows(Action.ASSIGN, issue):
            self.message_user(request, _("Only new issues can be assigned."), messages.ERROR)
            return HttpResponseRedirect(change_url)
        form = AssignForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                workflow.assign(
                    issue_id=issue.pk,
                    by=request.user,
                    department=data["department"],
                    owner=data["owner"],
                    deadline=data["deadline"],
                    note=data["note"],
                )
            except (ValidationError, PermissionDenied) as error:
                self.message_user(request, error_text(error), messages.ERROR)
            else:
                self.message_user(
                    request, ngettext("%(n)d issue assigned.", "%(n)d issues assigned.", 1) % {"n": 1}
                )
                return HttpResponseRedirect(change_url)
        return self.render_action_form(
            request,
            [issue],
            form,
            action="assign_issues",
            title=_("Assign issues"),
            intro=self.assign_intro(issue),
        )

    @staticmethod
    def assign_intro(issue) -> str:
        if issue.scope == Scope.COMMON:
            return _("The new enterprise issues linked to this common issue are assigned with it.")
        return ""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ValidationError, PermissionDenied) as error:
            # Raised by the workflow inside save_model (e.g. a colleague saved between our
            # form check and the row lock). The admin's transaction is rolled back.
            if request.method != "POST":
                raise
            self.message_user(request, error_text(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            issue = workflow.raise_issue(
                by=request.user,
                enterprise=data["enterprise"],
                title=data["title"],
                description=data.get("description", ""),
                category=data["category"],
                source=data["source"],
                visit=data.get("visit"),
                survey_response=data.get("survey_response"),
                priority=data.get("priority") or "normal",
            )
            # The admin goes on with `obj` (log entry, redirect): make it the saved issue.
            obj.__dict__.update(issue.__dict__)
            return
        issue = workflow.edit_details(
            issue_id=obj.pk,
            by=request.user,
            expected_version=data["expected_version"],
            **{field: data[field] for field in workflow.EDITABLE_FIELDS if field in data},
        )
        obj.version = issue.version

    # -- list columns ------------------------------------------------------------------------

    owner_name = person_column("owner", Issue)
    raised_by_name = person_column("raised_by", Issue)

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        badge = format_html(
            '<span class="status-{}">&nbsp;{}&nbsp;</span>', obj.status, obj.get_status_display()
        )
        if obj.common_issue_id:
            # Not waiting for triage: it follows the common issue (assigned and resolved with it).
            mark = _("Merged into common issue #%(id)s") % {"id": obj.common_issue_id}
            return format_html('{} <span class="follows-common">{}</span>', badge, mark)
        if obj.scope == Scope.COMMON:
            return format_html('{} <span class="common-mark">{}</span>', badge, _("Common issue"))
        return badge

    @admin.display(description=_("title"), ordering="title")
    def title_cell(self, obj):
        where = " · ".join(
            part for part in (obj.enterprise.name if obj.enterprise else "", obj.category.name) if part
        )
        return format_html(
            '<span class="issue-title" title="{}">{}</span><span class="issue-where" title="{}">{}</span>',
            obj.title,
            Truncator(obj.title).chars(28),
            where,
            Truncator(where).chars(30),
        )

    @admin.display(description=_("due"), ordering="deadline")
    def deadline_short(self, obj):
        return date_format(obj.deadline, "Y-m-d") if obj.deadline else "–"

    @admin.display(description=_("raised"), ordering="raised_on")
    def raised_short(self, obj):
        return date_format(obj.raised_on, "Y-m-d")

    @admin.display(description=_("department"), ordering="lead_department__name")
    def department_short(self, obj):
        department = obj.lead_department
        if department is None:
            return "–"
        return format_html(
            '<span title="{}">{}</span>', department.name, department.short_name or department.name
        )

    @admin.display(description=_("common issue"))
    def common_issue_link(self, obj):
        """Which common issue this one follows; on a common issue, the issues that follow it."""
        if obj.common_issue_id:
            return format_html(
                '<a href="{}">{}</a> {}',
                reverse("admin:issues_issue_change", args=[obj.common_issue_id]),
                _("Merged into common issue #%(id)s") % {"id": obj.common_issue_id},
                obj.common_issue.title,
            )
        if obj.scope != Scope.COMMON:
            return "–"
        count = obj.linked_issues.count()
        text = ngettext(
            "Common issue: %(n)d enterprise issue follows it",
            "Common issue: %(n)d enterprise issues follow it",
            count,
        ) % {"n": count}
        url = reverse("admin:issues_issue_changelist") + f"?common_issue__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, text)

    @admin.display(description=_("colour"), ordering="colour")
    def colour_badge(self, obj):
        colour = obj.colour
        if not colour:
            return "–"
        badge = format_html('<span class="colour-{}">&nbsp;{}&nbsp;</span>', colour, Colour(colour).label)
        if colour != Colour.RED:
            return badge
        return format_html("{} {}", badge, self.overdue_mark(obj))

    @admin.display(description=_("supervision colour"))
    def supervision_colour(self, obj):
        return self.colour_badge(obj)

    @admin.display(description=_("overdue"), ordering="deadline")
    def overdue_mark(self, obj):
        days = obj.days_overdue()
        if not days:
            return ""
        text = ngettext("%(days)d day overdue", "%(days)d days overdue", days) % {"days": days}
        return format_html('<strong class="overdue">⚠ {}</strong>', text)

    # -- actions -------------------------------------------------------------------------------

    def render_action_form(self, request, queryset, form, *, action: str, title, intro=""):
        return render_action_form(
            self, request, form, action=action, title=title, intro=intro, issues=queryset, selected=queryset
        )

    def run_per_issue(self, request, queryset, step, done_message) -> None:
        """Call `step(issue)` for each issue, each in its own transaction; report both ways."""
        run_each(
            self, request, queryset.order_by("pk"), step, done_message, label=lambda i: f"#{i.pk} {i.title}"
        )

    @admin.action(permissions=["change"], description=_("Assign to a department (new issues)"))
    def assign_issues(self, request, queryset):
        form = AssignForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            self.run_per_issue(
                request,
                queryset,
                lambda issue: workflow.assign(
                    issue_id=issue.pk,
                    by=request.user,
                    department=data["department"],
                    owner=data["owner"],
                    deadline=data["deadline"],
                    note=data["note"],
                ),
                lambda n: ngettext("%(n)d issue assigned.", "%(n)d issues assigned.", n) % {"n": n},
            )
            return None
        return self.render_action_form(
            request,
            queryset,
            form,
            action="assign_issues",
            title=_("Assign issues"),
            intro=_("Only new issues can be assigned; each issue is assigned on its own."),
        )

    @admin.action(permissions=["change"], description=_("Merge into a common issue"))
    def merge_into_common_issue(self, request, queryset):
        form = MergeForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            mergeable = [
                issue
                for issue in queryset.order_by("pk")
                if workflow.state_allows(Action.MERGE, issue) and issue.scope == Scope.INDIVIDUAL
            ]
            if not mergeable:
                self.message_user(
                    request,
                    _("None of the selected issues can be merged into a common issue."),
                    messages.ERROR,
                )
                return None
            common = data["common_issue"]
            if common is None:
                try:
                    common = workflow.create_common_issue(
                        by=request.user,
                        title=data["title"],
                        category=data["category"],
                        description=data["description"],
                    )
                except (ValidationError, PermissionDenied) as error:
                    self.message_user(request, error_text(error), messages.ERROR)
                    return None
                self.message_user(
                    request, _("Common issue #%(id)s created.") % {"id": common.pk}, messages.SUCCESS
                )
            self.run_per_issue(
                request,
                queryset,
                lambda issue: workflow.merge_into_common(
                    issue_ids=[issue.pk], common_issue_id=common.pk, by=request.user, note=data["note"]
                ),
                lambda n: (
                    ngettext(
                        "%(n)d issue linked to common issue #%(id)s.",
                        "%(n)d issues linked to common issue #%(id)s.",
                        n,
                    )
                    % {"n": n, "id": common.pk}
                ),
            )
            return None
        return self.render_action_form(
            request,
            queryset,
            form,
            action="merge_into_common_issue",
            title=_("Merge into a common issue"),
            intro=_(
                "The selected enterprise issues will follow the common issue: when it is resolved, "
                "they can be resolved with it."
            ),
        )

    @admin.action(permissions=["change"], description=_("Close as duplicate / not actionable"))
    def close_issues(self, request, queryset):
        form = CloseForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            self.run_per_issue(
                request,
                queryset,
                lambda issue: workflow.close(
                    issue_id=issue.pk, by=request.user, outcome=data["outcome"], reason=data["reason"]
                ),
                lambda n: ngettext("%(n)d issue closed.", "%(n)d issues closed.", n) % {"n": n},
            )
            return None
        return self.render_action_form(
            request,
            queryset,
            form,
            action="close_issues",
            title=_("Close as duplicate / not actionable"),
            intro=_("Only new issues can be closed this way; a reason is required."),
        )

    def export_rows(self, queryset):
        for issue in queryset.order_by("pk"):
            yield [
                issue.pk,
                issue.title,
                issue.enterprise.name if issue.enterprise else "",
                issue.enterprise.credit_code if issue.enterprise else "",
                issue.category.name,
                issue.get_scope_display(),
                issue.get_source_display(),
                issue.get_priority_display(),
                issue.get_status_display(),
                Colour(issue.colour).label if issue.colour else "",
                str(issue.lead_department or ""),
                person_name(issue.owner),
                issue.raised_on,
                issue.deadline,
                issue.original_deadline,
                issue.description,
            ]

    def export_filename(self, ext: str) -> str:
        return f"issues-{timezone.localdate():%Y%m%d}.{ext}"

    def export_queryset(self, queryset):
        return queryset.select_related("enterprise", "category", "lead_department", "owner")

    @admin.action(permissions=["change"], description=_("Export selected as CSV"))
    def export_csv(self, request, queryset):
        return csv_response(
            self.export_filename("csv"),
            [str(h) for h in EXPORT_HEADER],
            self.export_rows(self.export_queryset(queryset)),
        )

    @admin.action(permissions=["change"], description=_("Export selected as XLSX"))
    def export_xlsx(self, request, queryset):
        return xlsx_response(
            self.export_filename("xlsx"),
            [
                (
                    str(_("Issues")),
                    [str(h) for h in EXPORT_HEADER],
                    self.export_rows(self.export_queryset(queryset)),
                )
            ],
        )


# -- rows the workflow writes ----------------------------------------------------------------------


@admin.register(IssueEvent)
class IssueEventAdmin(VisibleIssuesMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The append-only record: read-only here, as in the database."""

    @property
    def media(self):
        return super().media + ADMIN_MEDIA

    list_display = [
        "at",
        "issue",
        "kind",
        "actor_name",
        "status_from",
        "status_to",
        "department",
        "owner_name",
        "note_short",
    ]
    list_select_related = ["issue", "actor", "department", "owner"]
    list_filter = ["kind", "status_to", "department", "at"]
    search_fields = ["note", "issue__title", "=issue__id", *people.search_fields("actor")]
    actor_name = person_column("actor", IssueEvent)
    owner_name = person_column("owner", IssueEvent)
    show_full_result_count = False
    ordering = ["-at", "-id"]

    @admin.display(description=_("note"))
    def note_short(self, obj):
        return Truncator(obj.note).chars(80)


@admin.register(Milestone)
class MilestoneAdmin(VisibleIssuesMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["title", "issue", "due_on", "done_on"]
    list_select_related = ["issue"]
    list_filter = ["due_on", "done_on"]
    search_fields = ["title", "issue__title"]


@admin.register(CoDepartment)
class CoDepartmentAdmin(VisibleIssuesMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["issue", "department", "report_by", "reported_on"]
    list_select_related = ["issue", "department"]
    list_filter = ["department", "report_by", "reported_on"]
    search_fields = ["issue__title", "department__name", "report"]


class DecisionAdmin(VisibleIssuesMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Extension requests and objections: never edited here; a coordinator decides them
    with the actions below, which call the workflow."""

    list_filter = ["status", "decided_at"]
    list_select_related = ["issue"]

    @property
    def media(self):
        return super().media + ADMIN_MEDIA

    # The change page (view only): the request, then one line that says what became of it.
    request_fields: list[str] = []

    def get_fields(self, request, obj=None):
        fields = [*self.request_fields, "decision"]
        if obj is not None and obj.status not in (RequestStatus.PENDING, RequestStatus.WITHDRAWN):
            fields.append("decision_note")  # a withdrawal's note only repeats the decision
        return fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_decide_permission(self, request):
        return self.has_view_permission(request) and is_coordinator(request.user)

    def label(self, obj):
        return f"#{obj.issue_id} {obj.issue.title}"

    @admin.display(description=_("issue"), ordering="issue_id")
    def issue_short(self, obj):
        return Truncator(str(obj.issue)).chars(24)

    @admin.display(description=_("decision"), ordering="status")
    def decision(self, obj):
        """Pending, approved or refused by whom and when, or withdrawn: a request withdrawn
        because the issue was resolved first was never decided, and must not read as
        refused by the department that resolved it (#17)."""
        status = format_html('<span class="request-{}">{}</span>', obj.status, obj.get_status_display())
        if obj.status == RequestStatus.WITHDRAWN:
            return format_html("{} · {}", status, _("not decided: the issue was resolved first"))
        if obj.status == RequestStatus.PENDING or obj.decided_by is None:
            return status
        at = date_format(timezone.localtime(obj.decided_at), "Y-m-d H:i") if obj.decided_at else ""
        return format_html("{} · {} {}", status, person_name(obj.decided_by), at)

    def decide_with_form(self, request, queryset, form_class, *, action, title, step, done_message):
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            run_each(
                self,
                request,
                queryset.order_by("pk"),
                lambda obj: step(obj, form.cleaned_data),
                done_message,
                label=self.label,
            )
            return None
        return render_action_form(
            self,
            request,
            form,
            action=action,
            title=title,
            intro="",
            issues=Issue.objects.filter(pk__in=queryset.values("issue_id")).select_related(
                "enterprise", "lead_department"
            ),
            selected=queryset,
        )


def decided(n):
    return ngettext("%(n)d decision recorded.", "%(n)d decisions recorded.", n) % {"n": n}


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(DecisionAdmin):
    # Five short columns: the decision is in view at 1366 px, beside the filters (#17).
    list_display = [
        "issue_short",
        "requested_by_name",
        "current_deadline",
        "requested_deadline",
        "decision",
    ]
    list_select_related = ["issue", "requested_by", "decided_by"]
    search_fields = ["issue__title", "reason", "=issue__id", *people.search_fields("requested_by")]
    actions = ["approve", "refuse"]
    request_fields = [
        "issue",
        "requested_by_name",
        "requested_at",
        "current_deadline",
        "requested_deadline",
        "reason",
    ]
    requested_by_name = person_column("requested_by", ExtensionRequest)

    @admin.action(permissions=["decide"], description=_("Approve: move the deadline"))
    def approve(self, request, queryset):
        run_each(
            self,
            request,
            queryset.order_by("pk"),
            lambda ext: workflow.decide_extension(request_id=ext.pk, by=request.user, approve=True),
            decided,
            label=self.label,
        )

    @admin.action(permissions=["decide"], description=_("Refuse: keep the deadline"))
    def refuse(self, request, queryset):
        return self.decide_with_form(
            request,
            queryset,
            NoteForm,
            action="refuse",
            title=_("Refuse deadline extensions"),
            step=lambda ext, data: workflow.decide_extension(
                request_id=ext.pk, by=request.user, approve=False, note=data["note"]
            ),
            done_message=decided,
        )


@admin.register(Objection)
class ObjectionAdmin(DecisionAdmin):
    list_display = [
        "issue_short",
        "department",
        "raised_by_name",
        "suggested_department",
        "decision",
    ]
    list_select_related = ["issue", "department", "raised_by", "suggested_department", "decided_by"]
    search_fields = ["issue__title", "reason", "=issue__id", *people.search_fields("raised_by")]
    actions = ["uphold", "reject"]
    request_fields = [
        "issue",
        "department",
        "raised_by_name",
        "raised_at",
        "suggested_department",
        "reason",
    ]
    raised_by_name = person_column("raised_by", Objection)

    @admin.action(permissions=["decide"], description=_("Uphold: reassign to another department"))
    def uphold(self, request, queryset):
        return self.decide_with_form(
            request,
            queryset,
            ReassignForm,
            action="uphold",
            title=_("Uphold objections and reassign"),
            step=lambda obj, data: workflow.decide_objection(
                objection_id=obj.pk,
                by=request.user,
                uphold=True,
                note=data["note"],
                department=data["department"],
                owner=data["owner"],
                deadline=data["deadline"],
            ),
            done_message=decided,
        )

    @admin.action(permissions=["decide"], description=_("Reject: the assignment stands"))
    def reject(self, request, queryset):
        return self.decide_with_form(
            request,
            queryset,
            NoteForm,
            action="reject",
            title=_("Reject objections"),
            step=lambda obj, data: workflow.decide_objection(
                objection_id=obj.pk, by=request.user, uphold=False, note=data["note"]
            ),
            done_message=decided,
        )


@admin.register(FeedbackRound)
class FeedbackRoundAdmin(VisibleIssuesMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The enterprise's answers (回访记录): append-only, recorded through the workflow."""

    list_display = [
        "issue",
        "number",
        "contacted_on",
        "channel",
        "reply_satisfaction",
        "solution_satisfaction",
        "sent_back",
        "recorded_by_name",
    ]
    fields = [
        "issue",
        "number",
        "contacted_on",
        "channel",
        "contact_name",
        "reply_satisfaction",
        "solution_satisfaction",
        "sent_back",
        "comment",
        "recorded_by_name",
        "recorded_at",
    ]
    readonly_fields = fields
    list_select_related = ["issue", "recorded_by"]
    list_filter = ["channel", "solution_satisfaction", "reply_satisfaction", "sent_back", "contacted_on"]
    search_fields = ["issue__title", "comment", "contact_name", "=issue__id"]
    ordering = ["-contacted_on", "-id"]

    recorded_by_name = recorded_by_name


class OfficialDayImportForm(forms.Form):
    lines = forms.CharField(
        label=_("Dates from the State Council's notice"),
        widget=forms.Textarea(attrs={"rows": 12, "cols": 60}),
        help_text=_(
            "One date per line: the date, then 休 (holiday) or 班 (make-up working day), then the "
            "name if you like, e.g. “2027-01-01 休 元旦” or “2027-02-06 班 春节”."
        ),
    )

    def clean_lines(self):
        days, errors = [], []
        for number, line in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            parts = line.replace("，", " ").replace(",", " ").split()
            if not parts:
                continue
            try:
                day = date.fromisoformat(parts[0].replace("/", "-"))
                kind = {"休": OfficialDayKind.HOLIDAY, "班": OfficialDayKind.WORKDAY}[parts[1]]
            except (ValueError, IndexError, KeyError):
                errors.append(
                    _("Line %(n)s: “%(line)s” is not “date 休/班 name”.") % {"n": number, "line": line}
                )
                continue
            days.append(OfficialDay(day=day, kind=kind, name=" ".join(parts[2:])[:30]))
        if errors:
            raise forms.ValidationError(errors)
        if not days:
            raise forms.ValidationError(_("No date was given."))
        return days


@admin.register(OfficialDay)
class OfficialDayAdmin(admin.ModelAdmin):
    """The official calendar (administrators): overrides the calendar library. Every change
    recomputes the working-day dates that open issues keep."""

    list_display = ["day", "kind", "name"]
    list_filter = ["kind", "day"]
    search_fields = ["name"]
    date_hierarchy = "day"
    list_select_related = ()
    change_list_template = "admin/issues/officialday/change_list.html"

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="issues_officialday_import"),
            *super().get_urls(),
        ]

    def _recompute(self, request) -> None:
        changed = workflow.refresh_calendar_dates()
        self.message_user(
            request,
            ngettext(
                "The dates of %(n)d open issue were recomputed from the calendar.",
                "The dates of %(n)d open issues were recomputed from the calendar.",
                changed,
            )
            % {"n": changed},
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._recompute(request)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._recompute(request)

    def delete_queryset(self, request, queryset):
        for day in queryset:
            day.delete()
        self._recompute(request)

    def import_view(self, request):
        if not self.has_add_permission(request) or not self.has_change_permission(request):
            raise PermissionDenied
        form = OfficialDayImportForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            with transaction.atomic():
                for day in form.cleaned_data["lines"]:
                    OfficialDay.objects.update_or_create(
                        day=day.day, defaults={"kind": day.kind, "name": day.name}
                    )
            self.message_user(
                request, _("%(n)d dates entered.") % {"n": len(form.cleaned_data["lines"])}, messages.SUCCESS
            )
            self._recompute(request)
            return HttpResponseRedirect("../")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Enter the dates of the official notice"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/issues/officialday/import.html", context)


@admin.register(FeedbackRequest)
class FeedbackRequestAdmin(VisibleIssuesMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Feedback links issued to enterprises: their state, and revoking one that leaked."""

    list_display = ["issue", "created_at", "expires_at", "used_at", "revoked_at", "created_by_name"]
    created_by_name = person_column("created_by", FeedbackRequest)
    list_select_related = ["issue", "created_by"]
    list_filter = ["created_at", "used_at", "revoked_at"]
    search_fields = ["=issue__id", "issue__title"]
    actions = ["revoke_links"]

    def has_revoke_permission(self, request):
        return is_coordinator(request.user)

    @admin.action(permissions=["revoke"], description=_("Revoke: the link stops working"))
    def revoke_links(self, request, queryset):
        from .feedback_links import revoke

        for link in queryset:
            revoke(link)
        self.message_user(request, _("Revoked."), messages.SUCCESS)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What was sent to whom, and what failed (with the error)."""

    list_display = ["created_at", "kind", "channel", "address", "status", "attempts", "issue"]
    list_select_related = ["issue"]
    list_filter = ["status", "channel", "kind", "created_at"]
    search_fields = ["address", "subject", "=issue__id"]
    ordering = ["-created_at", "-id"]


# -- the change trail, evidence files and the access log (issue 13) ----------------------------------

admin.site.unregister(get_user_model())


# -- users, roles (groups) and permissions, in Chinese (#17) ------------------------------------

PERMISSION_ACTIONS = {
    "add": _("may add"),
    "change": _("may change"),
    "delete": _("may delete"),
    "view": _("may view"),
}


def permission_label(permission) -> str:
    """`问题 | 延期申请 | 可查看`: Django stores permission names in English when the tables
    are created; this reads them in the user's language from the app and model names."""
    content_type = permission.content_type
    model = content_type.model_class()
    app = django_apps.get_app_config(content_type.app_label).verbose_name
    model_name = model._meta.verbose_name if model else content_type.model
    action, _sep, rest = permission.codename.partition("_")
    if action in PERMISSION_ACTIONS and model is not None and rest == model._meta.model_name:
        what = PERMISSION_ACTIONS[action]
    else:
        what = _(permission.name)  # a permission of our own: its name is in the catalogue
    return f"{app} | {model_name} | {what}"


def role_label(group) -> str:
    """A group is a role (issues.roles): its Chinese name, the group's own name otherwise."""
    return str(Role(group.name).label) if group.name in Role.values else group.name


class PermissionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return permission_label(obj)


class RoleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return role_label(obj)


class ChineseLabelsMixin:
    """Roles and permissions by their Chinese names in the pickers of users and groups."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name in ("permissions", "user_permissions"):
            kwargs["form_class"] = PermissionChoiceField
            kwargs.setdefault(
                "queryset",
                Permission.objects.select_related("content_type").order_by("content_type", "codename"),
            )
        elif db_field.name == "groups":
            kwargs["form_class"] = RoleChoiceField
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(get_user_model())
class UserAdmin(ChineseLabelsMixin, TrailAdminMixin, auth_admin.UserAdmin):
    """Django's user admin, with the trail of each account (its groups, i.e. roles, too) on
    its History page; people found by name or login, roles and permissions in Chinese."""

    list_display = ["username", "full_name", "email", "roles", "is_staff", "is_active"]
    list_filter = ["groups", "is_staff", "is_active", "departments"]
    search_fields = ["username", "first_name", "last_name", "email"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("full name"), ordering="first_name")
    def full_name(self, obj):
        return person_name(obj)

    @admin.display(description=_("roles"))
    def roles(self, obj):
        return "、".join(role_label(group) for group in obj.groups.all())


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(ChineseLabelsMixin, auth_admin.GroupAdmin):
    """Roles are groups named by their code (issues.roles): shown by their Chinese name."""

    list_display = ["role_name", "name"]
    fields = ["role_name", "name", "permissions"]
    readonly_fields = ["role_name"]

    @admin.display(description=_("role"), ordering="name")
    def role_name(self, obj):
        return role_label(obj)


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Evidence files: found here by name, checksum or issue; added only on the issue and
    visit pages (checked by content), never changed or deleted here."""

    list_display = ["name", "kind", "issue", "visit", "size", "uploaded_by_name", "uploaded_at", "open_link"]
    uploaded_by_name = person_column("uploaded_by", Attachment)
    list_select_related = ["issue", "visit", "visit__enterprise", "uploaded_by"]
    list_filter = ["kind", "uploaded_at"]
    search_fields = ["name", "=sha256", "=issue__id", "=visit__id"]
    date_hierarchy = "uploaded_at"
    fields = [
        "name",
        "kind",
        "content_type",
        "size",
        "sha256",
        "issue",
        "event",
        "visit",
        "uploaded_by_name",
        "uploaded_at",
        "open_link",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        from .attachments import visible_attachments

        return visible_attachments(request.user, super().get_queryset(request))

    @admin.display(description=_("file"))
    def open_link(self, obj):
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), _("Open the file"))


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who exported, imported, issued feedback links and signed in: searchable by
    administrators only, never edited; `manage.py prune_access_log` removes old rows."""

    list_display = ["at", "kind", "username", "ip", "target", "query_short", "rows"]
    list_select_related = ()
    list_filter = ["kind", "at"]
    search_fields = ["username", "ip", "target", "query"]
    date_hierarchy = "at"
    show_full_result_count = False
    fields = ["at", "kind", "user", "username", "ip", "target", "query", "rows"]
    readonly_fields = fields

    def _administrator(self, request) -> bool:
        from .roles import Role, has_role

        return has_role(request.user, Role.ADMINISTRATOR)

    def has_module_permission(self, request):
        return self._administrator(request)

    def has_view_permission(self, request, obj=None):
        return self._administrator(request)

    @admin.display(description=_("filter"))
    def query_short(self, obj):
        return Truncator(obj.query).chars(80)
