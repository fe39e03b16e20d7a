"""Evidence files (issue 13): photos and documents on issues, their steps, and visits.

Every file is judged by its content, never by its name or the browser's content type:

- photos: JPEG, PNG or WebP that Pillow decodes, at most ATTACHMENT_MAX_PIXELS pixels. They
  are re-encoded from their pixels (turned upright first), so EXIF (GPS position, phone
  model, time), XMP, comments and anything appended to the image are never stored;
- documents: PDF without scripts, launch actions or embedded files; Word .docx and Excel
  .xlsx without macros or embedded programs; OFD (the national e-document format). The
  archive formats are unpacked in memory with a budget (ATTACHMENT_MAX_UNPACKED_BYTES), so a
  zip bomb is refused after reading at most its declared size.

Anything else is refused with a message that names the file: programs, web pages and SVG
drawings (they can carry scripts), archives, old .doc/.xls files, and polyglots (a file
that is also a zip archive or a web page). Files larger than ATTACHMENT_MAX_BYTES are
refused before they are read.

`check_upload` does all that and returns a `CheckedFile`; `attach` is the one function that
stores one (through Django's storage API, under a random name) and writes its
`Attachment` row. Files are served only by `issues.file_views`, after the same access check
as the issue or visit they belong to.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
import zipfile
import zlib
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MB = 1024 * 1024


def max_bytes() -> int:
    return int(getattr(settings, "ATTACHMENT_MAX_BYTES", 10 * MB))


def max_files() -> int:
    return int(getattr(settings, "ATTACHMENT_MAX_FILES", 10))


def max_pixels() -> int:
    return int(getattr(settings, "ATTACHMENT_MAX_PIXELS", 50_000_000))


def max_unpacked_bytes() -> int:
    return int(getattr(settings, "ATTACHMENT_MAX_UNPACKED_BYTES", 100 * MB))


THUMBNAIL_SIZE = (480, 480)
MAX_ARCHIVE_ENTRIES = 2000


@dataclass(frozen=True)
class FileType:
    key: str
    extension: str
    content_type: str
    is_image: bool


TYPES = {
    t.key: t
    for t in (
        FileType("jpeg", "jpg", "image/jpeg", True),
        FileType("png", "png", "image/png", True),
        FileType("webp", "webp", "image/webp", True),
        FileType("pdf", "pdf", "application/pdf", False),
        FileType(
            "docx",
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            False,
        ),
        FileType("xlsx", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", False),
        FileType("ofd", "ofd", "application/ofd", False),
    )
}
PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
# What the file inputs offer (a hint for the picker only: the content decides).
ACCEPT = "image/jpeg,image/png,image/webp,.jpg,.jpeg,.png,.webp,.pdf,.docx,.xlsx,.ofd"

OOXML_MAIN_TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
}


@dataclass
class CheckedFile:
    """A file that passed every check: `data` is what will be stored (a photo re-encoded
    without its metadata), `name` the name it is offered under (with the extension of what
    it really is)."""

    name: str
    type: FileType
    data: bytes
    thumbnail: bytes | None
    sha256: str


class FileRefused(ValidationError):
    pass


def _refuse(message: str, name: str, code: str, **params) -> FileRefused:
    return FileRefused(message % {"name": name, **params}, code=code)


# -- names -----------------------------------------------------------------------------------

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def display_name(raw: str, file_type: FileType | None = None) -> str:
    """The file's own name without any path or control characters, at most 100 characters,
    ending in the extension of what it really is (a PNG named "x.jpg" is offered as x.png)."""
    base = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_NAME.sub("_", base).strip(" .") or "file"
    if file_type is None:
        return base[:100]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = stem.strip(" .") or "file"
    return f"{stem[:90]}.{file_type.extension}"


# -- recognising the content ---------------------------------------------------------------

EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"#!")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A zip archive is found through its end-of-central-directory record: its signature and the
# two zero disk numbers of every ordinary archive (8 bytes: no false alarm in a photo).
ZIP_END = b"PK\x05\x06\x00\x00\x00\x00"
MARKUP = re.compile(
    rb"<\s*(?:script|html|body|iframe|svg|object|embed)\b|<!doctype\s+html|<\?php|javascript:",
    re.IGNORECASE,
)


def _detect(data: bytes) -> str:
    """The kind of content: a key of TYPES, or why it is not accepted."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"):
        return "heic"
    if data.startswith(OLE_MAGIC):
        return "ole"
    if data.startswith(EXECUTABLE_MAGIC):
        return "program"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") or MARKUP.search(head):
        return "markup"
    return "unknown"


def _not_accepted(name: str) -> FileRefused:
    return _refuse(
        _(
            "“%(name)s” was refused: only photos (JPEG, PNG, WebP) and documents (PDF, Word "
            ".docx, Excel .xlsx, OFD) are accepted."
        ),
        name,
        "type",
    )


def _no_polyglot(data: bytes, name: str) -> None:
    """A photo or PDF that is also a zip archive or a web page (script) is refused."""
    if ZIP_END in data or MARKUP.search(data):
        raise _refuse(
            _("“%(name)s” was refused: it hides a second file (an archive or a web page with script)."),
            name,
            "polyglot",
        )


# -- photos --------------------------------------------------------------------------------------


def _image_trailer(data: bytes, key: str) -> bytes:
    """Bytes after the end of a PNG or WebP image (phones append video and HDR maps to JPEGs,
    so trailing JPEG data is allowed: re-encoding drops it)."""
    if key == "png":
        end = data.rfind(b"IEND")
        return data[end + 8 :] if end >= 0 else b""
    if key == "webp":
        size = int.from_bytes(data[4:8], "little") + 8
        return data[size + (size % 2) :]
    return b""


def _check_image(data: bytes, file_type: FileType, name: str) -> tuple[bytes, bytes]:
    from PIL import Image, ImageOps, UnidentifiedImageError

    _no_polyglot(data, name)
    trailer = _image_trailer(data, file_type.key)
    if trailer.strip(b"\x00"):
        raise _refuse(
            _("“%(name)s” was refused: it hides a second file (an archive or a web page with script)."),
            name,
            "polyglot",
        )
    damaged = _refuse(_("“%(name)s” is damaged: it cannot be opened as a photo."), name, "damaged")
    too_big = _refuse(
        _("“%(name)s” has too many pixels: send a photo of at most %(limit)s megapixels."),
        name,
        "pixels",
        limit=max_pixels() // 1_000_000,
    )
    formats = [PILLOW_FORMATS[file_type.key]]
    try:
        # The size is read from the header: a few hundred bytes may claim gigapixels.
        with Image.open(io.BytesIO(data), formats=formats) as probe:
            width, height = probe.size
            if width * height > max_pixels():
                raise too_big
            probe.verify()
        with Image.open(io.BytesIO(data), formats=formats) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
            return _encode(upright, file_type), _thumbnail(upright)
    except FileRefused:
        raise
    except Image.DecompressionBombError:
        raise too_big from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise damaged from None


def _without_metadata(image):
    """A copy of the pixels with no EXIF, XMP, comments or text chunks attached."""
    clean = image.copy()
    # Only what the pixels need: the colour profile and a palette's transparent colour.
    clean.info = {k: image.info[k] for k in ("icc_profile", "transparency") if k in image.info}
    if hasattr(clean, "_exif"):
        clean._exif = None
    return clean


def _encode(image, file_type: FileType) -> bytes:
    clean = _without_metadata(image)
    out = io.BytesIO()
    icc = clean.info.get("icc_profile")
    extra = {"icc_profile": icc} if icc else {}
    if file_type.key == "jpeg":
        if clean.mode not in ("RGB", "L", "CMYK"):
            clean = clean.convert("RGB")
        clean.save(out, "JPEG", quality=90, exif=b"", **extra)
    elif file_type.key == "png":
        clean.save(out, "PNG", exif=b"", **extra)
    else:
        clean.save(out, "WEBP", quality=90, exif=b"", xmp=b"", **extra)
    return out.getvalue()


def _thumbnail(image) -> bytes:
    from PIL import Image

    thumb = _without_metadata(image)
    thumb.thumbnail(THUMBNAIL_SIZE)
    if thumb.mode in ("RGBA", "LA", "P", "PA"):
        thumb = thumb.convert("RGBA")
        background = Image.new("RGB", thumb.size, "white")
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    elif thumb.mode != "RGB":
        thumb = thumb.convert("RGB")
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80)
    return out.getvalue()


# -- PDF -----------------------------------------------------------------------------------------

# Names that make a PDF do something when opened: run script, start a program, carry files.
PDF_ACTIVE_NAMES = {b"JavaScript", b"JS", b"Launch", b"EmbeddedFile", b"EmbeddedFiles", b"RichMedia", b"XFA"}
PDF_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]+)")
PDF_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
PDF_OBJECT_STREAM = re.compile(rb"/Type\s*/ObjStm\b[^>]*?>>\s*stream\r?\n", re.DOTALL)


def _active_pdf_name(text: bytes) -> bool:
    for match in PDF_NAME.finditer(text):
        name = match.group(1)
        if b"#" in name:  # /J#61vaScript is /JavaScript
            name = PDF_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), name)
        if name in PDF_ACTIVE_NAMES:
            return True
    return False


def _check_pdf(data: bytes, name: str) -> None:
    _no_polyglot(data, name)
    if b"%%EOF" not in data[-1024:]:
        raise _refuse(
            _("“%(name)s” is damaged or has data appended after its end: it was refused."), name, "damaged"
        )
    active = _active_pdf_name(data)
    if not active:
        # Object streams (PDF 1.5) are compressed: look inside them too, with a budget.
        budget = max_unpacked_bytes()
        for match in PDF_OBJECT_STREAM.finditer(data):
            inflater = zlib.decompressobj()
            try:
                text = inflater.decompress(data[match.end() : match.end() + max_bytes()], budget)
            except zlib.error:
                continue
            budget -= len(text)
            if _active_pdf_name(text):
                active = True
                break
            if budget <= 0:
                raise _refuse(
                    _("“%(name)s” unpacks to more than %(limit)s MB: it was refused."),
                    name,
                    "bomb",
                    limit=max_unpacked_bytes() // MB,
                )
    if active:
        raise _refuse(
            _(
                "“%(name)s” contains scripts, embedded files or launch actions: print it to a new "
                "PDF and attach that one."
            ),
            name,
            "active",
        )


# -- Office documents and OFD (zip archives) -----------------------------------------------------


def _check_archive(data: bytes, name: str) -> FileType:
    damaged = _refuse(_("“%(name)s” is damaged: it cannot be opened as a document."), name, "damaged")
    # Nothing may follow the archive's end record: an appended file would be a polyglot.
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 22 + int.from_bytes(data[end + 20 : end + 22], "little") != len(data):
        raise damaged
    bomb = _refuse(
        _("“%(name)s” unpacks to more than %(limit)s MB: it was refused."),
        name,
        "bomb",
        limit=max_unpacked_bytes() // MB,
    )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
        if len(entries) > MAX_ARCHIVE_ENTRIES:
            raise bomb
        if sum(e.file_size for e in entries) > max_unpacked_bytes():
            raise bomb
        names = {e.filename for e in entries}
        if any(n.startswith(("/", "\\")) or ".." in n.split("/") for n in names):
            raise damaged
        lowered = [n.lower() for n in names]
        if any(n.endswith(".bin") and "printersettings" not in n for n in lowered) or any(
            "activex" in n or n.endswith((".exe", ".dll", ".js", ".vbs", ".ps1", ".bat", ".cmd"))
            for n in lowered
        ):
            raise _refuse(
                _(
                    "“%(name)s” contains macros or embedded programs: save it as .docx or .xlsx "
                    "without macros, or as PDF."
                ),
                name,
                "macros",
            )
        if "OFD.xml" in names:
            key = "ofd"
        elif "[Content_Types].xml" in names:
            key = _ooxml_kind(archive.read("[Content_Types].xml"), name)
        else:
            raise _not_accepted(name)
        # Read every entry in full: the real size is checked, not only the declared one
        # (zipfile stops at the declared size and refuses a wrong checksum).
        unpacked = 0
        for entry in entries:
            with archive.open(entry) as stream:
                while chunk := stream.read(1024 * 1024):
                    unpacked += len(chunk)
                    if unpacked > max_unpacked_bytes():
                        raise bomb
    except FileRefused:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        ValueError,
        EOFError,
        RuntimeError,
        zlib.error,
    ):
        raise damaged from None
    return TYPES[key]


def _ooxml_kind(content_types: bytes, name: str) -> str:
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        root = ElementTree.fromstring(content_types)
    except (DefusedXmlException, ElementTree.ParseError):
        raise _refuse(
            _("“%(name)s” is damaged: it cannot be opened as a document."), name, "damaged"
        ) from None
    declared = {el.get("ContentType", "") for el in root.iter() if el.get("ContentType")}
    if any("macroEnabled" in t or "vbaProject" in t for t in declared):
        raise _refuse(
            _(
                "“%(name)s” contains macros or embedded programs: save it as .docx or .xlsx "
                "without macros, or as PDF."
            ),
            name,
            "macros",
        )
    for content_type, key in OOXML_MAIN_TYPES.items():
        if content_type in declared:
            return key
    raise _not_accepted(name)


# -- the check ---------------------------------------------------------------------------------


def _read(upload, name: str) -> bytes:
    limit = max_bytes()
    too_big = _refuse(
        _("“%(name)s” is larger than %(limit)s MB: it was refused."), name, "size", limit=limit // MB
    )
    if upload.size is not None and upload.size > limit:
        raise too_big
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise too_big
    if not data:
        raise _refuse(_("“%(name)s” is empty."), name, "empty")
    return data


def check_upload(upload) -> CheckedFile:
    """Check one uploaded file by its content; FileRefused (a ValidationError whose message
    names the file) says why it is not accepted."""
    raw_name = display_name(getattr(upload, "name", "") or "")
    data = _read(upload, raw_name)
    kind = _detect(data)
    thumbnail = None
    if kind in ("jpeg", "png", "webp"):
        file_type = TYPES[kind]
        data, thumbnail = _check_image(data, file_type, raw_name)
    elif kind == "pdf":
        file_type = TYPES["pdf"]
        _check_pdf(data, raw_name)
    elif kind == "zip":
        file_type = _check_archive(data, raw_name)
    elif kind == "heic":
        raise _refuse(
            _(
                "“%(name)s” is a HEIC photo, which browsers cannot show: set the camera to “Most "
                "compatible” (JPEG), or take the photo from this page."
            ),
            raw_name,
            "heic",
        )
    elif kind == "ole":
        raise _refuse(
            _("“%(name)s” is an old Office file (.doc, .xls, .wps): save it as .docx, .xlsx or PDF."),
            raw_name,
            "old_office",
        )
    elif kind == "program":
        raise _refuse(_("“%(name)s” is a program: programs are never accepted."), raw_name, "program")
    elif kind == "markup":
        raise _refuse(
            _("“%(name)s” is a web page or drawing (HTML, SVG, XML), which can carry script: refused."),
            raw_name,
            "markup",
        )
    else:
        raise _not_accepted(raw_name)
    return CheckedFile(
        name=display_name(raw_name, file_type),
        type=file_type,
        data=data,
        thumbnail=thumbnail,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def check_uploads(uploads) -> list[CheckedFile]:
    """Check several files; one ValidationError lists every refused one."""
    uploads = [u for u in uploads if u]
    if len(uploads) > max_files():
        raise ValidationError(_("At most %(n)s files at a time.") % {"n": max_files()}, code="too_many_files")
    checked, errors = [], []
    for upload in uploads:
        try:
            checked.append(check_upload(upload))
        except FileRefused as error:
            errors.append(error)
    if errors:
        raise ValidationError(errors)
    return checked


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class EvidenceFilesField(forms.FileField):
    """Several photos or documents in one input; cleans to a list of `CheckedFile`."""

    def __init__(self, *, camera: bool = False, **kwargs):
        attrs = {"accept": "image/*" if camera else ACCEPT, "multiple": True}
        if camera:
            attrs["capture"] = "environment"  # the phone's back camera opens at once
        kwargs.setdefault("widget", MultipleFileInput(attrs=attrs))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        files = [super(EvidenceFilesField, self).clean(f, initial) for f in files]
        if self.required and not files:
            raise ValidationError(self.error_messages["required"], code="required")
        return check_uploads(files)


class UploadForm(forms.Form):
    """The "add files" form of the issue and visit pages."""

    files = EvidenceFilesField(label=gettext_lazy("Photos or documents"), required=True)


# -- who may attach and see ---------------------------------------------------------------------


def may_attach_to_issue(user, issue) -> bool:
    """Those who work on the issue: its departments (lead and co-handling), coordinators,
    the official who raised it, and the enterprise's own account on its own issue."""
    from .permissions import Action, can, can_view

    if any(can(user, action, issue) for action in (Action.EDIT, Action.PROGRESS, Action.ADD_INFORMATION)):
        return True
    return (
        bool(issue.raised_by_id) and issue.raised_by_id == getattr(user, "pk", None) and can_view(user, issue)
    )


def may_attach_to_visit(user, visit) -> bool:
    """Who may edit the visit: the official who logged it, and coordinators."""
    from visits.services import can_edit

    return bool(user and user.is_authenticated and user.is_active) and can_edit(user, visit)


def visible_attachments(user, queryset=None):
    """The files a user may open: those of the issues the user may read (an enterprise's own
    account: its own files and those on steps shown to the enterprise), and, for staff, those
    of visits (every staff role reads visits)."""
    from visits.models import Visit

    from .models import Attachment, Issue
    from .permissions import enterprise_issues
    from .roles import Role, roles_of

    qs = Attachment.objects.all() if queryset is None else queryset
    held = roles_of(user)
    if not held:
        return qs.none()
    if held == {Role.ENTERPRISE}:
        issues = enterprise_issues(user).values("pk")
        return qs.filter(issue__in=issues).filter(Q(uploaded_by=user) | Q(event__public=True))
    issues = Issue.objects.visible_to(user).values("pk")
    return qs.filter(Q(issue__in=issues) | Q(visit__in=Visit.objects.visible_to(user).values("pk")))


# -- the one write -------------------------------------------------------------------------------


def _storage():
    from .models import Attachment

    return Attachment._meta.get_field("file").storage


def _store(checked: CheckedFile) -> tuple[str, str]:
    """Save the file (and its thumbnail) under a random name; the user's name never reaches
    the storage."""
    storage = _storage()
    stem = f"evidence/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}"
    name = storage.save(f"{stem}.{checked.type.extension}", ContentFile(checked.data))
    thumb = ""
    if checked.thumbnail:
        try:
            thumb = storage.save(f"{stem}-thumb.jpg", ContentFile(checked.thumbnail))
        except Exception:
            storage.delete(name)
            raise
    _pending().extend(n for n in (name, thumb) if n)
    return name, thumb


# The names stored inside the innermost `removed_if_failed` block (a context variable: each
# request and thread has its own).
_stored: ContextVar[list[str] | None] = ContextVar("evidence_stored", default=None)


def _pending() -> list[str]:
    stored = _stored.get()
    return stored if stored is not None else []


@contextmanager
def removed_if_failed():
    """Files stored inside the block are deleted again if the block raises (its transaction
    is then rolled back: no row points to them). Nested blocks hand their files to the outer
    one, so a failure further out still removes them."""
    outer = _stored.get()
    stored: list[str] = []
    token = _stored.set(stored)
    try:
        yield
    except BaseException:
        storage = _storage()
        for name in stored:
            storage.delete(name)
        raise
    finally:
        _stored.reset(token)
    if outer is not None:
        outer.extend(stored)


def attach(*, by, checked: CheckedFile, issue=None, event=None, visit=None):
    """Store a checked file and record it on an issue (optionally with the step it came
    with) or on a visit. The caller's permission is checked here, so no caller can forget."""
    from .models import Attachment, AttachmentKind

    if (issue is None) == (visit is None):
        raise ValueError("A file belongs to an issue or to a visit.")
    if event is not None and (issue is None or event.issue_id != issue.pk):
        raise ValueError("The step must be one of the issue's.")
    if issue is not None and not may_attach_to_issue(by, issue):
        raise PermissionDenied(_("You may not add files to issue #%(id)s.") % {"id": issue.pk})
    if visit is not None and not may_attach_to_visit(by, visit):
        raise PermissionDenied(_("Only the official who logged this visit, or a coordinator, may add files."))
    with removed_if_failed(), transaction.atomic():
        name, thumb = _store(checked)
        return Attachment.objects.create(
            issue=issue,
            event=event,
            visit=visit,
            kind=AttachmentKind.PHOTO if checked.type.is_image else AttachmentKind.DOCUMENT,
            name=checked.name,
            content_type=checked.type.content_type,
            size=len(checked.data),
            sha256=checked.sha256,
            file=name,
            thumbnail=thumb,
            uploaded_by=by,
        )


STEP_ACTIONS = frozenset(
    {"start", "progress", "resolve", "co_report", "add_information", "close_unconfirmed"}
)


@contextmanager
def with_step(request, *, issue, action: str):
    """Files posted with a workflow step (a progress note, a resolution): checked before the
    step, stored with it in one transaction, linked to the event the step wrote.

    The issue page's POST view wraps the step in it:

        with attachments.with_step(request, issue=issue, action=action):
            form.perform()
    """
    from .models import IssueEvent

    uploads = request.FILES.getlist("files") if request.method == "POST" else []
    if not uploads:
        yield
        return
    if action not in STEP_ACTIONS:
        raise ValidationError({"files": _("Files cannot be added with this step.")})
    checked = check_uploads(uploads)
    last = IssueEvent.objects.filter(issue=issue).order_by("-id").values_list("id", flat=True).first() or 0
    with removed_if_failed(), transaction.atomic():
        yield
        event = IssueEvent.objects.filter(issue=issue, id__gt=last, actor=request.user).order_by("id").first()
        for file in checked:
            attach(by=request.user, checked=file, issue=issue, event=event)
