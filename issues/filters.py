"""The issue list's filters (django-filter), shared by the list page and its exports.

The GET parameter names are part of the URL contract (other pages and the dashboard link
to `issues:list?...`): keep them stable. `FigureFilters` adds the dashboard's own filters,
so every figure links to exactly the rows it counts.
"""

from django import forms
from django.db.models import Case, F, IntegerField, Q, Value, When
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

from enterprises.forms import JinjaRenderedForm, bootstrap_widgets
from enterprises.models import District, Sector

from .figure_filters import FigureFilters
from .forms import DateInput
from .models import (
    ACTIVE_STATUSES,
    Category,
    Colour,
    Department,
    Issue,
    Priority,
    Scope,
    Source,
    Status,
    colour_conditions,
)

SEARCH_MAX_LENGTH = 200
# The filters this module renders; anything else on the form comes from FigureFilters.
LIST_FILTERS = (
    "q",
    "status",
    "department",
    "category",
    "district",
    "enterprise",
    "source",
    "scope",
    "sector",
    "priority",
    "colour",
    "overdue",
    "due_soon",
    "deadline_after",
    "deadline_before",
    "raised_after",
    "raised_before",
    "ordering",
)


def with_colour_rank(queryset):
    """`colour` plus a sortable `colour_rank`: red 0, yellow 1, blue 2, on track 3."""
    return queryset.with_colour().annotate(
        colour_rank=Case(
            When(colour=Colour.RED, then=Value(0)),
            When(colour=Colour.YELLOW, then=Value(1)),
            When(colour=Colour.BLUE, then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        )
    )


def in_part_order(queryset, parts):
    """`queryset` ordered as the consecutive `parts` (see `ListFilters.parts`) say: by part,
    then by that part's own keys. Used where every row is read anyway (exports) or on the
    few rows of one page; a page's ids are selected part by part, from indexes."""
    if len(parts) == 1:
        ordering = parts[0][1]
        if any(str(o).lstrip("-") == "colour_rank" for o in ordering):
            queryset = with_colour_rank(queryset)
        return queryset.order_by(*ordering)
    queryset = queryset.annotate(
        part_no=Case(
            *[When(condition, then=Value(n)) for n, (condition, _o) in enumerate(parts)],
            output_field=IntegerField(),
        )
    )
    keys = []
    for n, (_c, ordering) in enumerate(parts):
        for field in ordering:
            key = Case(When(part_no=n, then=F(field.lstrip("-"))))
            keys.append(key.desc() if field.startswith("-") else key.asc())
    return queryset.order_by("part_no", *keys)


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


class ListFilters(FilterSet):
    """The issue list's own filters (the form on the page)."""

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

    class Meta:
        model = Issue
        fields: list[str] = []
        form = JinjaRenderedForm

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrap_widgets(self.form.fields, size="sm")

    def filter_queryset(self, queryset):
        """The filtered rows (`qs`), in the model's default order. Ordering is not a filter
        here: `parts()` orders each part of the list itself."""
        for name, value in self.form.cleaned_data.items():
            if name != "ordering":
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    def parts(self, today=None) -> list[tuple[Q | None, tuple]]:
        """The list's order, as consecutive parts of the filtered rows (`qs`): a list of
        (condition, ordering) pairs, each ordering on plain columns and ending on the id.

        Each part can be read from an index (the partial index on active issues' deadlines
        for the coloured parts, `-raised_on, -id` for the rest), so a page never sorts every
        visible issue by a computed colour. Default: overdue, behind schedule, due soon (each
        by deadline), the other issues being handled (by deadline), then everything else
        (new, resolved, closed), newest first.
        """
        today = today or timezone.localdate()
        self.form.is_valid()  # cleans the form; an invalid ordering is left out of cleaned_data
        value = [v for v in (getattr(self.form, "cleaned_data", {}).get("ordering") or []) if v]
        c = colour_conditions(today)
        by_deadline = ("deadline", "id")
        if not value:
            active = [
                (c[Colour.RED], by_deadline),
                (c[Colour.YELLOW], by_deadline),
                (c[Colour.BLUE], by_deadline),
                (c["on_track"], by_deadline),
            ]
            others = [(c["inactive"], ("-raised_on", "-id"))]
            # Leave out the parts the filters make empty (PostgreSQL cannot always tell).
            data = getattr(self.form, "cleaned_data", {})
            statuses = set(data.get("status") or [])
            if statuses and not statuses & set(ACTIVE_STATUSES):
                return others
            if any(data.get(f) for f in ("colour", "overdue", "due_soon")) or (
                statuses and statuses <= set(ACTIVE_STATUSES)
            ):
                return active
            return active + others
        if value in (["colour"], ["-colour"]):
            # Red, yellow, blue, on track (or the reverse), each by id: the order the computed
            # rank gave, without computing it.
            conditions = [c[Colour.RED], c[Colour.YELLOW], c[Colour.BLUE], c["on_track"] | c["inactive"]]
            if value[0].startswith("-"):
                return [(q, ("-id",)) for q in reversed(conditions)]
            return [(q, ("id",)) for q in conditions]
        ordered = self.filters["ordering"].filter(with_colour_rank(Issue.objects.all()), value)
        return [(None, tuple(ordered.query.order_by))]

    def ordered_all(self, today=None):
        """All filtered rows in the list's order as ONE queryset (for exports, which read
        every row anyway)."""
        return in_part_order(self.qs, self.parts(today))

    def ordered_qs(self, condition, ordering):
        """One part of the list (see `parts`) as a queryset."""
        return in_part_order(self.qs if condition is None else self.qs.filter(condition), [(None, ordering)])

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
        if value.isdigit():
            condition |= Q(pk=int(value)) if len(value) < 12 else Q()
        return queryset.filter(condition)

    def filter_colour(self, queryset, name, value):
        return queryset.with_colour_filter(value, today=timezone.localdate()) if value else queryset

    def filter_overdue(self, queryset, name, value):
        return queryset.overdue(timezone.localdate()) if value else queryset

    def filter_due_soon(self, queryset, name, value):
        return queryset.due_soon(timezone.localdate()) if value else queryset

    @property
    def extra_filter_names(self) -> list[str]:
        """Dashboard (FigureFilters) parameters on the form: kept as hidden inputs."""
        return [n for n in self.form.fields if n not in LIST_FILTERS]


class IssueFilter(ListFilters, FigureFilters):
    """The list's filters and the dashboard's (`FigureFilters`): every figure's link lists
    exactly its rows."""


def issue_filter(data, queryset) -> ListFilters:
    """The filters for these GET parameters: the dashboard's only when the link carries one
    of them (a drill-down), since building 33 filters and their form fields for every list
    page cost a third more than the list's own 18."""
    drill_down = any(name in data for name in FIGURE_PARAMS)
    return (IssueFilter if drill_down else ListFilters)(data, queryset=queryset)


FIGURE_PARAMS = frozenset(FigureFilters.base_filters) - frozenset(LIST_FILTERS)
