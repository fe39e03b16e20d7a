"""The enterprise list's filters; GET parameter names are part of the URL contract."""

from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django_filters import CharFilter, ChoiceFilter, DateFilter, FilterSet, ModelChoiceFilter

from config.forms import BootstrapFormMixin
from visits.models import Visit, VisitStatus

from .models import District, Enterprise, Sector

YES_NO = [("yes", _("Yes")), ("no", _("No"))]
TRUE_FALSE = [("true", _("Yes")), ("false", _("No"))]


class FilterForm(BootstrapFormMixin, forms.Form):
    pass


class EnterpriseFilter(FilterSet):
    q = CharFilter(
        method="search",
        label=_("Name or credit code"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name or credit code")}),
    )
    sector = ChoiceFilter(choices=Sector.choices, label=_("Sector"), empty_label=_("All sectors"))
    district = ModelChoiceFilter(
        queryset=District.objects.all(), label=_("District"), empty_label=_("All districts")
    )
    is_key = ChoiceFilter(
        choices=TRUE_FALSE, method="filter_is_key", label=_("On the key list"), empty_label=_("Any")
    )
    # "Visited" means: has a COMPLETED visit dated in [visited_after, visited_before], or ever
    # when no range is given. A range given without `visited` means "visited in that range".
    visited = ChoiceFilter(choices=YES_NO, method="keep", label=_("Visited"), empty_label=_("Any"))
    visited_after = DateFilter(
        method="keep", label=_("Visited on or after"), widget=forms.DateInput(attrs={"type": "date"})
    )
    visited_before = DateFilter(
        method="keep", label=_("Visited on or before"), widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = Enterprise
        fields: list[str] = []
        form = FilterForm

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(credit_code__icontains=value.upper()))

    def filter_is_key(self, queryset, name, value):
        return queryset.filter(is_key=(value == "true"))

    def keep(self, queryset, name, value):
        return queryset  # applied together in filter_queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        visited, after, before = data.get("visited"), data.get("visited_after"), data.get("visited_before")
        if not visited and not (after or before):
            return queryset
        visits = Visit.objects.filter(enterprise=OuterRef("pk"), status=VisitStatus.COMPLETED)
        if after:
            visits = visits.filter(visited_on__gte=after)
        if before:
            visits = visits.filter(visited_on__lte=before)
        has_visit = Exists(visits)
        return queryset.filter(~has_visit if visited == "no" else has_visit)
