"""One small form per issue action. Each form validates its input and calls the one
workflow function for its action (`perform`); the workflow checks permission and status.

Every form carries the `version` of the issue the user saw: the view compares it with the
stored version under a row lock, so a second coordinator acting on a stale page gets a
conflict message instead of silently overwriting the first one's change.
"""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from config.forms import DateInput, bootstrap_widgets

from . import attachments, workflow
from .models import (
    UNCONFIRMED_OUTCOMES,
    Category,
    Channel,
    Department,
    Issue,
    Outcome,
    Priority,
    RequestStatus,
    Satisfaction,
    Scope,
    Status,
)
from .people import person_name
from .permissions import Action, can
from .roles import is_coordinator


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return person_name(obj)


def department_members():
    return (
        get_user_model()
        .objects.filter(is_active=True, departments__is_active=True)
        .distinct()
        .order_by("first_name", "username")
    )


def textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


SATISFACTION_CHOICES = [("", "---------"), *Satisfaction.choices]


class ActionForm(forms.Form):
    """Base: the issue, the user, the hidden version, Bootstrap classes on widgets."""

    action: str = ""
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, issue: Issue, user, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.action}_%s")
        super().__init__(*args, **kwargs)
        self.issue, self.user = issue, user
        if not self.is_bound:
            self.initial.setdefault("version", issue.version)
        self.setup()
        if self.action in attachments.STEP_ACTIONS:
            # Photos or documents with the step; attachments.with_step checks and stores the
            # posted files, so this field only draws the input and carries their errors.
            self.fields["files"] = attachments.EvidenceFilesField(label=_("Photos or documents (optional)"))
        bootstrap_widgets(self.fields)

    def setup(self) -> None:
        """Narrow querysets or drop fields for this issue."""

    def perform(self):
        """Call this action's workflow step; every action form below defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define perform()")

    @property
    def heading(self) -> str:
        return Action(self.action).label

    def common(self) -> dict:
        return {"issue_id": self.issue.pk, "by": self.user}

    def versioned(self) -> dict:
        return {**self.common(), "expected_version": self.cleaned_data["version"]}


class EditForm(ActionForm):
    action = Action.EDIT
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=textarea(4), required=False)
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.filter(is_active=True))
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)

    def setup(self):
        if not self.is_bound:
            self.initial.update(
                title=self.issue.title,
                description=self.issue.description,
                category=self.issue.category_id,
                priority=self.issue.priority,
            )

    def perform(self):
        data = self.cleaned_data
        return workflow.edit_details(
            **self.versioned(),
            title=data["title"],
            description=data["description"],
            category=data["category"],
            priority=data["priority"],
        )


class AssignForm(ActionForm):
    action = Action.ASSIGN
    department = forms.ModelChoiceField(
        label=_("Lead department"), queryset=Department.objects.filter(is_active=True)
    )
    owner = UserChoiceField(label=_("Owner"), queryset=None, required=False)
    deadline = forms.DateField(label=_("Deadline"), widget=DateInput)
    note = forms.CharField(label=_("Note"), widget=textarea(2), required=False)

    def setup(self):
        self.fields["owner"].queryset = department_members()

    def perform(self):
        d = self.cleaned_data
        return workflow.assign(
            **self.versioned(),
            department=d["department"],
            owner=d["owner"],
            deadline=d["deadline"],
            note=d["note"],
        )


class StartForm(ActionForm):
    action = Action.START
    note = forms.CharField(label=_("Note"), widget=textarea(2), required=False)

    def perform(self):
        return workflow.start(**self.versioned(), note=self.cleaned_data["note"])


def public_field(initial: bool = False) -> forms.BooleanField:
    return forms.BooleanField(
        label=_("Visible to the enterprise"),
        help_text=_("The enterprise sees it on its page and its feedback link; staff names are never shown."),
        required=False,
        initial=initial,
    )


class ProgressForm(ActionForm):
    action = Action.PROGRESS
    note = forms.CharField(label=_("Progress"), widget=textarea(3), max_length=5000)
    public = public_field()

    def perform(self):
        d = self.cleaned_data
        return workflow.post_progress(**self.versioned(), note=d["note"], public=d["public"])


class ResolveForm(ActionForm):
    action = Action.RESOLVE
    resolution = forms.CharField(label=_("Resolution"), widget=textarea(4), max_length=5000)
    resolve_linked = forms.BooleanField(
        label=_("Also resolve every open linked enterprise issue"), required=False, initial=True
    )
    # The enterprise judges the resolution: it is shown to it unless kept internal.
    public = public_field(initial=True)

    def setup(self):
        # The linked issues are other departments': only a coordinator resolves them all.
        if self.issue.scope != Scope.COMMON or not is_coordinator(self.user):
            del self.fields["resolve_linked"]

    def perform(self):
        return workflow.resolve(
            **self.versioned(),
            resolution=self.cleaned_data["resolution"],
            resolve_linked=self.cleaned_data.get("resolve_linked", False),
            public=self.cleaned_data["public"],
        )


class FeedbackForm(ActionForm):
    """One answer of the enterprise (a feedback round). Unsatisfied sends the issue back to
    its department at once, with the enterprise's words; accepted may close it at once."""

    action = Action.FEEDBACK
    contacted_on = forms.DateField(label=_("Answered on"), widget=DateInput)
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[c for c in Channel.choices if c[0] != Channel.ONLINE],
        initial=Channel.PHONE,
    )
    contact_name = forms.CharField(label=_("Enterprise contact"), max_length=50, required=False)
    reply_satisfaction = forms.ChoiceField(
        label=_("Reply satisfaction"), choices=Satisfaction.choices, widget=forms.RadioSelect
    )
    solution_satisfaction = forms.ChoiceField(
        label=_("Solution satisfaction"), choices=Satisfaction.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("The enterprise's words"),
        help_text=_("Required when unsatisfied: it goes back to the department as the reason."),
        widget=textarea(2),
        max_length=5000,
        required=False,
    )
    close = forms.BooleanField(
        label=_("Close the issue if the enterprise accepts the solution"), required=False
    )

    def setup(self):
        if self.issue.status != Status.RESOLVED or not can(self.user, Action.CONFIRM, self.issue):
            del self.fields["close"]

    def perform(self):
        d = self.cleaned_data
        return workflow.record_round(
            **self.versioned(),
            contacted_on=d["contacted_on"],
            channel=d["channel"],
            contact_name=d["contact_name"],
            reply_satisfaction=d["reply_satisfaction"],
            solution_satisfaction=d["solution_satisfaction"],
            comment=d["comment"],
            close=d.get("close", False),
        )


class RequestFeedbackForm(ActionForm):
    """Issue a feedback link (and QR code) for the enterprise's answer about this resolution;
    its primary contact gets it by email when it has an address."""

    action = Action.REQUEST_FEEDBACK

    def perform(self):
        return workflow.issue_feedback_link(**self.common())


class ConfirmForm(ActionForm):
    """Close after the enterprise accepted the resolution (its latest feedback round)."""

    action = Action.CONFIRM
    note = forms.CharField(label=_("Note"), widget=textarea(2), required=False)

    def perform(self):
        return workflow.confirm(**self.versioned(), note=self.cleaned_data["note"])


class CloseUnconfirmedForm(ActionForm):
    action = Action.CLOSE_UNCONFIRMED
    outcome = forms.ChoiceField(
        label=_("Why the enterprise cannot answer"),
        choices=[(o.value, o.label) for o in UNCONFIRMED_OUTCOMES],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Attempts made and justification"), widget=textarea(2), max_length=5000)

    def perform(self):
        d = self.cleaned_data
        return workflow.close_unconfirmed(**self.versioned(), outcome=d["outcome"], reason=d["reason"])


class CloseForm(ActionForm):
    action = Action.CLOSE
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(o.value, o.label) for o in (Outcome.DUPLICATE, Outcome.NOT_ACTIONABLE)],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason"), widget=textarea(2), max_length=5000)

    def perform(self):
        d = self.cleaned_data
        return workflow.close(**self.versioned(), outcome=d["outcome"], reason=d["reason"])


class ReopenForm(ActionForm):
    action = Action.REOPEN
    reason = forms.CharField(label=_("Reason"), widget=textarea(2), max_length=5000)
    deadline = forms.DateField(label=_("New deadline (optional)"), widget=DateInput, required=False)

    def perform(self):
        d = self.cleaned_data
        return workflow.reopen(**self.versioned(), reason=d["reason"], deadline=d["deadline"])


class ChangeDeadlineForm(ActionForm):
    action = Action.CHANGE_DEADLINE
    deadline = forms.DateField(label=_("New deadline"), widget=DateInput)
    reason = forms.CharField(label=_("Reason"), widget=textarea(2), max_length=5000)

    def perform(self):
        d = self.cleaned_data
        return workflow.change_deadline(**self.versioned(), deadline=d["deadline"], reason=d["reason"])


class ChangeOwnerForm(ActionForm):
    action = Action.CHANGE_OWNER
    owner = UserChoiceField(label=_("New owner"), queryset=None)
    reason = forms.CharField(label=_("Reason"), widget=textarea(2), max_length=5000)

    def setup(self):
        dept = self.issue.lead_department
        members = (
            dept.members.filter(is_active=True).order_by("username")
            if dept
            else get_user_model().objects.none()
        )
        self.fields["owner"].queryset = members

    def perform(self):
        d = self.cleaned_data
        return workflow.change_owner(**self.versioned(), owner=d["owner"], reason=d["reason"])


class RequestExtensionForm(ActionForm):
    action = Action.REQUEST_EXTENSION
    deadline = forms.DateField(label=_("Requested deadline"), widget=DateInput)
    reason = forms.CharField(label=_("Reason"), widget=textarea(2), max_length=5000)

    def perform(self):
        d = self.cleaned_data
        return workflow.request_extension(**self.versioned(), deadline=d["deadline"], reason=d["reason"])


class DecideExtensionForm(ActionForm):
    action = Action.DECIDE_EXTENSION
    request = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("refuse", _("Refuse"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Note (required when refusing)"), widget=textarea(2), required=False)

    def setup(self):
        self.fields["request"].queryset = self.issue.extension_requests.filter(status=RequestStatus.PENDING)

    def perform(self):
        d = self.cleaned_data
        return workflow.decide_extension(
            request_id=d["request"].pk, by=self.user, approve=d["decision"] == "approve", note=d["note"]
        )


class ObjectForm(ActionForm):
    action = Action.OBJECT
    reason = forms.CharField(label=_("Why is this not for your department?"), widget=textarea(2))
    suggested_department = forms.ModelChoiceField(
        label=_("Suggested department"), queryset=Department.objects.filter(is_active=True), required=False
    )

    def perform(self):
        d = self.cleaned_data
        return workflow.object_to_assignment(
            **self.versioned(), reason=d["reason"], suggested_department=d["suggested_department"]
        )


class DecideObjectionForm(ActionForm):
    action = Action.DECIDE_OBJECTION
    objection = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("uphold", _("Uphold: reassign")), ("reject", _("Reject: the assignment stands"))],
        widget=forms.RadioSelect,
    )
    department = forms.ModelChoiceField(
        label=_("Reassign to"), queryset=Department.objects.filter(is_active=True), required=False
    )
    owner = UserChoiceField(label=_("Owner"), queryset=None, required=False)
    deadline = forms.DateField(label=_("New deadline (optional)"), widget=DateInput, required=False)
    note = forms.CharField(label=_("Note"), widget=textarea(2), required=False)

    def setup(self):
        self.fields["objection"].queryset = self.issue.objections.filter(status=RequestStatus.PENDING)
        self.fields["owner"].queryset = department_members()

    def perform(self):
        d = self.cleaned_data
        return workflow.decide_objection(
            objection_id=d["objection"].pk,
            by=self.user,
            uphold=d["decision"] == "uphold",
            note=d["note"],
            department=d["department"],
            owner=d["owner"],
            deadline=d["deadline"],
        )


class MergeForm(ActionForm):
    action = Action.MERGE
    common_issue = forms.ModelChoiceField(label=_("Common issue"), queryset=None)
    note = forms.CharField(label=_("Note"), widget=textarea(2), required=False)

    def setup(self):
        self.fields["common_issue"].queryset = (
            Issue.objects.filter(scope=Scope.COMMON).open().exclude(pk=self.issue.pk).order_by("-id")
        )

    def perform(self):
        d = self.cleaned_data
        return workflow.merge_into_common(
            issue_ids=[self.issue.pk], common_issue_id=d["common_issue"].pk, by=self.user, note=d["note"]
        )


class AddMilestoneForm(ActionForm):
    action = Action.ADD_MILESTONE
    title = forms.CharField(label=_("Milestone"), max_length=200)
    due_on = forms.DateField(label=_("Due on"), widget=DateInput)

    def perform(self):
        d = self.cleaned_data
        return workflow.add_milestone(**self.common(), title=d["title"], due_on=d["due_on"])


class CompleteMilestoneForm(ActionForm):
    action = Action.COMPLETE_MILESTONE
    milestone = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), required=False)

    def setup(self):
        self.fields["milestone"].queryset = self.issue.milestones.filter(done_on__isnull=True)

    def perform(self):
        d = self.cleaned_data
        return workflow.complete_milestone(milestone_id=d["milestone"].pk, by=self.user, note=d["note"])


class AddCoDepartmentForm(ActionForm):
    action = Action.ADD_CO_DEPARTMENT
    department = forms.ModelChoiceField(
        label=_("Co-handling department"), queryset=Department.objects.filter(is_active=True)
    )
    report_by = forms.DateField(label=_("Report in by"), widget=DateInput)

    def perform(self):
        d = self.cleaned_data
        return workflow.add_co_department(
            **self.versioned(), department=d["department"], report_by=d["report_by"]
        )


class CoReportForm(ActionForm):
    action = Action.CO_REPORT
    report = forms.CharField(label=_("Your department's report"), widget=textarea(3), max_length=5000)

    def perform(self):
        return workflow.co_report_in(**self.common(), report=self.cleaned_data["report"])


ACTION_FORMS: dict[str, type[ActionForm]] = {
    form.action: form
    for form in (
        EditForm,
        AssignForm,
        StartForm,
        ProgressForm,
        ResolveForm,
        FeedbackForm,
        RequestFeedbackForm,
        ConfirmForm,
        CloseUnconfirmedForm,
        CloseForm,
        ReopenForm,
        ChangeDeadlineForm,
        ChangeOwnerForm,
        RequestExtensionForm,
        DecideExtensionForm,
        ObjectForm,
        DecideObjectionForm,
        MergeForm,
        AddMilestoneForm,
        CompleteMilestoneForm,
        AddCoDepartmentForm,
        CoReportForm,
    )
}
# Shown beside the item they act on (a milestone, a request, an objection), not as a panel.
ITEM_ACTIONS = frozenset({Action.COMPLETE_MILESTONE, Action.DECIDE_EXTENSION, Action.DECIDE_OBJECTION})
# Panel order on the issue page: the everyday step first.
PANEL_ORDER = [
    Action.PROGRESS,
    Action.START,
    Action.RESOLVE,
    Action.REQUEST_FEEDBACK,
    Action.FEEDBACK,
    Action.CONFIRM,
    Action.ASSIGN,
    Action.CO_REPORT,
    Action.ADD_MILESTONE,
    Action.REQUEST_EXTENSION,
    Action.OBJECT,
    Action.CHANGE_DEADLINE,
    Action.CHANGE_OWNER,
    Action.ADD_CO_DEPARTMENT,
    Action.REOPEN,
    Action.CLOSE_UNCONFIRMED,
    Action.CLOSE,
    Action.MERGE,
    Action.EDIT,
]
