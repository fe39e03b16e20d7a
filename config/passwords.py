"""Password rules beyond Django's four validators, and the password-change form.

Django's validators (length, similarity to the username, common passwords, all digits) let
`aaaaaaaaaaaa` and the username typed twice through: the similarity check compares the
whole password with the username, and a doubled username is only about 67 % similar.
"""

import re

from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from config.forms import BootstrapFormMixin

NAME_ATTRIBUTES = ("username", "first_name", "last_name", "email")
SEPARATORS = re.compile(r"[\W_]+")


class MinimumDistinctCharactersValidator:
    """At least `min_distinct` different characters (upper and lower case count as one)."""

    def __init__(self, min_distinct: int = 6):
        self.min_distinct = min_distinct

    def validate(self, password: str, user=None) -> None:
        if len(set(password.casefold())) < self.min_distinct:
            raise ValidationError(
                ngettext(
                    "This password has too few different characters. "
                    "It must contain at least %(min_distinct)d different character.",
                    "This password has too few different characters. "
                    "It must contain at least %(min_distinct)d different characters.",
                    self.min_distinct,
                ),
                code="password_too_few_distinct_characters",
                params={"min_distinct": self.min_distinct},
            )

    def get_help_text(self) -> str:
        return ngettext(
            "Your password must contain at least %(min_distinct)d different character.",
            "Your password must contain at least %(min_distinct)d different characters.",
            self.min_distinct,
        ) % {"min_distinct": self.min_distinct}


class RepeatedTextValidator:
    """No text typed over and over: one piece repeated ("qwerty-qwerty", case and separators
    ignored), or the user's username or name (3 characters or more) appearing twice."""

    def validate(self, password: str, user=None) -> None:
        text = SEPARATORS.sub("", password.casefold())
        if user is not None:
            for attribute in NAME_ATTRIBUTES:
                value = str(getattr(user, attribute, "") or "")
                if attribute == "email":
                    value = value.partition("@")[0]
                value = SEPARATORS.sub("", value.casefold())
                if len(value) >= 3 and text.count(value) >= 2:
                    raise ValidationError(
                        _("This password contains your username or name more than once."),
                        code="password_repeats_username",
                    )
        # A string is a repetition of a shorter piece exactly when it occurs in itself
        # doubled, other than at the start and the end.
        if len(text) >= 2 and text in (text + text)[1:-1]:
            raise ValidationError(
                _("This password repeats the same piece of text."), code="password_repeated_text"
            )

    def get_help_text(self) -> str:
        return _("Your password can’t be a piece of text repeated, or contain your username twice.")


class PasswordChangeForm(BootstrapFormMixin, auth_forms.PasswordChangeForm):
    """Django's form (old password, new password twice) with the site's Bootstrap classes.

    The old password is checked by signing in with it (`authenticate`), so wrong guesses
    count towards the login lockout (django-axes, per user name and address) like wrong
    passwords at the login page: a browser left signed in cannot be used to guess the
    password without limit. `request` is needed for that (`PasswordChangeView`)."""

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        if authenticate(self.request, username=self.user.get_username(), password=old_password) is None:
            raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm
    template_name = "registration/change_password.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}
