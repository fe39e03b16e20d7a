"""The visit form (log, plan, edit) and the raised-issues formset beside it."""

import re
import uuid

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.forms import BootstrapFormMixin
from enterprises.models import Enterprise
from issues.attachments import EvidenceFilesField, max_bytes
from issues.models import Category, Department

from .models import Official, Topic, Visit, VisitStatus

CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")
BIGINT_MAX = 2**63 - 1


def is_id(text: str) -> bool:
    """ASCII digits only: "²".isdigit() and "①".isdigit() are True but int() refuses them
    (a 500), and int() would read full-width "１２" as 12."""
    return text.isascii() and text.isdigit()


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Refuses ids outside the database's integer range before querying: Django guards a
    single id lookup against that (#27397) but not `pk__in`, and SQLite then raises
    OverflowError (a 500) on a forged id such as 99999999999999999999."""

    def _check_values(self, value):
        for pk in value:
            text = str(pk)
            if not is_id(text) or int(text) > BIGINT_MAX:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super()._check_values(value)


ISSUE_ROWS_WITHOUT_JS = 3


def enterprise_label(enterprise: Enterprise) -> str:
    """The text the enterprise box shows and accepts back: name, then credit code."""
    return f"{enterprise.name} {enterprise.credit_code}"


class EnterpriseLookupField(forms.CharField):
    """Pick an enterprise by typing: its credit code, its exact name, or a unique part of it.

    A <select> of every enterprise is unusable on a phone once there are hundreds; a text
    box with a <datalist> (filled by static/app/visit_form.js as you type, and with the key
    enterprises when there is no JavaScript) works everywhere.
    """

    default_error_messages = {
        "not_found": _("No enterprise has this name or credit code."),
        "ambiguous": _("Several enterprises match: %(names)s. Type more of the name, or the credit code."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 250)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, Enterprise):
            return enterprise_label(value)
        if isinstance(value, int):
            found = Enterprise.objects.filter(pk=value).first()
            return enterprise_label(found) if found else ""
        return value

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        code = CREDIT_CODE.search(text.upper())
        if code:
            found = Enterprise.objects.filter(credit_code=code.group()).first()
            if found:
                return found
        name = text.strip()
        exact = list(Enterprise.objects.filter(name=name)[:2])
        if len(exact) == 1:
            return exact[0]
        matches = list(
            Enterprise.objects.filter(
                Q(name__icontains=name) | Q(credit_code__icontains=name.upper())
            ).order_by("-is_key", "name")[:6]
        )
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise forms.ValidationError(self.error_messages["not_found"], code="not_found")
        names = "、".join(m.name for m in matches[:5]) + ("…" if len(matches) > 5 else "")
        raise forms.ValidationError(
            self.error_messages["ambiguous"], code="ambiguous", params={"names": names}
        )


class VisitForm(BootstrapFormMixin, forms.ModelForm):
    """One form for the three pages; `mode` says which: "log", "plan" or "edit"."""

    enterprise = EnterpriseLookupField(
        label=_("Enterprise"),
        help_text=_("Type part of the name or the credit code and pick from the list."),
        widget=forms.TextInput(
            attrs={"list": "enterprise-options", "autocomplete": "off", "data-lookup": "enterprise"}
        ),
    )
    lead_officials = IdMultipleChoiceField(
        queryset=Official.objects.filter(is_active=True).order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        label=_("Lead officials"),
    )
    accompanying_departments = IdMultipleChoiceField(
        queryset=Department.objects.filter(is_active=True).order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("Accompanying departments"),
    )
    topics = forms.MultipleChoiceField(
        choices=Topic.choices, widget=forms.CheckboxSelectMultiple, required=False, label=_("Topics covered")
    )
    submission_token = forms.UUIDField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # Evidence (issues.attachments): photos straight from the phone's camera, and photos or
    # documents already on the phone or computer. Checked by content when the form is.
    photos = EvidenceFilesField(camera=True, label=_("Take photos"))
    documents = EvidenceFilesField(label=_("Add photos or documents"))

    class Meta:
        model = Visit
        fields = [
            "enterprise",
            "visited_on",
            "status",
            "lead_officials",
            "accompanying_departments",
            "topics",
            "policies_explained",
            "summary",
        ]
        widgets = {
            "visited_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "policies_explained": forms.Textarea(attrs={"rows": 3}),
            "summary": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, mode: str = "log", **kwargs):
        self.mode = mode
        super().__init__(*args, **kwargs)
        if mode == "edit":
            # Keep an official or department who has since been deactivated on the visit.
            for name in ("lead_officials", "accompanying_departments"):
                current = getattr(self.instance, name).values("pk")
                field = self.fields[name]
                field.queryset = field.queryset.model.objects.filter(Q(is_active=True) | Q(pk__in=current))
            self.fields["status"].choices = VisitStatus.choices
            self.fields["version"].initial = self.instance.version
            del self.fields["submission_token"]
        else:
            # Logged visits are completed, planned ones planned: nothing to choose.
            del self.fields["status"]
            del self.fields["version"]
            if not self.is_bound:
                self.fields["submission_token"].initial = uuid.uuid4()
        if mode == "plan":
            for name in ("policies_explained", "summary", "photos", "documents"):
                del self.fields[name]
        self._mark_summary_required(mode)
        self.fields["visited_on"].label = _("Date")
        if "documents" in self.fields:
            self.fields["documents"].help_text = _(
                "Photos (JPEG, PNG, WebP) and documents (PDF, .docx, .xlsx, OFD), up to %(mb)s MB each."
            ) % {"mb": max_bytes() // 1024 // 1024}

    @property
    def evidence(self) -> list:
        """The checked photos and documents posted with the form (issues.attachments.CheckedFile)."""
        return [*self.cleaned_data.get("photos", []), *self.cleaned_data.get("documents", [])]

    @property
    def posted_files(self) -> bool:
        return bool(self.files and any(self.files.getlist(n) for n in ("photos", "documents")))

    def _mark_summary_required(self, mode: str) -> None:
        """A logged visit needs its summary (走访情况): marked like every other required field.
        On the edit page it is needed only if the visit ends up completed, which the status
        chosen in the same form decides: it stays optional there and says when it is needed
        (clean() checks it)."""
        summary = self.fields.get("summary")
        if summary is None:
            return
        if mode == "log":
            summary.required = True
            summary.error_messages["required"] = _("Write a short summary of the visit.")
        else:
            summary.help_text = _("Required for a completed visit.")

    @property
    def resulting_status(self) -> str:
        if self.mode == "log":
            return VisitStatus.COMPLETED
        if self.mode == "plan":
            return VisitStatus.PLANNED
        return self.cleaned_data.get("status") or self.instance.status

    def clean(self):
        cleaned = super().clean()
        status, day, today = self.resulting_status, cleaned.get("visited_on"), timezone.localdate()
        if day and status == VisitStatus.COMPLETED and day > today:
            self.add_error("visited_on", _("A completed visit cannot be dated in the future."))
        if day and self.mode == "plan" and day < today:
            self.add_error("visited_on", _("A planned visit cannot be dated in the past."))
        if (
            status == VisitStatus.COMPLETED
            and "summary" in self.fields
            and not self.has_error("summary")  # "required" said it already
            and not (cleaned.get("summary") or "").strip()
        ):
            self.add_error("summary", _("Write a short summary of the visit."))
        if (
            self.mode == "edit"
            and status != VisitStatus.COMPLETED
            and self.instance.pk
            and self.instance.issues.exists()
        ):
            self.add_error(
                "status", _("Issues were recorded on this visit, so it took place: keep it completed.")
            )
        return cleaned


class IssueForm(BootstrapFormMixin, forms.Form):
    """One problem the enterprise raised on the visit."""

    title = forms.CharField(label=_("Issue"), max_length=200)
    description = forms.CharField(
        label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(is_active=True).order_by("sort_order", "name"),
        label=_("Category"),
        empty_label=_("Choose a category"),
    )
    solved_on_site = forms.BooleanField(label=_("Solved on the spot"), required=False)
    resolution = forms.CharField(
        label=_("How it was solved"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when solved on the spot."),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("solved_on_site") and not (cleaned.get("resolution") or "").strip():
            self.add_error("resolution", _("Say how the problem was solved on the spot."))
        return cleaned


class BaseIssueFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Remove this issue")
            form.fields["DELETE"].widget.attrs["class"] = "form-check-input"

    def issues(self) -> list[dict]:
        """The filled rows, in order, without the ones marked for removal."""
        return [
            form.cleaned_data
            for form in self.forms
            if form.has_changed() and form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


IssueFormSet = forms.formset_factory(
    IssueForm,
    formset=BaseIssueFormSet,
    extra=ISSUE_ROWS_WITHOUT_JS,
    can_delete=True,
    max_num=50,
    validate_max=True,
    # A forged TOTAL_FORMS of 100000000 would otherwise build and re-render 1,000 rows.
    absolute_max=51,
)
