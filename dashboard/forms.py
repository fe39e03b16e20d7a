from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from config.forms import DateInput, bootstrap_widgets
from enterprises.models import District, Sector
from issues.models import Department

from . import figures

PERIOD_CHOICES = [
    ("week", _("This week")),
    ("month", _("This month")),
    ("quarter", _("This quarter")),
    ("year", _("This year (1 January to today)")),
    ("12months", _("Last 12 months")),
    ("custom", _("Custom range")),
]


class DashboardFilterForm(forms.Form):
    """The GET form on top of the dashboard, the facts page and the weekly list."""

    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES, required=False, initial="month")
    start = forms.DateField(label=_("From"), required=False, widget=DateInput)
    end = forms.DateField(label=_("To"), required=False, widget=DateInput)
    district = forms.ModelChoiceField(
        label=_("District"), queryset=District.objects.all(), required=False, empty_label=_("All districts")
    )
    sector = forms.ChoiceField(
        label=_("Sector"), choices=[("", _("All sectors")), *Sector.choices], required=False
    )
    department = forms.ModelChoiceField(
        label=_("Lead department"),
        queryset=Department.objects.all(),
        required=False,
        empty_label=_("All departments"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrap_widgets(self.fields, size="sm")

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError(_("A custom range needs both dates."))
            if start > end:
                raise forms.ValidationError(_("The range starts after it ends."))
            if (end - start).days > 3660:
                raise forms.ValidationError(_("Choose a range of at most ten years."))
        return data

    def _data(self) -> dict:
        return self.cleaned_data if self.is_bound and self.is_valid() else {}

    def chosen_period(self, today: date) -> figures.Period:
        data = self._data()
        kind = data.get("period") or "month"
        if kind == "custom":
            return figures.Period(data["start"], data["end"])
        return figures.period_for(kind, today)

    def filters(self) -> figures.Filters:
        data = self._data()
        return figures.Filters(
            district=data["district"].pk if data.get("district") else None,
            sector=data.get("sector") or None,
            department=data["department"].pk if data.get("department") else None,
        )

    def described(self) -> list[str]:
        """The active period choice and filters, as words for a printed heading."""
        data = self._data()
        words = [str(dict(PERIOD_CHOICES)[data.get("period") or "month"])]
        values = {name: data.get(name) for name in ("district", "department")}
        values["sector"] = Sector(data["sector"]).label if data.get("sector") else None
        for name, value in values.items():
            if value:
                words.append(labelled(self.fields[name].label, value))
        return words


def labelled(label, value) -> str:
    """“label: value”, with the full-width colon in Chinese."""
    return _("%(label)s: %(value)s") % {"label": label, "value": value}
