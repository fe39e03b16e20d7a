"""Parts of the admin drawn by Jinja2 partials with Django's own markup, where Django's
generic code was most of a page's time (tests/test_admin.py compares each with what Django
draws). The issue changelist (templates/admin/issues/issue/change_list.html) uses the first
two; every admin page's sidebar the third (templates/admin/app_list.html).

`{% issue_result_list cl %}`: Django's generic cell code (field lookup, display, escaping, a
reverse() and a preserved-filter merge per row) was a third of the changelist's time
(25 rows: 8.0 -> 2.9 ms). Any other column set, a popup or an editable list falls back to
Django's own code.

`{% issue_list_filter cl spec %}`: Django's admin/filter.html for the ten filters took
2.1 ms a page, the Jinja2 copy ~0.5 ms. A filter with its own template keeps it.

`{% app_list %}`: the list of models in every page's sidebar and on the index, 1.8 ms a
page with Django's admin/app_list.html.
"""

import functools
from urllib.parse import quote, urlsplit

from django import template
from django.contrib.admin.templatetags.admin_list import admin_list_filter, result_headers, result_list
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils.formats import localize
from django.utils.safestring import mark_safe

register = template.Library()

ROWS_TEMPLATE = "admin/_issue_changelist_rows.html"
FILTER_TEMPLATE = "admin/_list_filter.html"
APP_LIST_TEMPLATE = "admin/_app_list.html"
# The columns the partial draws, in order (IssueAdmin.list_display with its checkbox).
COLUMNS = (
    "action_checkbox",
    "id",
    "title",
    "status_badge",
    "colour_badge",
    "deadline",
    "lead_department",
    "owner",
    "enterprise",
    "category",
    "raised_on",
)


def draws_own_rows(cl) -> bool:
    return (
        tuple(cl.list_display) == COLUMNS
        and list(cl.list_display_links) == ["title"]
        and not cl.list_editable
        and not cl.is_popup
        and not cl.to_field
    )


@register.simple_tag
def issue_result_list(cl):
    if not draws_own_rows(cl):
        return render_to_string("admin/change_list_results.html", result_list(cl))
    headers = list(result_headers(cl))
    site = cl.model_admin.admin_site.name  # as Django's url_for_result: this site's URLs
    change_url = reverse(f"admin:{cl.opts.app_label}_{cl.opts.model_name}_changelist", current_app=site)
    # Django merges the preserved filters into each row's link; they are the same for all.
    sample = add_preserved_filters(
        {"preserved_filters": cl.preserved_filters, "opts": cl.opts}, f"{change_url}0/change/"
    )
    query = urlsplit(sample).query
    rows = get_template(ROWS_TEMPLATE, using="jinja2").render(
        {
            "issues": cl.result_list,
            "admin": cl.model_admin,
            "change_url": change_url,
            "link_query": f"?{query}" if query else "",
            "date": functools.cache(localize),  # 12 µs a date; a page's dates repeat
            "empty": cl.model_admin.get_empty_value_display(),
        }
    )
    return render_to_string(
        "admin/issues/issue/result_list.html",
        {
            "result_headers": headers,
            "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
            "has_results": bool(cl.result_list),
            # Safe: the partial escaped what it printed (autoescape, asserted in tests).
            "rows": mark_safe(rows),
        },
    )


@register.simple_tag
def issue_list_filter(cl, spec):
    if spec.template != "admin/filter.html":
        return admin_list_filter(cl, spec)
    context = {"title": spec.title, "choices": list(spec.choices(cl)), "spec": spec}
    # Safe: the partial escaped what it printed (autoescape, asserted in tests).
    return mark_safe(get_template(FILTER_TEMPLATE, using="jinja2").render(context))


@register.simple_tag(takes_context=True)
def app_list(context):
    values = {
        "app_list": context.get("app_list"),
        "show_changelinks": context.get("show_changelinks"),
        # Django's `request.path|urlencode` (nothing without a request)
        "path": quote(context["request"].path, safe="/") if "request" in context else "",
    }
    # Safe: the partial escaped what it printed (autoescape, asserted in tests).
    return mark_safe(get_template(APP_LIST_TEMPLATE, using="jinja2").render(values))
