"""Form helpers shared by the browser pages: Bootstrap 5 classes on every widget, an
`is-invalid` class beside each error so the message shows next to its field, and a select
box that renders its options in Python."""

import functools
import html

from django import forms
from django.forms.boundfield import BoundField
from django.forms.models import ModelChoiceIterator
from django.forms.renderers import Jinja2
from django.utils.safestring import SafeData, mark_safe

CHECKS = (forms.CheckboxInput, forms.CheckboxSelectMultiple, forms.RadioSelect)


class Select(forms.Select):
    """Django's single select box, options rendered in Python (the same elements and
    attributes as Django's template, without the whitespace between options).

    Django renders each <option> through a template include: the issue list's filter form
    (about 200 options) spent a third of the page's time there, the issue page's owner box
    (one option per department member) more. The options are written directly from the
    choices (Django's `optgroups` builds a dict per option and escapes through lazy-aware
    wrappers: 1.2 ms for the 40 departments, now 0.5 ms); attributes, `selected`, optgroups
    and escaping behave as in Django's own template (tests compare the two)."""

    def render(self, name, value, attrs=None, renderer=None):
        selected = set(self.format_value(value))
        has_selected = False
        parts = [f"<select name={_quoted(name)}{_attrs(self.build_attrs(self.attrs, attrs))}>"]
        for group_value, group_label in self.choices:
            grouped = isinstance(group_label, list | tuple)
            if grouped:
                parts.append(f"<optgroup label={_quoted(group_value)}>")
            for option_value, label in group_label if grouped else [(group_value, group_label)]:
                value_text = "" if option_value is None else str(option_value)
                chosen = not has_selected and value_text in selected
                has_selected |= chosen
                flag = " selected" if chosen else ""
                parts.append(f"<option value={_quoted(value_text)}{flag}>{_text(label)}</option>")
            if grouped:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # every value and label escaped above


def _text(value) -> str:
    """As a Django template prints a value: escaped unless marked safe."""
    return value if isinstance(value, SafeData) else html.escape(str(value))


def _quoted(value) -> str:
    return f'"{_text(value)}"'


def _attrs(attrs: dict) -> str:
    """As django/forms/widgets/attrs.html: False is left out, True is a bare name."""
    return "".join(
        f" {name}" if value is True else f" {name}={_quoted(value)}"
        for name, value in attrs.items()
        if value is not False
    )


class JinjaRenderedForm(forms.Form):
    """A form whose widgets are drawn from Django's own Jinja2 copies of its widget templates:
    the same markup as the Django-template ones, faster (the issue list's status check boxes
    0.68 ms → 0.29 ms, its sort box 0.68 ms → 0.29 ms). Not for the admin, whose widgets
    exist only as Django templates."""

    default_renderer = Jinja2()


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
