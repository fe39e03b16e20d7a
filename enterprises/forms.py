"""Form helpers shared by the browser pages: Bootstrap 5 classes on every widget, and an
`is-invalid` class beside each error so the message shows next to its field."""

from django import forms
from django.forms.boundfield import BoundField

CHECKS = (forms.CheckboxInput, forms.CheckboxSelectMultiple, forms.RadioSelect)


def bootstrap_widgets(fields) -> None:
    """Give every widget its Bootstrap class (form-control, form-select, form-check-input)."""
    for field in fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        if isinstance(widget, CHECKS):
            css = "form-check-input"
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = "form-select"
        else:
            css = "form-control"
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
