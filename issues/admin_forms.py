"""Forms of the issue admin: the add and change forms and the intermediate action forms.

None of them saves anything itself: `issues.admin` passes their cleaned data to
`issues.workflow`, the only place an issue's status or workflow fields change.
"""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.forms import DateInput

from .models import OPEN_STATUSES, Category, Department, Issue, Outcome, Scope
from .people import person_name, person_with_departments
from .workflow import EDITABLE_FIELDS


class IssueAddForm(forms.ModelForm):
    """What a coordinator records when an enterprise raises a problem outside a visit.

    Saved by `workflow.raise_issue`, which writes the first event of the timeline.
    """

    class Meta:
        model = Issue
        fields = [
            "enterprise",
            "source",
            "visit",
            "survey_response",
            "title",
            "description",
            "category",
            "priority",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # An issue recorded here belongs to one enterprise; common issues are created by
        # the "merge into common issue" action.
        self.fields["enterprise"].required = True
        if "category" in self.fields:
            self.fields["category"].queryset = Category.objects.filter(is_active=True)

    def clean(self):
        cleaned = super().clean()
        enterprise = cleaned.get("enterprise")
        for field in ("visit", "survey_response"):
            source = cleaned.get(field)
            if source is not None and enterprise is not None and source.enterprise_id != enterprise.pk:
                self.add_error(field, _("This belongs to another enterprise than the issue."))
        return cleaned


class IssueChangeForm(forms.ModelForm):
    """The descriptive fields only, plus the version the user loaded.

    Everything else (status, department, owner, deadline, outcome...) is read-only in the
    admin and changes only through the workflow actions.
    """

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = Issue
        fields = list(EDITABLE_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        expected = cleaned.get("expected_version")
        # A cheap early check so a stale form is shown again with the user's input;
        # `workflow.edit_details` checks again under the row lock.
        if expected is not None and self.instance.pk and expected != self.instance.version:
            raise forms.ValidationError(
                _(
                    "This issue was changed by someone else while you were editing it. "
                    "Nothing was saved. Reload the page to see the current version, then "
                    "make your change again."
                ),
                code="conflict",
            )
        return cleaned


class MemberSelect(forms.Select):
    """Each person's option says which departments they belong to (`data-departments`), so
    static/app/assign_form.js can offer only the members of the department chosen."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-departments"] = " ".join(str(d.pk) for d in instance.active_departments)
        return option


class MemberChoiceField(forms.ModelChoiceField):
    widget = MemberSelect

    def label_from_instance(self, obj):
        return person_with_departments(obj, obj.active_departments)


def department_members(department=None):
    """Active people of active departments (of `department` only, when given), each with
    their active departments at hand (`active_departments`): one query for all of them."""
    people = get_user_model().objects.filter(is_active=True, departments__is_active=True)
    if department is not None:
        people = people.filter(departments=department)
    return (
        people.distinct()
        .order_by("first_name", "username")
        .prefetch_related(
            Prefetch(
                "departments",
                queryset=Department.objects.filter(is_active=True).order_by("name"),
                to_attr="active_departments",
            )
        )
    )


class ActionForm(forms.Form):
    """Base of the intermediate action forms; `apply` tells the action to go ahead."""

    apply = forms.CharField(widget=forms.HiddenInput, initial="1")


class AssignForm(ActionForm):
    """Department, owner and deadline in one step. The owner picker lists the members of the
    department chosen: narrowed in the browser (static/app/assign_form.js), and on the server
    once a department is posted, so a form shown again offers only that department's people."""

    department = forms.ModelChoiceField(
        label=_("Lead department"), queryset=Department.objects.filter(is_active=True)
    )
    owner = MemberChoiceField(
        label=_("Owner"),
        queryset=get_user_model().objects.none(),
        required=False,
        help_text=_("Must be a member of the lead department. May be left empty."),
    )
    deadline = forms.DateField(label=_("Deadline"), widget=DateInput)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    class Media:
        js = ["app/assign_form.js"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = department_members()

    def clean_deadline(self):
        deadline = self.cleaned_data["deadline"]
        if deadline < timezone.localdate():
            raise forms.ValidationError(_("The deadline cannot be in the past."))
        return deadline

    def clean(self):
        cleaned = super().clean()
        department, owner = cleaned.get("department"), cleaned.get("owner")
        if department and owner and not department.members.filter(pk=owner.pk).exists():
            self.add_error(
                "owner",
                _("%(owner)s is not a member of %(department)s.")
                % {"owner": person_name(owner), "department": department},
            )
        if department:
            # Shown again (an error anywhere): only the people the department has.
            self.fields["owner"].queryset = department_members(department)
        return cleaned


class CommonIssueChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"#{obj.pk} {obj.title} ({obj.get_status_display()})"


class MergeForm(ActionForm):
    common_issue = CommonIssueChoiceField(
        label=_("Existing common issue"),
        queryset=Issue.objects.none(),
        required=False,
    )
    title = forms.CharField(label=_("Or a new common issue: title"), max_length=200, required=False)
    category = forms.ModelChoiceField(
        label=_("Category of the new common issue"),
        queryset=Category.objects.filter(is_active=True),
        required=False,
    )
    description = forms.CharField(
        label=_("Description of the new common issue"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["common_issue"].queryset = Issue.objects.filter(
            scope=Scope.COMMON, status__in=OPEN_STATUSES
        ).order_by("-raised_on", "-id")

    def clean(self):
        cleaned = super().clean()
        common, title = cleaned.get("common_issue"), (cleaned.get("title") or "").strip()
        if common and title:
            raise forms.ValidationError(
                _("Either pick an existing common issue or give a new one, not both.")
            )
        if not common and not title:
            raise forms.ValidationError(_("Pick an existing common issue or give a title for a new one."))
        if title and not cleaned.get("category"):
            self.add_error("category", _("Choose the category of the new common issue."))
        cleaned["title"] = title
        return cleaned


class CloseForm(ActionForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            (Outcome.DUPLICATE, Outcome.DUPLICATE.label),
            (Outcome.NOT_ACTIONABLE, Outcome.NOT_ACTIONABLE.label),
        ],
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class NoteForm(ActionForm):
    """A reason, required: refusing an extension, rejecting an objection."""

    note = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class ReassignForm(AssignForm):
    """Upholding an objection: the department the issue moves to."""

    deadline = forms.DateField(
        label=_("New deadline"),
        widget=DateInput,
        required=False,
        help_text=_("Leave empty to keep the current deadline."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].label = _("New lead department")

    def clean_deadline(self):
        deadline = self.cleaned_data.get("deadline")
        if deadline is None:
            return None
        return super().clean_deadline()
