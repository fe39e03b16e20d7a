"""Form helpers shared by every app's browser pages: Bootstrap 5 classes on every widget,
an `is-invalid` class beside each error so the message shows next to its field, and the
date input of the browser's own date picker."""

from django import forms
from django.forms.boundfield import BoundField

CHECKS = (forms.CheckboxInput, forms.CheckboxSelectMultiple, forms.RadioSelect)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def bootstrap_widgets(fields, size: str = "") -> None:
    """Give every widget its Bootstrap class (form-control, form-select, form-check-input;
    `size="sm"` for the small variants)."""
    for field in fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        if isinstance(widget, CHECKS):
            css = "form-check-input"
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = f"form-select form-select-{size}" if size else "form-select"
        else:
            css = f"form-control form-control-{size}" if size else "form-control"
        if css.split()[0] not in widget.attrs.get("class", "").split():
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class BootstrapBoundField(BoundField):
    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        if self.errors:
            base = attrs.get("class") or (widget or self.field.widget).attrs.get("class", "")
            attrs["class"] = f"{base} is-invalid".strip()
        return attrs


class BootstrapFormMixin:
    """Mix into a Form: Bootstrap classes, and `is-invalid` on fields with errors."""

    bound_field_class = BootstrapBoundField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrap_widgets(self.fields)
