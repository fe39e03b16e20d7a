"""Template tags of issue 13 for pages owned elsewhere: an issue's files section, and any
tracked object's change trail (coordinators and administrators only).

    {% load evidence %}
    {% issue_files issue %}          the files of an issue, and the form to add some
    {% change_history enterprise %}  who changed what (old → new); nothing for other roles
"""

from django import template

from issues import attachments, trail
from issues.models import Attachment

register = template.Library()


def _upload_context(context, action: str, input_id: str) -> dict:
    return {
        "action": action,
        "input_id": input_id,
        "accept": attachments.ACCEPT,
        "max_mb": attachments.max_bytes() // attachments.MB,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("issues/_partials/issue_files.html", takes_context=True)
def issue_files(context, issue):
    """The files of an issue that the page's user may read (the page checked the issue)."""
    from django.urls import reverse

    user = context["request"].user
    files = Attachment.objects.filter(issue=issue).select_related("uploaded_by", "event")
    may_attach = attachments.may_attach_to_issue(user, issue)
    return {
        "issue": issue,
        "files": files,
        "may_attach": may_attach,
        **_upload_context(context, reverse("issues:add-files", args=[issue.pk]), f"issue-{issue.pk}-files"),
    }


@register.inclusion_tag("issues/_partials/change_history.html", takes_context=True)
def change_history(context, obj, limit: int = 30):
    user = context["request"].user
    return {"entries": trail.entries(obj, limit=limit) if trail.may_see(user) else None}
