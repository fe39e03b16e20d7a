"""The issue list's filters (django-filter), shared by the list page and its exports.

The GET parameter names are part of the URL contract (the dashboard, home and other pages
link to `issues:list?...`): keep them stable. Used as django-filter documents it:
`IssueFilter(request.GET, queryset=...)`, then paginate `.qs` (ordered red, yellow, blue,
then the rest, unless the user sorts otherwise).
"""

from django import forms
from django.db.models import Case, F, Q, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import (
    BooleanFilter,
    CharFilter,
    ChoiceFilter,
    DateFilter,
    Filter,
    FilterSet,
    ModelChoiceFilter,
    MultipleChoiceFilter,
    OrderingFilter,
)

from config.forms import DateInput, bootstrap_widgets
from enterprises.models import District, Sector

from .models import (
    OPEN_STATUSES,
    Category,
    Colour,
    Department,
    Issue,
    Priority,
    Scope,
    Source,
    Status,
)

SEARCH_MAX_LENGTH = 200
# Red, then yellow, then blue, then the other open issues, then the closed ones; each by
# deadline, the newest first without one. (`colour_rank` is annotated by with_colour.)
URGENT_FIRST = (
    "colour_rank",
    Case(When(status=Status.CLOSED, then=1), default=0),
    F("deadline").asc(nulls_last=True),
    "-raised_on",
    "-id",
)


def ascii_id(value: str) -> int | None:
    """An issue number typed in a search box: ASCII digits only ("²".isdigit() is True, and
    int() of it fails), and small enough to be an id."""
    return int(value) if value.isascii() and value.isdigit() and len(value) < 12 else None


class StableOrderingFilter(OrderingFilter):
    """An allowlisted ordering (unknown values fail form validation and are ignored) that
    always ends on the primary key, so pages never repeat or skip a row."""

    nulls_last = frozenset({"deadline"})

    def filter(self, qs, value):
        if not value:
            return qs
        ordering = []
        for param in value:
            if not param:
                continue
            field = self.get_ordering_value(param)
            name = field.lstrip("-")
            if name in self.nulls_last:  # issues without a deadline go last either way
                ordering.append(
                    F(name).desc(nulls_last=True) if field.startswith("-") else F(name).asc(nulls_last=True)
                )
            else:
                ordering.append(field)
        descending = bool(value) and str(value[-1]).startswith("-")
        return qs.order_by(*ordering, "-id" if descending else "id")


class SearchField(forms.CharField):
    """Free text that never fails validation: NUL bytes dropped (PostgreSQL refuses them),
    very long input cut to a sane length, so a hostile query finds rows or none, never a 500."""

    def to_python(self, value):
        return super().to_python(value).replace("\x00", "")[:SEARCH_MAX_LENGTH]


class SearchFilter(CharFilter):
    field_class = SearchField


class IdFilter(Filter):
    field_class = forms.IntegerField


class IssueFilter(FilterSet):
    """The issue list's filters: the form on the page, and the links of other pages."""

    q = SearchFilter(
        method="search",
        label=_("Search"),
        help_text=_("Title, description, enterprise name or credit code"),
    )
    status = MultipleChoiceFilter(
        choices=Status.choices,
        label=_("Status"),
        widget=forms.CheckboxSelectMultiple,
        distinct=False,  # a column of the issue itself: no duplicate rows to remove
    )
    department = ModelChoiceFilter(
        field_name="lead_department",
        queryset=Department.objects.all(),
        label=_("Lead department"),
        empty_label=_("All departments"),
    )
    category = ModelChoiceFilter(queryset=Category.objects.all(), label=_("Category"), empty_label=_("All"))
    district = ModelChoiceFilter(
        field_name="enterprise__district",
        queryset=District.objects.all(),
        label=_("District"),
        empty_label=_("All"),
    )
    # An id from a link (enterprise page → its issues); shown as a removable chip.
    enterprise = IdFilter(
        field_name="enterprise",
        label=_("Enterprise"),
        widget=forms.HiddenInput,
        min_value=1,
        max_value=2**63 - 1,  # a bigger id cannot exist, and SQLite would overflow on it
    )
    source = ChoiceFilter(choices=Source.choices, label=_("Source"), empty_label=_("All"))
    scope = ChoiceFilter(choices=Scope.choices, label=_("Scope"), empty_label=_("All"))
    sector = ChoiceFilter(
        field_name="enterprise__sector", choices=Sector.choices, label=_("Sector"), empty_label=_("All")
    )
    priority = ChoiceFilter(choices=Priority.choices, label=_("Priority"), empty_label=_("All"))
    colour = ChoiceFilter(
        choices=[(c.value, c.label) for c in (Colour.RED, Colour.YELLOW, Colour.BLUE)],
        method="filter_colour",
        label=_("Supervision colour"),
        empty_label=_("All"),
    )
    overdue = BooleanFilter(method="filter_overdue", label=_("Overdue only"), widget=forms.CheckboxInput)
    due_soon = BooleanFilter(method="filter_due_soon", label=_("Due soon only"), widget=forms.CheckboxInput)
    deadline_after = DateFilter(
        field_name="deadline", lookup_expr="gte", label=_("Deadline from"), widget=DateInput
    )
    deadline_before = DateFilter(
        field_name="deadline", lookup_expr="lte", label=_("Deadline to"), widget=DateInput
    )
    raised_after = DateFilter(
        field_name="raised_on", lookup_expr="gte", label=_("Raised from"), widget=DateInput
    )
    raised_before = DateFilter(
        field_name="raised_on", lookup_expr="lte", label=_("Raised to"), widget=DateInput
    )
    ordering = StableOrderingFilter(
        fields=(
            ("deadline", "deadline"),
            ("raised_on", "raised_on"),
            ("status", "status"),
            ("colour_rank", "colour"),
            ("enterprise__name", "enterprise"),
        ),
        field_labels={
            "deadline": _("Deadline (earliest first)"),
            "-deadline": _("Deadline (latest first)"),
            "raised_on": _("Raised (oldest first)"),
            "-raised_on": _("Raised (newest first)"),
            "status": _("Status"),
            "-status": _("Status (descending)"),
            "colour": _("Colour (red first)"),
            "-colour": _("Colour (on track first)"),
            "enterprise": _("Enterprise (A–Z)"),
            "-enterprise": _("Enterprise (Z–A)"),
        },
        label=_("Sort by"),
        empty_label=_("Default: overdue, behind schedule, due soon first"),
    )
    untriaged = BooleanFilter(
        method="filter_untriaged",
        label=_("Waiting for triage"),
        widget=forms.CheckboxInput,
    )
    awaiting_answer = BooleanFilter(
        method="filter_awaiting_answer",
        label=_("Resolved, waiting for the enterprise's answer"),
        widget=forms.CheckboxInput,
    )

    class Meta:
        model = Issue
        fields: list[str] = []

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and not data.getlist("status"):
            # Open issues unless statuses are chosen: closed ones are nine in ten of the table
            # and seldom what anyone looks for; the form shows the default ticked.
            data = data.copy()
            data.setlist("status", list(OPEN_STATUSES))
        super().__init__(data, *args, **kwargs)
        bootstrap_widgets(self.form.fields, size="sm")

    def filter_queryset(self, queryset):
        """The filtered rows, urgent first unless the user chose an order."""
        if not self.form.cleaned_data.get("ordering"):
            queryset = queryset.order_by(*URGENT_FIRST)
        return super().filter_queryset(queryset)

    def search(self, queryset, name, value):
        # icontains escapes % and _ itself; the ORM parameterises the rest. NUL bytes and
        # overlong input were removed by SearchField.
        value = value.strip()
        if not value:
            return queryset
        condition = (
            Q(title__icontains=value)
            | Q(description__icontains=value)
            | Q(enterprise__name__icontains=value)
            | Q(enterprise__credit_code__icontains=value)
        )
        if (number := ascii_id(value)) is not None:
            condition |= Q(pk=number)
        return queryset.filter(condition)

    def filter_colour(self, queryset, name, value):
        return queryset.with_colour_filter(value, today=timezone.localdate()) if value else queryset

    def filter_overdue(self, queryset, name, value):
        return queryset.overdue(timezone.localdate()) if value else queryset

    def filter_due_soon(self, queryset, name, value):
        return queryset.due_soon(timezone.localdate()) if value else queryset

    def filter_untriaged(self, queryset, name, value):
        return queryset.untriaged() if value else queryset

    def filter_awaiting_answer(self, queryset, name, value):
        return queryset.awaiting_answer() if value else queryset
