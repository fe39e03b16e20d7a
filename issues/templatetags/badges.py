"""`{% status_badge issue %}` and `{% colour_badge issue %}`: an issue's status and supervision
colour as badges, the one markup every page uses (a tag, not an include: the weekly list
draws some 800 of them)."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def status_badge(issue) -> str:
    return format_html(
        '<span class="badge px-2 py-1 status-{}">{}</span>', issue.status, issue.get_status_display()
    )


@register.simple_tag
def colour_badge(issue) -> str:
    """Nothing for an issue on track."""
    if not issue.colour:
        return ""
    return format_html('<span class="badge px-2 py-1 colour-{}">{}</span>', issue.colour, issue.colour_label)
