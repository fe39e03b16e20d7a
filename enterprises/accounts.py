"""Enterprise accounts (issue 16): a coordinator makes one from an enterprise's contact; the
contact sets a password through an invitation link, then follows its enterprise's issues
on its own pages (`enterprises.portal`).

The invitation is Django's password-reset token (single use: it changes with the password;
valid PASSWORD_RESET_TIMEOUT), the password goes through the same validators as every
account's, and logging in through the same lockout.
"""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse, reverse_lazy
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from issues.roles import Role, is_coordinator

from .models import Contact, EnterpriseAccount


def invitation_path(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("invitation", args=[uid, default_token_generator.make_token(user)])


@transaction.atomic
def invite(contact: Contact, by) -> tuple[EnterpriseAccount, bool]:
    """The contact's account (made if missing, with no usable password) and whether it was
    made now. Its invitation link is `invitation_path(account.user)`."""
    existing = EnterpriseAccount.objects.filter(contact=contact).select_related("user").first()
    if existing is not None:
        return existing, False
    User = get_user_model()
    username = f"e{contact.enterprise_id}-{contact.pk}"
    user = User(username=username, first_name=contact.name[:150], email=contact.email)
    user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get(name=Role.ENTERPRISE))
    account = EnterpriseAccount.objects.create(
        user=user, enterprise=contact.enterprise, contact=contact, created_by=by
    )
    return account, True


@admin.action(
    description=gettext_lazy("Create an enterprise account and invitation link"), permissions=["change"]
)
def invite_contacts(model_admin, request, queryset):
    if not is_coordinator(request.user):
        model_admin.message_user(request, _("Only coordinators create enterprise accounts."), messages.ERROR)
        return
    for contact in queryset.select_related("enterprise"):
        account, made = invite(contact, request.user)
        url = request.build_absolute_uri(invitation_path(account.user))
        if contact.email:
            send_mail(
                _("Your account for following your enterprise's issues"),
                _("Set your password here (the link works once): %(url)s\nYour login name: %(username)s")
                % {"url": url, "username": account.user.get_username()},
                None,
                [contact.email],
                fail_silently=True,
            )
        model_admin.message_user(
            request,
            _("%(contact)s (%(enterprise)s): login %(username)s, invitation link %(url)s")
            % {"contact": contact.name, "enterprise": contact.enterprise.name,
               "username": account.user.get_username(), "url": url},
            messages.SUCCESS if made else messages.INFO,
        )  # fmt: skip


class InvitationView(auth_views.PasswordResetConfirmView):
    """Set the password of an enterprise account from its invitation link."""

    template_name = "registration/invitation.html"
    success_url = reverse_lazy("invitation-done")


class InvitationDoneView(auth_views.PasswordResetCompleteView):
    template_name = "registration/invitation_done.html"
