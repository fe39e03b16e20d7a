"""Evidence files over HTTP: opening one (after the same access check as its issue or visit)
and adding files to an issue. A file is never reachable by a public media URL.

Photos are shown inline (the pages show their thumbnails); everything else is sent as an
attachment. Every answer is `nosniff`, private and uncacheable, and carries a sandboxing
Content-Security-Policy, so even a file opened directly cannot run anything in the app's
origin.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from . import attachments
from .models import Attachment, Issue

FILE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def serve(request, attachment: Attachment, *, thumbnail: bool = False) -> FileResponse:
    """The file (or its thumbnail) as a response; the caller has checked access."""
    stored = attachment.thumbnail if thumbnail else attachment.file
    if not stored:
        raise Http404
    try:
        handle = stored.storage.open(stored.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    inline = attachment.is_image
    name = attachment.name if not thumbnail else f"{attachment.name.rsplit('.', 1)[0]}-thumb.jpg"
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=name,
        content_type="image/jpeg" if thumbnail else attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_POLICY
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    response.evidence_file = True  # not an export (issues.access_log)
    return response


def _visible(request, pk: int) -> Attachment:
    return get_object_or_404(attachments.visible_attachments(request.user), pk=pk)


@require_GET
def file_download(request, pk: int):
    return serve(request, _visible(request, pk))


@require_GET
def file_thumbnail(request, pk: int):
    return serve(request, _visible(request, pk), thumbnail=True)


def upload_files(request, owner, **attach_to):
    """Store the posted files on `owner` (an issue or a visit; `attach_to` names it for
    `attachments.attach`), all or none, say what happened, and go back to its files section."""
    form = attachments.UploadForm(request.POST, request.FILES)
    if form.is_valid():
        files = form.cleaned_data["files"]
        with attachments.removed_if_failed(), transaction.atomic():  # all the files or none
            for checked in files:
                attachments.attach(by=request.user, checked=checked, **attach_to)
        count = len(files)
        messages.success(
            request,
            ngettext("%(count)s file was added.", "%(count)s files were added.", count) % {"count": count},
        )
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect(f"{owner.get_absolute_url()}#files")


@require_POST
def add_issue_files(request, pk: int):
    """Add photos or documents to an issue (its files section)."""
    issue = get_object_or_404(Issue.objects.visible_to(request.user), pk=pk)
    if not attachments.may_attach_to_issue(request.user, issue):
        raise PermissionDenied(_("You may not add files to issue #%(id)s.") % {"id": issue.pk})
    return upload_files(request, issue, issue=issue)
