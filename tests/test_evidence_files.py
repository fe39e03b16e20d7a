"""Evidence files (issue 13): checked by content, metadata stripped, stored through the storage
API, served only after the same access check as their issue or visit; hostile files refused.

Real files (tests/evidence_samples.py), real rows, a real storage directory per test."""

import io
import time
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from issues import attachments, workflow
from issues.attachments import FileRefused, check_upload
from issues.models import Attachment, EventKind, Status
from visits.models import Visit

from . import evidence_samples as S
from .factories import EnterpriseFactory, IssueFactory, OfficialFactory, UserFactory, VisitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Each test stores its files in its own directory (the storage API's default backend)."""
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def stored_files(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# -- the check -------------------------------------------------------------------------------------


def test_photo_loses_gps_and_metadata_and_is_turned_upright():
    original = S.jpeg_with_gps(size=(64, 48), orientation=6)
    assert b"GPS" in original or S.PHONE_MODEL.encode() in original  # the sample carries them
    checked = check_upload(S.upload("IMG_2024.JPG", original, "image/jpeg"))
    assert checked.type.key == "jpeg" and checked.name == "IMG_2024.jpg"
    assert S.PHONE_MODEL.encode() not in checked.data and b"Exif" not in checked.data
    with Image.open(io.BytesIO(checked.data)) as kept:
        exif = kept.getexif()
        assert not exif.get_ifd(S.GPS_IFD) and S.EXIF_MODEL not in exif and S.EXIF_ORIENTATION not in exif
        assert kept.size == (48, 64)  # orientation 6 applied to the pixels before dropping it
        assert "exif" not in kept.info and "xmp" not in kept.info
    with Image.open(io.BytesIO(checked.thumbnail)) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) <= 480
        assert not thumb.getexif()


def test_png_text_chunks_are_dropped_and_transparency_kept():
    checked = check_upload(S.upload("chart.png", S.png(text={"Comment": "39.1N 117.2E secret"})))
    assert b"secret" not in checked.data and b"tEXt" not in checked.data
    with Image.open(io.BytesIO(checked.data)) as kept:
        assert kept.mode == "RGBA" and kept.getpixel((0, 0))[3] == 200


@pytest.mark.parametrize(
    "name, data, key",
    [
        ("批复.pdf", S.pdf(), "pdf"),
        ("回复函.docx", S.docx(), "docx"),
        ("台账.xlsx", S.xlsx(), "xlsx"),
        ("批复.ofd", S.ofd(), "ofd"),
        ("photo.webp", S.webp(), "webp"),
        # The name does not decide: a PDF named .jpg is a PDF, offered as .pdf.
        ("scan.jpg", S.pdf(), "pdf"),
    ],
)
def test_documents_are_recognised_by_content(name, data, key):
    checked = check_upload(S.upload(name, data))
    assert checked.type.key == key
    assert checked.name.endswith("." + checked.type.extension)
    if not checked.type.is_image:
        assert checked.data == data and checked.thumbnail is None


def test_names_lose_paths_and_control_characters():
    checked = check_upload(S.upload("..\\..\\etc/pass\r\nwd<x>.pdf", S.pdf()))
    assert "/" not in checked.name and "\\" not in checked.name and "\r" not in checked.name
    assert checked.name.endswith(".pdf") and "<" not in checked.name


@pytest.mark.parametrize("label", list(S.HOSTILE))
def test_hostile_files_are_refused_with_a_message(label):
    """SECURITY.md 25 for evidence files: each refused with a message naming the file, fast."""
    name, data, code = S.hostile_file(label)
    started = time.monotonic()
    with pytest.raises(FileRefused) as refused:
        check_upload(S.upload(name, data))
    assert time.monotonic() - started < 10
    assert refused.value.code == code, refused.value.messages
    shown = name.replace("\\", "/").rsplit("/", 1)[-1]
    assert shown in refused.value.messages[0]


def test_pixel_limit_follows_the_setting(settings):
    settings.ATTACHMENT_MAX_PIXELS = 1000
    with pytest.raises(FileRefused) as refused:
        check_upload(S.upload("p.jpg", S.jpeg_with_gps(size=(64, 48))))
    assert refused.value.code == "pixels"


def test_size_limit_follows_the_setting(settings):
    settings.ATTACHMENT_MAX_BYTES = 200
    with pytest.raises(FileRefused) as refused:
        check_upload(S.upload("letter.pdf", S.pdf()))
    assert refused.value.code == "size"


def test_too_many_files_at_once(settings):
    settings.ATTACHMENT_MAX_FILES = 2
    with pytest.raises(Exception) as refused:
        attachments.check_uploads([S.upload(f"{i}.pdf", S.pdf()) for i in range(3)])
    assert "At most 2 files" in str(refused.value) or "2" in str(refused.value)


# -- adding files to an issue, and opening them: both sides of each boundary -------------------------


def test_department_adds_a_file_and_only_those_who_see_the_issue_open_it(
    client, issue_a, staff_a, staff_b, leader, official, coordinator, media
):
    client.force_login(staff_a)
    response = client.post(
        reverse("issues:add-files", args=[issue_a.pk]),
        {"files": [S.upload("批复.pdf", S.pdf()), S.upload("现场.jpg", S.jpeg_with_gps())]},
    )
    assert response.status_code == 302 and response["Location"].endswith("#files")
    pdf_file, photo = Attachment.objects.filter(issue=issue_a).order_by("id")
    assert pdf_file.uploaded_by == staff_a and pdf_file.event is None
    assert len(stored_files(media)) == 3  # the PDF, the photo and its thumbnail
    assert not any("批复" in p.name or "现场" in p.name for p in stored_files(media))  # random names

    page = client.get(issue_a.get_absolute_url()).content.decode()
    assert "批复.pdf" in page and reverse("issues:file", args=[photo.pk]) in page

    # The allowed side: staff of A, the coordinator, the leader, the official who raised it.
    for user in (staff_a, coordinator, leader, official):
        client.force_login(user)
        response = client.get(reverse("issues:file", args=[pdf_file.pk]))
        assert response.status_code == 200, user
        assert body(response) == S.pdf()
    # The other side: department B's staff gets 404 for the file and its thumbnail.
    client.force_login(staff_b)
    assert client.get(reverse("issues:file", args=[pdf_file.pk])).status_code == 404
    assert client.get(reverse("issues:file", args=[photo.pk])).status_code == 404
    assert client.get(reverse("issues:file-thumbnail", args=[photo.pk])).status_code == 404
    client.logout()
    response = client.get(reverse("issues:file", args=[pdf_file.pk]))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_download_headers(client, issue_a, staff_a):
    document = attachments.attach(
        by=staff_a, checked=check_upload(S.upload("批复.pdf", S.pdf())), issue=issue_a
    )
    photo = attachments.attach(
        by=staff_a, checked=check_upload(S.upload("现场.jpg", S.jpeg_with_gps())), issue=issue_a
    )
    client.force_login(staff_a)
    response = client.get(reverse("issues:file", args=[document.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E6%89%B9%E5%A4%8D.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert (
        "sandbox" in response["Content-Security-Policy"]
        and "default-src 'none'" in response["Content-Security-Policy"]
    )
    assert "no-store" in response["Cache-Control"]
    response = client.get(reverse("issues:file", args=[photo.pk]))
    assert response["Content-Type"] == "image/jpeg" and response["Content-Disposition"].startswith("inline;")
    thumb = client.get(reverse("issues:file-thumbnail", args=[photo.pk]))
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert client.get(reverse("issues:file-thumbnail", args=[document.pk])).status_code == 404
    # No public media URL reaches the stored file.
    for path in (f"/{document.file.name}", f"/media/{document.file.name}"):
        response = client.get(path)
        assert response.status_code == 404 and S.pdf() not in body(response)


def test_who_may_add_files_to_an_issue(client, issue_a, staff_b, leader, official, coordinator):
    url = reverse("issues:add-files", args=[issue_a.pk])
    files = lambda: {"files": S.upload("批复.pdf", S.pdf())}  # noqa: E731
    client.force_login(staff_b)
    assert client.post(url, files()).status_code == 404  # cannot see it
    client.force_login(leader)
    assert client.post(url, files()).status_code == 403  # reads, never writes
    assert not Attachment.objects.exists()
    for user in (official, coordinator):  # raised it; triages it
        client.force_login(user)
        assert client.post(url, files()).status_code == 302
    assert Attachment.objects.filter(issue=issue_a).count() == 2
    client.force_login(leader)
    page = client.get(issue_a.get_absolute_url()).content.decode()
    assert 'name="files"' not in page and "批复.pdf" in page  # sees the files, no form


def test_a_hostile_upload_stores_nothing_and_says_why(client, issue_a, staff_a, media):
    client.force_login(staff_a)
    response = client.post(
        reverse("issues:add-files", args=[issue_a.pk]),
        {"files": [S.upload("ok.pdf", S.pdf()), S.upload("chart.png", S.SVG_WITH_SCRIPT, "image/png")]},
        follow=True,
    )
    text = response.content.decode()
    assert "chart.png" in text and "script" in text
    assert not Attachment.objects.exists() and stored_files(media) == []  # all or nothing


def test_a_file_stored_in_a_failed_block_is_removed(issue_a, staff_a, media):
    checked = check_upload(S.upload("批复.pdf", S.pdf()))
    with pytest.raises(RuntimeError), attachments.removed_if_failed():
        attachments.attach(by=staff_a, checked=checked, issue=issue_a)
        assert len(stored_files(media)) == 1
        raise RuntimeError("a later step failed")
    assert stored_files(media) == []


def test_attach_checks_the_permission_itself(issue_a, staff_b, leader, media):
    checked = check_upload(S.upload("批复.pdf", S.pdf()))
    for user in (staff_b, leader):
        with pytest.raises(Exception) as refused:
            attachments.attach(by=user, checked=checked, issue=issue_a)
        assert type(refused.value).__name__ == "PermissionDenied"
    assert stored_files(media) == [] and not Attachment.objects.exists()


# -- files with a workflow step (progress, resolution) -----------------------------------------


def test_progress_note_with_a_photo_links_it_to_its_event(client, issue_a, staff_a):
    client.force_login(staff_a)
    response = client.post(
        reverse("issues:action", args=[issue_a.pk, "progress"]),
        {
            "version": issue_a.version,
            "note": "已完成现场勘查",
            "files": S.upload("勘查.jpg", S.jpeg_with_gps()),
        },
    )
    assert response.status_code == 302
    photo = Attachment.objects.get(issue=issue_a)
    assert photo.event.kind == EventKind.STARTED and photo.event.note == "已完成现场勘查"
    assert photo.is_image and photo.thumbnail


def test_resolution_with_a_hostile_file_is_not_recorded(client, issue_a, staff_a, media):
    client.force_login(staff_a)
    response = client.post(
        reverse("issues:action", args=[issue_a.pk, "resolve"]),
        {
            "version": issue_a.version,
            "resolution": "已办结",
            "public": "on",
            "files": S.upload("x.pdf", S.PE_PROGRAM),
        },
    )
    assert response.status_code == 400 and "x.pdf" in response.content.decode()
    issue_a.refresh_from_db()
    assert issue_a.status == Status.ASSIGNED and not Attachment.objects.exists() and stored_files(media) == []


def test_resolution_with_a_reply_letter(client, issue_a, staff_a):
    client.force_login(staff_a)
    client.post(
        reverse("issues:action", args=[issue_a.pk, "resolve"]),
        {
            "version": issue_a.version,
            "resolution": "已办结",
            "public": "on",
            "files": S.upload("复函.docx", S.docx()),
        },
    )
    letter = Attachment.objects.get(issue=issue_a)
    assert letter.event.kind == EventKind.RESOLVED and letter.name == "复函.docx"


# -- the visit form: photos from the phone's camera -----------------------------------------------


def visit_post(target, officials, **extra) -> dict:
    return {
        "enterprise": f"{target.name} {target.credit_code}",
        "visited_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "lead_officials": [o.pk for o in officials],
        "summary": "企业生产经营总体平稳",
        "submission_token": str(uuid.uuid4()),
        "issues-TOTAL_FORMS": "0",
        "issues-INITIAL_FORMS": "0",
        "issues-MIN_NUM_FORMS": "0",
        "issues-MAX_NUM_FORMS": "1000",
        **extra,
    }


def test_visit_form_offers_the_camera(client, official):
    client.force_login(official)
    page = client.get(reverse("visits:create")).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'accept="image/*"' in page and 'capture="environment"' in page


def test_logging_a_visit_with_camera_photos_and_a_document(client, official, media):
    client.force_login(official)
    target, mayor = EnterpriseFactory(), OfficialFactory()
    data = visit_post(
        target,
        [mayor],
        photos=[S.upload("image.jpg", S.jpeg_with_gps()), S.upload("image.jpg", S.jpeg_with_gps())],
        documents=S.upload("座谈纪要.pdf", S.pdf()),
    )
    response = client.post(reverse("visits:create"), data)
    assert response.status_code == 302
    visit = Visit.objects.get(enterprise=target)
    files = list(visit.attachments.order_by("id"))
    assert [f.kind for f in files] == ["photo", "photo", "document"]
    for photo in files[:2]:
        with photo.file.open("rb") as handle:
            kept = handle.read()
        assert S.PHONE_MODEL.encode() not in kept and b"Exif" not in kept
    page = client.get(visit.get_absolute_url()).content.decode()
    assert "座谈纪要.pdf" in page and reverse("issues:file-thumbnail", args=[files[0].pk]) in page


def test_a_visit_with_a_hostile_photo_is_not_saved(client, official, media):
    client.force_login(official)
    target = EnterpriseFactory()
    response = client.post(
        reverse("visits:create"),
        visit_post(target, [OfficialFactory()], photos=S.upload("photo.jpg", S.HTML_PAGE, "image/jpeg")),
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "photo.jpg" in text and not Visit.objects.filter(enterprise=target).exists()
    assert stored_files(media) == []


def test_visit_files_follow_the_visit_rule(client, official, coordinator, staff_b, leader, media):
    visit = VisitFactory(created_by=official)
    other_official = UserFactory(username="official_other", role="official")
    url = reverse("visits:add-files", args=[visit.pk])
    client.force_login(other_official)
    assert client.post(url, {"files": S.upload("a.pdf", S.pdf())}).status_code == 403
    client.force_login(leader)
    assert client.post(url, {"files": S.upload("a.pdf", S.pdf())}).status_code == 403
    assert not Attachment.objects.exists()
    client.force_login(official)
    assert client.post(url, {"files": S.upload("a.pdf", S.pdf())}).status_code == 302
    document = Attachment.objects.get(visit=visit)
    # Visits are read by every staff role: so are their files. A user with no role: no.
    for user in (official, coordinator, staff_b, leader, other_official):
        client.force_login(user)
        assert client.get(reverse("issues:file", args=[document.pk])).status_code == 200
    nobody = UserFactory(username="no_role")
    client.force_login(nobody)
    response = client.get(reverse("issues:file", args=[document.pk]))
    assert response.status_code in (302, 403, 404) and S.pdf() not in body(response)


def test_enterprise_account_sees_only_its_own_and_shown_files(issue_a, staff_a, coordinator):
    from django.contrib.auth.models import Group

    from enterprises.models import EnterpriseAccount

    contact = UserFactory(username="enterprise_contact")
    contact.groups.add(Group.objects.get(name="enterprise"))
    EnterpriseAccount.objects.create(user=contact, enterprise=issue_a.enterprise)
    internal = attachments.attach(
        by=staff_a, checked=check_upload(S.upload("内部.pdf", S.pdf())), issue=issue_a
    )
    issue = workflow.post_progress(issue_id=issue_a.pk, by=staff_a, note="进展", public=True)
    shown_event = issue.events.order_by("-id").first()
    shown = attachments.attach(
        by=staff_a, checked=check_upload(S.upload("公开.pdf", S.pdf())), issue=issue_a, event=shown_event
    )
    visible = set(attachments.visible_attachments(contact).values_list("pk", flat=True))
    assert shown.pk in visible and internal.pk not in visible
    other = IssueFactory()  # another enterprise's issue
    workflow.assign(
        issue_id=other.pk,
        by=coordinator,
        department=staff_a.departments.first(),
        deadline=timezone.localdate() + timedelta(days=5),
    )
    foreign = attachments.attach(
        by=coordinator, checked=check_upload(S.upload("他企.pdf", S.pdf())), issue=other
    )
    assert foreign.pk not in set(attachments.visible_attachments(contact).values_list("pk", flat=True))


def test_database_refuses_a_file_with_two_owners(issue_a, staff_a):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Attachment.objects.create(
            issue=issue_a,
            visit=issue_a.visit,
            kind="document",
            name="x.pdf",
            content_type="application/pdf",
            size=1,
            sha256="0" * 64,
            file="evidence/x.pdf",
            uploaded_by=staff_a,
        )
