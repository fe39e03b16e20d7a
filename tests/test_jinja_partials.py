"""The Jinja2 partials (config/jinja_env.py): escaped like Django templates, strict about names,
translated with Django's catalogue."""

import pytest
from django.template import engines
from django.utils import timezone, translation
from jinja2 import UndefinedError

from .factories import IssueFactory


def render(source: str, **context) -> str:
    return engines["jinja2"].from_string(source).render(context)


def test_output_is_escaped():
    assert render("<b>{{ x }}</b>", x='<script>"') == "<b>&lt;script&gt;&#34;</b>"


def test_a_misspelt_name_is_an_error_not_an_empty_string():
    with pytest.raises(UndefinedError):
        render("{{ isue.title }}")


def test_text_is_translated_with_the_django_catalogue():
    with translation.override("zh-hans"):
        assert render('{{ _("Deadline") }}') == "办结时限"
    with translation.override("en"):
        assert render('{{ _("Deadline") }}') == "Deadline"


@pytest.mark.django_db
def test_the_rows_tag_puts_a_partial_in_a_django_page_escaped_once():
    issue = IssueFactory(title="水 & 电")
    page = engines["django"].from_string(
        '{% load rows %}<table>{% rows "issues/_issue_rows.html" issues=issues today=today %}</table>'
    )
    html = page.render({"issues": [issue], "today": timezone.localdate()})
    assert f'<a href="/issues/{issue.pk}/">水 &amp; 电</a>' in html
