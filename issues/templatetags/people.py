"""`{{ user|person }}`: a person by name, as `issues.people.person_name` shows them."""

from django import template

from issues.people import person_name

register = template.Library()


@register.filter
def person(user) -> str:
    return person_name(user)
