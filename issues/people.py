"""How a person is shown, everywhere: by name (姓名), not by login.

Colleagues know each other by name; the login (`demo_samr`) is for signing in. Every page,
admin column, export, notification and picker shows people through these two functions
(templates through the `person` filter of `{% load people %}`), and the admin searches by
name and by login alike (`SEARCH_FIELDS`).
"""

from django.contrib.auth import get_user_model


def person_name(user) -> str:
    """The person's full name; the login only for an account that has no name yet."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def person_with_departments(user, departments=None) -> str:
    """The name and the person's departments (`叶敏（市商务局）`), for pickers and lists that
    mix departments. `departments` may be given when the caller has them already."""
    name = person_name(user)
    if departments is None:
        departments = user.departments.all() if user is not None else []
    labels = "、".join(d.short_name or d.name for d in departments)
    return f"{name}（{labels}）" if labels else name


def search_fields(prefix: str) -> list[str]:
    """Admin `search_fields` that find a person related through `prefix` by name or login."""
    lookup = f"{prefix}__" if prefix else ""
    return [f"{lookup}first_name", f"{lookup}last_name", f"{lookup}{get_user_model().USERNAME_FIELD}"]
