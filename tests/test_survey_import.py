"""Survey import from real files (DESIGN §6; SECURITY 23, 25, 26), through the command and the admin.

The files in tests/fixtures/survey/ are real: the five samples of shared/data plus files
written by Python's gb18030/utf-16 codecs and openpyxl (tests/fixtures/make_survey_fixtures.py).
Messages are asserted in English (the source strings); the product shows them in Chinese.
"""

import io
import time
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.urls import reverse

from enterprises.models import Enterprise, Survey, SurveyResponse
from enterprises.survey_import import import_survey_file
from issues.models import Issue, Source

from .factories import EnterpriseFactory, UserFactory

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "survey"
SAME_ROWS = ["survey-utf8.csv", "survey-utf8-bom.csv", "survey-gb18030.csv", "survey.xlsx"]
SAME_ROWS_OTHER_SHAPE = ["survey-english-gb18030.csv", "survey-typed.xlsx"]
IMPORT_URL = "/admin/enterprises/survey/import/"
SURVEY = "2023年一季度重点企业问卷"


pytestmark = pytest.mark.usefixtures("english")


def counts():
    return (
        Enterprise.objects.count(),
        Survey.objects.count(),
        SurveyResponse.objects.count(),
        Issue.objects.count(),
    )


def state():
    """What the import stores, independent of file name and row order."""
    enterprises = sorted(
        Enterprise.objects.values_list("credit_code", "name", "district__name", "sector", "employees")
    )
    responses = sorted(
        SurveyResponse.objects.values_list(
            "enterprise__credit_code",
            "survey__name",
            "submitted_on",
            "operating_status",
            "order_trend",
            "employees",
            "labour_shortage",
            "difficulties",
            "needs",
            "need_categories",
            "contact_name",
            "contact_phone",
        )
    )
    return enterprises, responses


def raw_rows():
    return sorted(
        (r.enterprise.credit_code, sorted(r.raw_row.items()))
        for r in SurveyResponse.objects.select_related("enterprise")
    )


def wipe():
    SurveyResponse.objects.all().delete()
    Survey.objects.all().delete()
    Enterprise.objects.all().delete()


def run_command(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_survey", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def command_error(*args):
    err = io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_survey", *args, stdout=io.StringIO(), stderr=err)
    return str(excinfo.value), err.getvalue()


def admin_upload(client, path: Path, survey=SURVEY, create_issues=False, confirm=True):
    """Upload → preview → (confirm). Returns (preview response, final response or None)."""
    with path.open("rb") as handle:
        data = {"file": handle, "survey_name": survey}
        if create_issues:
            data["create_issues"] = "on"
        preview = client.post(IMPORT_URL, data)
    assert preview.status_code == 200
    if not (confirm and preview.context.get("confirm_form")):
        return preview, None
    return preview, confirm_preview(client, preview)


def confirm_preview(client, preview, **extra):
    form = preview.context["confirm_form"]
    values = {name: value for name, value in form.initial.items() if value not in (False, None)}
    return confirm_post(client, {**values, **extra})


def confirm_post(client, values):
    """POST a confirm as a real request would commit it: the import job queued after the
    commit (enterprises.import_jobs) runs then, with the immediate task backend of the tests."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(IMPORT_URL, values)


# -- the sample files: every encoding gives the same database state ------------------------------


@pytest.mark.django_db
def test_samples_in_every_encoding_give_identical_state_through_the_command(coordinator):
    states, raws = {}, {}
    for name in SAME_ROWS + SAME_ROWS_OTHER_SHAPE:
        wipe()
        out, _err = run_command(str(FIXTURES / name), "--survey", SURVEY)
        assert "12 rows" in out, name
        assert "enterprises: 12 new, 0 updated, 0 unchanged" in out, name
        states[name] = state()
        raws[name] = raw_rows()
    reference = states["survey-utf8.csv"]
    assert len(reference[0]) == 12 and len(reference[1]) == 12
    for name, got in states.items():
        assert got == reference, name
    # The raw row keeps header → cell text; the four files with the same rows store the same.
    for name in SAME_ROWS:
        assert raws[name] == raws["survey-utf8.csv"], name
    first = next(r for r in reference[1] if r[0] == "91120111NEUCAKJX4R")
    assert first[2].isoformat() == "2023-01-10"
    assert first[3:7] == ("mostly_normal", "falling", 399, 107)
    assert first[8] == "用电容量不足，需增容变压器\n希望解读新能源汽车产业扶持政策"
    assert first[9] == "能源、政策"
    enterprise = Enterprise.objects.get(credit_code="911201169UMT0H2P5E")
    assert (enterprise.name, enterprise.district.name, enterprise.sector) == (
        "天津泰华食品有限公司",
        "津南区",
        "services",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", SAME_ROWS + SAME_ROWS_OTHER_SHAPE)
def test_each_sample_imports_through_the_admin_with_preview_and_confirm(
    coordinator_client, coordinator, name
):
    preview, _ = admin_upload(coordinator_client, FIXTURES / name, confirm=False)
    body = preview.content.decode()
    assert 'id="preview-rows"' in body and 'id="confirm-form"' in body
    assert body.count('class="preview-new"') == 12
    assert "天津新宏精密有限公司" in body
    assert counts() == (0, 0, 0, 0)  # the preview wrote nothing
    final = confirm_preview(coordinator_client, preview)
    assert final.status_code == 302
    assert "/admin/enterprises/survey/import/job/" in final["Location"]
    assert counts() == (12, 1, 12, 0)
    response = SurveyResponse.objects.get(enterprise__credit_code="91120111NEUCAKJX4R")
    assert response.imported_by == coordinator
    assert response.source_file == name and response.source_row == 2
    job_page = coordinator_client.get(final["Location"])
    assert "Imported 12 rows" in job_page.content.decode()
    page = coordinator_client.get(job_page.context["responses_url"])
    assert "天津新宏精密有限公司" in page.content.decode()


# -- idempotence, updates, issues --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_file_twice_changes_nothing_and_creates_no_duplicate_issues(coordinator):
    path = str(FIXTURES / "survey-gb18030.csv")
    out, _ = run_command(path, "--survey", SURVEY, "--create-issues", "--user", coordinator.username)
    assert "issues created: 14" in out
    before = counts()
    stamps = sorted(Enterprise.objects.values_list("credit_code", "updated_at"))
    raw = raw_rows()
    out, _ = run_command(path, "--survey", SURVEY, "--create-issues", "--user", coordinator.username)
    assert "enterprises: 0 new, 0 updated, 12 unchanged" in out
    assert "responses: 0 new, 0 updated, 12 unchanged" in out
    assert "issues created: 0" in out
    assert counts() == before == (12, 1, 12, 14)
    assert sorted(Enterprise.objects.values_list("credit_code", "updated_at")) == stamps
    assert raw_rows() == raw
    # The XLSX of the same rows is the same data: nothing changes either.
    out, _ = run_command(
        str(FIXTURES / "survey.xlsx"), "--survey", SURVEY, "--create-issues", "--user", "coordinator"
    )
    assert "responses: 0 new, 0 updated, 12 unchanged" in out and "issues created: 0" in out
    assert counts() == before


@pytest.mark.django_db
def test_create_issues_gives_survey_issues_with_the_right_categories(coordinator):
    run_command(
        str(FIXTURES / "survey-utf8.csv"), "--survey", SURVEY, "--create-issues", "--user", "coordinator"
    )
    issues = Issue.objects.filter(enterprise__credit_code="9112011663UX2M8X10").select_related("category")
    got = sorted((i.title, i.category.name, i.source, i.status, i.raised_by_id) for i in issues)
    assert got == [
        ("扩建项目能评手续办理周期长，希望协调加快审批", "审批许可", Source.SURVEY, "new", coordinator.pk),
        ("用电容量不足，需增容变压器", "能源", Source.SURVEY, "new", coordinator.pk),
    ]
    response = SurveyResponse.objects.get(enterprise__credit_code="9112011663UX2M8X10")
    assert set(issues.values_list("survey_response", flat=True)) == {response.pk}
    assert Issue.objects.filter(source=Source.SURVEY).count() == 14
    # Each issue has its RAISED event (the workflow wrote it).
    assert all(i.events.filter(kind="raised").exists() for i in issues)


@pytest.mark.django_db
def test_needs_on_several_lines_take_the_first_category_when_fewer_are_listed(coordinator_client):
    _preview, final = admin_upload(
        coordinator_client, FIXTURES / "survey-multiline-gb18030.csv", create_issues=True
    )
    assert final.status_code == 302
    enterprise = Enterprise.objects.get()
    assert enterprise.name == "天津堃𬌗科技有限公司"  # GB18030-only character kept
    assert enterprise.employees == 12345
    response = enterprise.survey_responses.get()
    assert response.submitted_on.isoformat() == "2023-03-01"
    assert set(Issue.objects.values_list("title", "category__name", "source")) == {
        ("希望开通货运绿色通道", "物流", "survey"),
        ("希望增加停车位", "物流", "survey"),
        ("希望协调仓储用地", "物流", "survey"),
    }


@pytest.mark.django_db
def test_a_changed_row_updates_the_enterprise_and_the_response(coordinator, tmp_path):
    run_command(str(FIXTURES / "survey-utf8.csv"), "--survey", SURVEY)
    text = (FIXTURES / "survey-utf8.csv").read_text(encoding="utf-8")
    changed = text.replace("天津新宏精密有限公司,北辰区", "天津新宏精密股份有限公司,滨海新区").replace(
        ",399,107,", ',"1,399",107,'
    )
    path = tmp_path / "changed.csv"
    path.write_bytes(changed.encode("gb18030"))
    preview = import_survey_file(
        data=path.read_bytes(),
        filename="changed.csv",
        survey_name=SURVEY,
        by=None,
        create_issues=False,
        dry_run=True,
    )
    assert [p.action for p in preview.preview].count("update") == 1
    assert [p.action for p in preview.preview].count("skip") == 11
    out, _ = run_command(str(path), "--survey", SURVEY)
    assert "enterprises: 0 new, 1 updated, 11 unchanged" in out
    assert "responses: 0 new, 1 updated, 11 unchanged" in out
    enterprise = Enterprise.objects.get(credit_code="91120111NEUCAKJX4R")
    assert (enterprise.name, enterprise.district.name, enterprise.employees) == (
        "天津新宏精密股份有限公司",
        "滨海新区",
        1399,
    )
    assert enterprise.survey_responses.get().employees == 1399
    # Another survey round creates new responses for the same enterprises.
    out, _ = run_command(str(path), "--survey", "2023年二季度")
    assert "responses: 12 new" in out and Enterprise.objects.count() == 12


@pytest.mark.django_db
def test_existing_enterprise_is_matched_by_code_whatever_the_case(coordinator):
    EnterpriseFactory(credit_code="91120111NEUCAKJX4R", name="旧名称", is_key=False)
    out, _ = run_command(str(FIXTURES / "survey-utf8.csv"), "--survey", SURVEY)
    assert "enterprises: 11 new, 1 updated, 0 unchanged" in out
    assert Enterprise.objects.get(credit_code="91120111NEUCAKJX4R").name == "天津新宏精密有限公司"


# -- bad rows: all errors at once, nothing written -------------------------------------------------


BAD_ROWS_ERRORS = [
    ("row 3", "统一社会信用代码", "The check character (the 18th) should be 6, not 0"),
    ("row 4", "所在区", "Unknown district “火星区”"),
    ("row 5", "填报日期", "“2023-02-30” is not a real date."),
    ("row 6", "企业名称", "This cell is empty; it is required."),
]


@pytest.mark.django_db
def test_bad_rows_file_reports_every_bad_row_and_imports_nothing_by_command(coordinator):
    EnterpriseFactory()
    before = counts()
    message, err = command_error(str(FIXTURES / "survey-bad-rows.csv"), "--survey", SURVEY)
    assert "4 problem(s) found" in message and "nothing was imported" in message
    lines = [line for line in err.splitlines() if line.startswith("row ")]
    assert len(lines) == 4
    for (row, column, reason), line in zip(BAD_ROWS_ERRORS, lines, strict=True):
        assert line.startswith(f"{row}, column “{column}”: ") and reason in line
    assert counts() == before


@pytest.mark.django_db
def test_bad_rows_file_reports_every_bad_row_in_the_admin_and_offers_no_confirm(coordinator_client):
    preview, final = admin_upload(coordinator_client, FIXTURES / "survey-bad-rows.csv")
    assert final is None
    body = preview.content.decode()
    assert 'id="confirm-form"' not in body
    assert body.count('class="import-error"') == 4
    for row, column, reason in BAD_ROWS_ERRORS:
        assert f"<td>{row.split()[1]}</td><td>{column}</td>" in body
        assert reason.replace("“", "&ldquo;")[:10] in body or reason[:10] in body
    assert counts() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_every_kind_of_bad_value_is_reported_with_row_column_and_reason(coordinator):
    started = time.monotonic()
    result = import_survey_file(
        data=(FIXTURES / "survey-bad-values.csv").read_bytes(),
        filename="survey-bad-values.csv",
        survey_name=SURVEY,
        by=None,
        create_issues=False,
        dry_run=False,
    )
    assert time.monotonic() - started < 2
    got = [(e.row, e.column, e.reason) for e in result.errors]
    assert got == [
        (2, "从业人数", "“12.5” is not a whole number: write digits only, e.g. 1200 or 1,200."),
        (3, "从业人数", "“1.2万” is not a whole number: write it in digits, e.g. 12000 instead of 1.2万."),
        (4, "用工缺口", "“1e1000000” is not a whole number: write digits only, e.g. 1200 or 1,200."),
        (
            5,
            "行业类别",
            "“高新技术” is not allowed here: use one of "
            "规模以上工业、限额以上批发和零售业、规模以上服务业、其他.",
        ),
        (6, "诉求类别", got[4][2]),
        (7, "填报日期", "“15/01/2023” is not a date: write it as 2023-01-15, 2023/1/15 or 2023年1月15日."),
        (8, "统一社会信用代码", "This cell is empty; it is required."),
        (9, "生产经营状况", "“很好” is not allowed here: use one of 正常、基本正常、部分停产、停产."),
        (
            10,
            "统一社会信用代码",
            "The same credit code is already on row 2: each enterprise may appear once.",
        ),
    ]
    assert got[4][2].startswith("Unknown need category “外汇”: use one of 审批许可、税费")
    assert not result.written and counts() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_a_good_file_with_one_bad_last_row_imports_nothing_in_xlsx_too(coordinator, tmp_path):
    import openpyxl

    book = openpyxl.load_workbook(FIXTURES / "survey.xlsx")
    sheet = book.worksheets[0]
    sheet.cell(row=13, column=3, value="火星区")
    path = tmp_path / "bad-last.xlsx"
    book.save(path)
    message, err = command_error(str(path), "--survey", SURVEY, "--create-issues", "--user", "coordinator")
    assert "row 13, column “所在区”: Unknown district “火星区”" in err
    assert counts() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_missing_required_columns_are_named(coordinator, tmp_path):
    path = tmp_path / "few.csv"
    path.write_text("企业名称,所在区\n天津某公司,和平区\n", encoding="utf-8")
    _message, err = command_error(str(path))
    assert "Required columns are missing: 统一社会信用代码、行业类别、填报日期" in err


# -- hostile and wrong files --------------------------------------------------------------------------


HOSTILE = [
    ("empty.csv", "The file is empty."),
    ("header-only.csv", "The file has a header row but no data rows."),
    ("picture-renamed.csv", "This is not a spreadsheet: upload a CSV or XLSX file."),
    ("survey-truncated.xlsx", "The Excel file is damaged or incomplete."),
    ("survey-utf16.csv", "The file is saved as UTF-16"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "message"), HOSTILE)
def test_hostile_files_are_refused_by_the_command(coordinator, name, message):
    EnterpriseFactory()
    before = counts()
    started = time.monotonic()
    _summary, err = command_error(str(FIXTURES / name), "--survey", SURVEY)
    assert message in err
    assert "Traceback" not in err
    assert time.monotonic() - started < 10
    assert counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "message"), HOSTILE)
def test_hostile_files_are_refused_by_the_admin(coordinator_client, name, message):
    preview, final = admin_upload(coordinator_client, FIXTURES / name)
    assert final is None
    body = preview.content.decode()
    assert 'id="import-errors"' in body or "errorlist" in body
    assert message.replace("“", "&ldquo;").replace("”", "&rdquo;")[:20] in body or message[:20] in body
    assert counts() == (0, 0, 0, 0)


def zip_bomb() -> bytes:
    """A small zip declaring more than 1 GB: an 'xlsx' whose sheet is a gigabyte of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as entry:
            chunk = b"0" * (1 << 20)
            for _ in range(1100):
                entry.write(chunk)
    return buffer.getvalue()


@pytest.mark.django_db
def test_zip_bomb_is_refused_before_it_is_unpacked(coordinator_client, tmp_path):
    data = zip_bomb()
    assert len(data) < 2 * 1024 * 1024
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(data)
    started = time.monotonic()
    _summary, err = command_error(str(path))
    assert "The Excel file unpacks to 1100" in err
    preview, _ = admin_upload(coordinator_client, path)
    assert "unpacks to 1100" in preview.content.decode()
    assert time.monotonic() - started < 10
    assert counts() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_files_over_the_size_limit_are_refused(coordinator_client, settings):
    settings.IMPORT_MAX_BYTES = 1000
    path = FIXTURES / "survey-utf8.csv"  # 3.3 KB
    _summary, err = command_error(str(path))
    assert "the limit is 0" in err and "Split it into smaller files" in err
    preview, final = admin_upload(coordinator_client, path)
    assert final is None
    assert "Split it into smaller files" in preview.content.decode()
    assert counts() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_a_cell_of_200_kb_is_refused_with_its_row(coordinator, tmp_path):
    lines = (FIXTURES / "survey-utf8.csv").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("原材料价格上涨", "很" * 200_000, 1)
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    started = time.monotonic()
    _summary, err = command_error(str(path))
    assert "Row 3 cannot be read" in err
    assert time.monotonic() - started < 10


@pytest.mark.django_db
def test_nul_bytes_in_a_csv_are_refused(coordinator, tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes((FIXTURES / "survey-utf8.csv").read_bytes().replace("刘先生".encode(), b"\x00", 1))
    _summary, err = command_error(str(path))
    assert "This is not a spreadsheet" in err


# -- the command's options ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_dry_run_writes_nothing_and_shows_the_summary(coordinator):
    out, err = run_command(
        str(FIXTURES / "survey.xlsx"), "--dry-run", "--create-issues", "--user", "coordinator"
    )
    assert out.startswith("Dry run, nothing written: survey.xlsx → “survey” (xlsx), 12 rows")
    assert "issues created: 14" in out
    assert "[##############################] 12/12" in err  # the progress bar
    assert counts() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_create_issues_needs_a_user(coordinator):
    message, _ = command_error(str(FIXTURES / "survey.xlsx"), "--create-issues")
    assert "--user" in message
    message, _ = command_error(str(FIXTURES / "survey.xlsx"), "--user", "nobody")
    assert "No user named nobody" in message
    assert counts() == (0, 0, 0, 0)


# -- the admin: permission, template, tampering, queries -----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["official", "leader", "department"])
def test_users_without_the_import_permission_cannot_import(client, role):
    user = UserFactory(username=f"no-import-{role}", role=role, is_staff=True)
    client.force_login(user)
    assert client.get(IMPORT_URL).status_code == 403
    assert client.get(IMPORT_URL + "template/").status_code == 403
    with (FIXTURES / "survey-utf8.csv").open("rb") as handle:
        assert client.post(IMPORT_URL, {"file": handle, "survey_name": SURVEY}).status_code == 403
    assert counts() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_non_staff_users_never_reach_the_import(client, official):
    client.force_login(official)
    response = client.get(IMPORT_URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_coordinator_sees_the_import_link_and_downloads_the_template(coordinator_client):
    page = coordinator_client.get(reverse("admin:enterprises_survey_changelist")).content.decode()
    assert IMPORT_URL in page
    form = coordinator_client.get(IMPORT_URL)
    assert form.status_code == 200 and 'id="template-link"' in form.content.decode()
    template = coordinator_client.get(IMPORT_URL + "template/")
    assert template.status_code == 200
    assert template["Content-Disposition"].startswith("attachment;")
    content = template.content
    assert content.startswith(b"\xef\xbb\xbf")
    assert content.decode("utf-8-sig").strip() == (
        "统一社会信用代码,企业名称,所在区,行业类别,填报日期,生产经营状况,订单情况,从业人数,用工缺口,主要困难,诉求类别,具体诉求,联系人,联系电话"
    )


@pytest.mark.django_db
def test_a_tampered_or_foreign_confirm_is_refused(coordinator_client, client):
    preview, _ = admin_upload(coordinator_client, FIXTURES / "survey-utf8.csv", confirm=False)
    values = dict(preview.context["confirm_form"].initial)
    values["create_issues"] = ""
    forged = {**values, "digest": "0" * 64}
    assert coordinator_client.post(IMPORT_URL, forged).status_code == 403
    other = UserFactory(username="coordinator2", role="coordinator")
    client.force_login(other)
    client.cookies["django_language"] = "en"
    response = client.post(IMPORT_URL, values, follow=True)
    assert "This preview has expired" in response.content.decode()
    assert counts() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_preview_queries_do_not_grow_with_the_number_of_rows(
    coordinator, django_assert_max_num_queries, tmp_path
):
    header = (FIXTURES / "survey-utf8.csv").read_text(encoding="utf-8").splitlines()
    run_command(str(FIXTURES / "survey-utf8.csv"), "--survey", SURVEY)  # existing rows to look up

    def big(n):
        from .factories import valid_credit_code

        lines = [header[0], *header[1:]]
        template = header[1].split(",")
        for i in range(n):
            row = list(template)
            row[0], row[1] = valid_credit_code(50_000 + i), f"天津批量企业{i}有限公司"
            lines.append(",".join(row))
        return "\n".join(lines).encode("gb18030")

    for n in (10, 1500):
        data = big(n)
        with django_assert_max_num_queries(8):
            result = import_survey_file(
                data=data,
                filename="big.csv",
                survey_name=SURVEY,
                by=coordinator,
                create_issues=True,
                dry_run=True,
            )
        assert result.ok and result.enterprises_created == n and result.enterprises_unchanged == 12


@pytest.mark.django_db
def test_confirming_the_same_preview_twice_imports_once(coordinator_client):
    """A double click on confirm: the second post finds the preview claimed, imports nothing."""
    preview, _ = admin_upload(
        coordinator_client, FIXTURES / "survey-gb18030.csv", create_issues=True, confirm=False
    )
    assert confirm_preview(coordinator_client, preview).status_code == 302
    after_first = counts()
    again = confirm_preview(coordinator_client, preview)
    assert again.status_code == 302
    assert counts() == after_first
    messages = [str(m) for m in coordinator_client.get(again["Location"]).context["messages"]]
    assert any("already being imported" in m or "正在导入" in m for m in messages), messages


# -- the database cannot write (docs/security.md item 36, scripts/drill_disk_full.sh) --------------


def _many_rows_csv(path: Path, rows: int) -> Path:
    from enterprises.credit_code import ALPHABET, check_character
    from enterprises.models import District

    districts = list(District.objects.values_list("name", flat=True)) or ["和平区"]
    lines = ["统一社会信用代码,企业名称,所在区,行业类别,填报日期,生产经营状况,诉求类别,具体诉求"]
    for i in range(rows):
        n, serial = i + 1, ""
        for _ in range(9):
            n, r = divmod(n, len(ALPHABET))
            serial = ALPHABET[r] + serial
        base = "91120777" + serial
        lines.append(
            f"{base + check_character(base)},天津满盘企业{i:05d}有限公司,{districts[i % len(districts)]},"
            f"规模以上工业,2026-10-15,正常,能源,用电容量不足，需增容变压器（{i}号厂区）"
        )
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.mark.django_db(transaction=True)
def test_a_full_database_gives_one_clear_line_and_imports_nothing(coordinator, tmp_path):
    """SQLite's max_page_count makes the database really full (SQLITE_FULL, "database or disk
    is full") at its present size: the import (command here, the admin below) must fail with
    one clear message, not a traceback."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("max_page_count is SQLite's")
    path = _many_rows_csv(tmp_path / "full.csv", 300)
    before = counts()
    with connection.cursor() as cursor:
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages}")
    try:
        message, err = command_error(
            str(path), "--survey", "满盘", "--create-issues", "--user", "coordinator"
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA max_page_count = 1073741823")
    assert "nothing was imported" in message
    assert "Nothing was imported: the database could not write (database or disk is full)" in err
    assert "Free disk space" in err and "Traceback" not in err
    assert counts() == before
    with connection.cursor() as cursor:
        assert cursor.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Once there is room again the same file imports.
    run_command(str(path), "--survey", "满盘", "--create-issues", "--user", "coordinator")
    assert SurveyResponse.objects.count() == 300 and Issue.objects.count() == 300


@pytest.mark.django_db
def test_a_full_database_on_the_admin_confirm_shows_the_message_not_a_500(coordinator_client, tmp_path):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("max_page_count is SQLite's")
    path = _many_rows_csv(tmp_path / "full.csv", 300)
    preview, _ = admin_upload(coordinator_client, path, survey="满盘", create_issues=True, confirm=False)
    before = counts()
    with connection.cursor() as cursor:
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages}")
    try:
        response = confirm_preview(coordinator_client, preview)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA max_page_count = 1073741823")
    # Not even the background job could be written: the confirm page says so itself.
    assert response.status_code == 200
    assert "the database could not write (database or disk is full)" in response.content.decode()
    assert counts() == before
    # The file was kept: once there is room, the same preview confirms.
    assert confirm_preview(coordinator_client, preview).status_code == 302
    assert counts() != before
