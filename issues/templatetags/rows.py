"""`{% rows "issues/_issue_rows.html" issues=page.object_list %}`: a Jinja2 partial
(templates/jinja2/) rendered inside a Django page, for the loops that draw many rows."""

from django import template
from django.template.loader import get_template
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def rows(template_name: str, **context):
    # Safe: the partial escaped what it printed (autoescape, asserted in tests).
    return mark_safe(get_template(template_name, using="jinja2").render(context))
