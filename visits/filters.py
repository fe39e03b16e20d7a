"""The visit list's filters: status, date range, enterprise, district, mine."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters import (
    BooleanFilter,
    CharFilter,
    ChoiceFilter,
    DateFilter,
    FilterSet,
    ModelChoiceFilter,
    NumberFilter,
)

from enterprises.filters import FilterForm
from enterprises.models import District

from .models import Visit, VisitStatus


class VisitFilter(FilterSet):
    status = ChoiceFilter(choices=VisitStatus.choices, label=_("Status"), empty_label=_("Any status"))
    visited_after = DateFilter(
        field_name="visited_on",
        lookup_expr="gte",
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    visited_before = DateFilter(
        field_name="visited_on",
        lookup_expr="lte",
        label=_("To"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    q = CharFilter(
        method="search",
        label=_("Enterprise name or credit code"),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    # A bigger id cannot exist, and SQLite would overflow on it (a 500 instead of no rows).
    enterprise = NumberFilter(
        field_name="enterprise_id", widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1
    )
    district = ModelChoiceFilter(
        field_name="enterprise__district",
        queryset=District.objects.all(),
        label=_("District"),
        empty_label=_("All districts"),
    )
    mine = BooleanFilter(
        method="filter_mine",
        label=_("Only my visits"),
        widget=forms.CheckboxInput(check_test=lambda v: str(v).lower() in ("1", "true", "on")),
    )

    class Meta:
        model = Visit
        fields: list[str] = []
        form = FilterForm

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(enterprise__name__icontains=value) | Q(enterprise__credit_code__icontains=value.upper())
        )

    def filter_mine(self, queryset, name, value):
        """Visits I logged, or on which I was a lead official."""
        if not value:
            return queryset
        user = self.request.user
        led = Visit.lead_officials.through.objects.filter(official__user=user).values("visit_id")
        return queryset.filter(Q(created_by=user) | Q(pk__in_subquery=led))
