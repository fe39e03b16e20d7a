"""Real files for the evidence tests, built in memory: photos with GPS metadata, a PDF, Word and
Excel documents, an OFD, and the hostile ones (polyglots, renamed programs, scripts, bombs)."""

import functools
import io
import struct
import zipfile
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile

GPS_IFD = 0x8825
EXIF_MODEL = 0x0110
EXIF_ORIENTATION = 0x0112
PHONE_MODEL = "SecretPhone X1"


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def jpeg_with_gps(size=(64, 48), orientation: int = 6, comment: bytes = b"") -> bytes:
    """A phone photo: GPS position (天津), the phone model, and rotated 90° by its EXIF
    orientation (6: the camera was held upright)."""
    from PIL import Image

    image = Image.new("RGB", size, (200, 30, 30))
    for x in range(size[0] // 2):  # a left half that is not red: shows the rotation
        for y in range(size[1]):
            image.putpixel((x, y), (20, 20, 220))
    exif = Image.Exif()
    exif[EXIF_MODEL] = PHONE_MODEL
    exif[EXIF_ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (39.0, 7.0, 30.5), 3: "E", 4: (117.0, 12.0, 3.25)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    data = out.getvalue()
    if comment:  # a COM segment right after SOI
        data = data[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + data[2:]
    return data


def phone_photo(size=(4000, 3000)) -> bytes:
    """A 12-megapixel photo with noise (about 3 MB, like a phone's) and GPS metadata."""
    from PIL import Image

    noise = Image.effect_noise(size, 12)
    gradient = Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", (noise, noise.rotate(180), gradient))
    exif = Image.Exif()
    exif[EXIF_MODEL] = PHONE_MODEL
    exif[GPS_IFD] = {1: "N", 2: (39.0, 7.0, 30.5), 3: "E", 4: (117.0, 12.0, 3.25)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=85)
    return out.getvalue()


def png(size=(40, 30), text: dict | None = None) -> bytes:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in (text or {"Comment": "taken at 39.1N 117.2E"}).items():
        info.add_text(key, value)
    out = io.BytesIO()
    Image.new("RGBA", size, (10, 120, 10, 200)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def webp(size=(30, 20)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, "yellow").save(out, "WEBP")
    return out.getvalue()


def pdf(extra_catalog: str = "", body: str = "", trailer_junk: bytes = b"") -> bytes:
    """A one-page PDF with a correct cross-reference table."""
    objects = [
        f"<< /Type /Catalog /Pages 2 0 R {extra_catalog}>>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    if body:
        out.write(body.encode())
    offsets = []
    for number, text in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{text}\nendobj\n".encode())
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue() + trailer_junk


def pdf_with_hidden_script() -> bytes:
    """/JavaScript inside a compressed object stream (PDF 1.5), invisible to a plain scan."""
    hidden = zlib.compress(b"4 0 << /S /JavaScript /JS (app.alert\\(1\\)) >>")
    stream = (
        f"4 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length {len(hidden)} >>\nstream\n"
    ).encode()
    data = pdf()
    head, tail = data.split(b"1 0 obj", 1)
    return head + stream + hidden + b"\nendstream\nendobj\n1 0 obj" + tail


CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="{main}"/>'
    "</Types>"
)
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="word/document.xml"/></Relationships>'
)
DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>关于同意某企业扩建项目的批复</w:t></w:r></w:p></w:body></w:document>"
)


def docx(main: str = DOCX_MAIN, extra: dict | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES.format(main=main))
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("word/document.xml", DOCUMENT)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def docx_bomb(unpacked_mb: int = 1024, declare: bool = True) -> bytes:
    """A .docx whose one more entry unpacks to `unpacked_mb` MB of zeros (about 1 MB packed
    per GB). With declare=False its header claims 1 KB: zipfile reads no further than that."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES.format(main=DOCX_MAIN))
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("word/document.xml", DOCUMENT)
        info = zipfile.ZipInfo("word/media/image1.png")
        info.compress_type = zipfile.ZIP_DEFLATED
        chunk = bytes(1024 * 1024)
        with archive.open(info, "w") as entry:
            for _ in range(unpacked_mb):
                entry.write(chunk)
    data = out.getvalue()
    if not declare:
        data = _declare_small(data, b"word/media/image1.png")
    return data


def _declare_small(data: bytes, name: bytes) -> bytes:
    """Rewrite the central directory's size of `name` to 1024 bytes (a lying archive)."""
    at = data.rfind(b"PK\x01\x02", 0, data.rfind(name))
    patched = bytearray(data)
    # Central directory header: uncompressed size at offset 24 (0xFFFFFFFF means zip64:
    # then the real value is in the extra field; write a plain one instead).
    patched[at + 24 : at + 28] = struct.pack("<I", 1024)
    name_len, extra_len = struct.unpack("<HH", patched[at + 28 : at + 32])
    extra_at = at + 46 + name_len
    extra = bytes(patched[extra_at : extra_at + extra_len])
    if extra[:2] == b"\x01\x00":  # zip64 extra: neutralise it
        patched[extra_at : extra_at + extra_len] = b"\x00" * extra_len
    return bytes(patched)


def xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["企业", "诉求"])
    book.active.append(["天津测试企业", "用地审批"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ofd() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "OFD.xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0"/>',
        )
        archive.writestr("Doc_0/Document.xml", '<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"/>')
    return out.getvalue()


def zip_archive(files: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG claiming width × height pixels (1-bit grey): a few hundred bytes that would
    decode to gigabytes."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width // 8 + 1) * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


PE_PROGRAM = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"PE\x00\x00"
    + b"\x00" * 400
)
ELF_PROGRAM = b"\x7fELF\x02\x01\x01" + b"\x00" * 500
SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>fetch('/issues/export/?format=csv').then(r=>r.text()).then(alert)</script></svg>"
)
HTML_PAGE = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
OLE_DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200


# label -> (file name, how to build its bytes, the refusal code expected). Built on demand:
# the 1 GB zip bomb takes a few seconds to pack.
HOSTILE = {
    "empty file": ("空.jpg", lambda: b"", "empty"),
    "oversize photo (11 MB)": ("big.jpg", lambda: jpeg_with_gps() + b"\x00" * (11 * 1024 * 1024), "size"),
    "JPEG+ZIP polyglot": (
        "photo.jpg",
        lambda: jpeg_with_gps() + zip_archive({"evil.js": "alert(1)"}),
        "polyglot",
    ),
    "JPEG with <script> comment": (
        "photo.jpg",
        lambda: jpeg_with_gps(comment=b"<script>alert(1)</script>"),
        "polyglot",
    ),
    "PNG+HTML after IEND": ("chart.png", lambda: png() + HTML_PAGE, "polyglot"),
    "PDF+ZIP polyglot": ("letter.pdf", lambda: _pdf_zip_polyglot(), "polyglot"),
    "PDF+HTML polyglot": ("letter.pdf", lambda: pdf(body="%<html><script>alert(1)</script>\n"), "polyglot"),
    "PDF with JavaScript": (
        "letter.pdf",
        lambda: pdf(extra_catalog="/OpenAction << /S /JavaScript /JS (app.alert(1)) >> "),
        "active",
    ),
    "PDF with hex-escaped /J#61vaScript": (
        "letter.pdf",
        lambda: pdf(extra_catalog="/OpenAction << /S /J#61vaScript /J#53 (x) >> "),
        "active",
    ),
    "PDF with script in object stream": ("letter.pdf", lambda: pdf_with_hidden_script(), "active"),
    "PDF with data after %%EOF": ("letter.pdf", lambda: pdf(trailer_junk=b"\n" + b"A" * 4096), "damaged"),
    "Windows program renamed .pdf": ("批复.pdf", lambda: PE_PROGRAM, "program"),
    "Linux program renamed .jpg": ("photo.jpg", lambda: ELF_PROGRAM, "program"),
    "SVG with script renamed .png": ("chart.png", lambda: SVG_WITH_SCRIPT, "markup"),
    "HTML page renamed .jpg": ("photo.jpg", lambda: HTML_PAGE, "markup"),
    "zip bomb as .docx (1 GB unpacked)": ("报告.docx", lambda: docx_bomb(1024), "bomb"),
    "lying zip bomb as .docx (200 MB, declares 1 KB)": (
        "报告.docx",
        lambda: docx_bomb(200, declare=False),
        "damaged",
    ),
    "macro document renamed .docx": (
        "报告.docx",
        lambda: docx(DOCM_MAIN, {"word/vbaProject.bin": b"\x00" * 64}),
        "macros",
    ),
    "docx with embedded program": (
        "报告.docx",
        lambda: docx(extra={"word/embeddings/oleObject1.bin": b"MZ" + b"\x00" * 64}),
        "macros",
    ),
    "plain zip renamed .docx": ("报告.docx", lambda: zip_archive({"a.txt": "hello"}), "type"),
    "old .doc": ("报告.doc", lambda: OLE_DOC, "old_office"),
    "HEIC photo": ("IMG_0001.HEIC", lambda: HEIC, "heic"),
    "PNG pixel bomb (30000 × 30000)": ("map.png", lambda: png_header_only(30000, 30000), "pixels"),
    "truncated JPEG": ("photo.jpg", lambda: jpeg_with_gps()[:200], "damaged"),
    "text file": ("notes.txt", lambda: "只是一些文字".encode(), "type"),
}


@functools.cache
def hostile_file(label: str) -> tuple[str, bytes, str]:
    name, build, code = HOSTILE[label]
    return name, build(), code


def _pdf_zip_polyglot() -> bytes:
    """A PDF whose body carries a zip archive before the final %%EOF: a zip reader finds it."""
    archive = zip_archive({"payload.exe": PE_PROGRAM})
    data = pdf()
    end = data.rfind(b"%%EOF")
    return data[:end] + archive + b"\n" + data[end:]
