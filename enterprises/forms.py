"""Form helpers shared by the browser pages: Bootstrap 5 classes on every widget, an
`is-invalid` class beside each error so the message shows next to its field, and a select
box that renders its options in Python."""

import functools

from django import forms
from django.forms.boundfield import BoundField
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

CHECKS = (forms.CheckboxInput, forms.CheckboxSelectMultiple, forms.RadioSelect)


class Select(forms.Select):
    """Django's single select box, options rendered in Python (the same elements and
    attributes as Django's template, without the whitespace between options).

    Django renders each <option> through a template include: the issue list's filter form
    (about 200 options) spent a third of the page's time there, the issue page's owner box
    (one option per department member) more. Widget attributes, `selected` and optgroups
    behave as in Django's own template."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = []
        for group_name, options, _index in widget["optgroups"]:
            rendered = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((o["value"], flatatt(o["attrs"]), o["label"]) for o in options),
            )
            parts.append(
                format_html('<optgroup label="{}">{}</optgroup>', group_name, rendered)
                if group_name
                else rendered
            )
        options_html = mark_safe("".join(parts))  # each part escaped by format_html above
        return format_html(
            '<select name="{}"{}>{}</select>', widget["name"], flatatt(widget["attrs"]), options_html
        )


class _PlainQueryChoices(ModelChoiceIterator):
    """Django's model choices, read with one plain query. Django streams them with
    `.iterator()`, a server-side cursor on PostgreSQL (DECLARE, FETCH, CLOSE: three round
    trips, 1.9 ms against 0.9 ms for the 40 departments); choice tables hold a few dozen rows."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


@functools.cache
def _plain_query(iterator_class: type) -> type:
    """`iterator_class` (Django's, or a subclass such as django-filter's, which adds a
    "none" choice around Django's) reading with one plain query."""
    if issubclass(iterator_class, _PlainQueryChoices):
        return iterator_class
    if iterator_class is ModelChoiceIterator:
        return _PlainQueryChoices
    return type(f"PlainQuery{iterator_class.__name__}", (iterator_class, _PlainQueryChoices), {})


def bootstrap_widgets(fields, size: str = "") -> None:
    """Give every widget its Bootstrap class (form-control, form-select, form-check-input;
    `size="sm"` for the small variants), every single select box the Python-rendered
    `Select`, and model choices read with one plain query."""
    for field in fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        if isinstance(field, forms.ModelChoiceField):
            field.iterator = _plain_query(field.iterator)
            widget.choices = field.choices
        if type(widget) is forms.Select:
            field.widget = widget = _python_rendered(widget)
        if isinstance(widget, CHECKS):
            css = "form-check-input"
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = f"form-select form-select-{size}" if size else "form-select"
        else:
            css = f"form-control form-control-{size}" if size else "form-control"
        if css.split()[0] not in widget.attrs.get("class", "").split():
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


def _python_rendered(widget: forms.Select) -> Select:
    replacement = Select(attrs=widget.attrs, choices=())
    replacement.choices = widget.choices  # a ModelChoiceIterator stays lazy (queried at render)
    replacement.is_required = widget.is_required
    return replacement


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
