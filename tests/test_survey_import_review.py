"""Survey import, issue 13 findings 8–10, through the command and the admin on real files.

8. A file with thousands of problems lists the first 100 and counts the rest.
9. An import does not silently rewrite master data: every changed field of an existing
   enterprise is shown (old → new), and a key enterprise changes only with an explicit tick
   (admin) or --allow-key-changes (command); otherwise nothing is imported.
10. The same answers imported again under another round name do not raise every need a
   second time: a need the enterprise has open is reported "already open as #N".
"""

import re

import pytest
from django.urls import reverse

from enterprises.models import District, Enterprise, Sector, SurveyResponse
from enterprises.survey_import import need_key
from issues import workflow
from issues.models import Category, Issue, Source

from .factories import EnterpriseFactory, valid_credit_code
from .test_survey_import import (
    FIXTURES,
    SURVEY,
    admin_upload,
    command_error,
    confirm_post,
    confirm_preview,
    counts,
    run_command,
)

HEADER = "统一社会信用代码,企业名称,所在区,行业类别,填报日期,生产经营状况,诉求类别,具体诉求"
# Row 2 of the sample files: 91120111NEUCAKJX4R, 天津新宏精密有限公司, 北辰区, 规模以上工业, 399 employees.
CODE = "91120111NEUCAKJX4R"
GREAT_WALL = "长城汽车股份有限公司天津哈弗分公司"


pytestmark = pytest.mark.usefixtures("english")


# -- 8. many problems: the first 100 listed, the rest counted ------------------------------------


def bad_districts_csv(path, rows: int):
    lines = [HEADER]
    for i in range(rows):
        code = valid_credit_code(70_000 + i)
        lines.append(f"{code},天津某企业{i}有限公司,火星区,规模以上工业,2023-01-10,正常,,")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.mark.django_db
def test_the_command_lists_the_first_100_problems_and_counts_the_rest(coordinator, tmp_path):
    path = bad_districts_csv(tmp_path / "mars.csv", 1000)
    message, err = command_error(str(path), "--survey", SURVEY)
    assert "1000 problem(s) found in mars.csv; nothing was imported." in message
    listed = [line for line in err.splitlines() if line.startswith("row ")]
    assert len(listed) == 100
    assert listed[0].startswith("row 2, column “所在区”: Unknown district “火星区”")
    assert listed[-1].startswith("row 101, ")
    assert "… and 900 more problems" in err
    assert counts() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_the_admin_lists_the_first_100_problems_and_counts_the_rest(coordinator_client, tmp_path):
    path = bad_districts_csv(tmp_path / "mars.csv", 1000)
    preview, final = admin_upload(coordinator_client, path)
    assert final is None
    body = preview.content.decode()
    assert body.count('class="import-error"') == 100
    assert "The file has 1000 problems." in body
    assert re.search(r'id="errors-not-listed">\s*… and 900 more problems\s*<', body)
    assert 'id="confirm-form"' not in body
    assert counts() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_hundreds_of_duplicate_headers_give_100_lines(coordinator_client, tmp_path):
    """The header width is capped at 500 columns by formats.py; 499 duplicates of one header
    were still 498 lines on the page and from the command."""
    path = tmp_path / "dup.csv"
    header = HEADER + ",企业名称" * 491
    row = f"{CODE},天津新宏精密有限公司,北辰区,规模以上工业,2023-01-10,正常,,"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    message, err = command_error(str(path))
    assert "491 problem(s)" in message
    assert err.count("This column appears twice") == 100
    assert "… and 391 more problems" in err
    preview, _ = admin_upload(coordinator_client, path)
    body = preview.content.decode()
    assert body.count('class="import-error"') == 100 and "… and 391 more problems" in body


@pytest.mark.django_db
def test_101_problems_say_one_more_problem(coordinator, tmp_path):
    path = bad_districts_csv(tmp_path / "mars.csv", 101)
    _message, err = command_error(str(path))
    assert err.rstrip().endswith("… and 1 more problem")


# -- 9. changes to existing enterprises: shown, and key ones need a tick -------------------------


@pytest.fixture
def great_wall(db):
    """A key enterprise that a typo'd credit code in a survey file would rename and move."""
    return EnterpriseFactory(
        credit_code=CODE,
        name=GREAT_WALL,
        district=District.objects.get(name="滨海新区"),
        sector=Sector.INDUSTRIAL,
        employees=8000,
        is_key=True,
    )


def enterprise_state(enterprise):
    enterprise.refresh_from_db()
    return enterprise.name, enterprise.district.name, enterprise.sector, enterprise.employees


@pytest.mark.django_db
def test_command_refuses_changes_to_a_key_enterprise_without_the_flag(coordinator, great_wall):
    before, state = counts(), enterprise_state(great_wall)
    message, err = command_error(str(FIXTURES / "survey-utf8.csv"), "--survey", SURVEY)
    assert "Nothing was imported from survey-utf8.csv" in message
    assert "--allow-key-changes" in message
    assert (
        f"row 2, column “企业名称”: “{GREAT_WALL}” is a key enterprise: this would change it "
        f"from “{GREAT_WALL}” to “天津新宏精密有限公司”, which needs an explicit confirmation." in err
    )
    assert "row 2, column “所在区”: " in err and "from “滨海新区” to “北辰区”" in err
    assert "row 2, column “从业人数”: " in err and "from “8000” to “399”" in err
    assert counts() == before  # all or nothing: not even the 11 new enterprises
    assert enterprise_state(great_wall) == state


@pytest.mark.django_db
def test_command_dry_run_shows_every_changed_field_of_the_key_enterprise(coordinator, great_wall):
    out, _ = run_command(str(FIXTURES / "survey-gb18030.csv"), "--survey", SURVEY, "--dry-run")
    assert "enterprises: 11 new, 1 updated, 0 unchanged" in out
    assert (
        f"row 2 · {GREAT_WALL} ({CODE}) [key enterprise]: 企业名称 “{GREAT_WALL}” → “天津新宏精密有限公司”; "
        "所在区 “滨海新区” → “北辰区”; 从业人数 “8000” → “399”" in out
    )
    assert "the import needs --allow-key-changes" in out
    assert counts()[0] == 1


@pytest.mark.django_db
def test_command_with_the_flag_makes_the_key_changes_and_lists_them(coordinator, great_wall):
    out, _ = run_command(str(FIXTURES / "survey-utf8.csv"), "--survey", SURVEY, "--allow-key-changes")
    assert out.startswith("Imported: ")
    assert f"row 2 · {GREAT_WALL} ({CODE}) [key enterprise]: 企业名称" in out
    assert enterprise_state(great_wall) == ("天津新宏精密有限公司", "北辰区", "industrial", 399)
    assert SurveyResponse.objects.count() == 12


@pytest.mark.django_db
def test_changes_to_an_ordinary_enterprise_are_listed_field_by_field_and_imported(coordinator):
    ordinary = EnterpriseFactory(
        credit_code=CODE,
        name="天津新宏精密股份有限公司",
        district=District.objects.get(name="北辰区"),
        sector=Sector.SERVICES,
        employees=None,
        is_key=False,
    )
    out, _ = run_command(str(FIXTURES / "survey.xlsx"), "--survey", SURVEY, "--dry-run")
    where = f"  row 2 · 天津新宏精密股份有限公司 ({CODE})"
    line = next(line for line in out.splitlines() if line.startswith(where))
    assert "[key enterprise]" not in line
    assert line.endswith(
        ": 企业名称 “天津新宏精密股份有限公司” → “天津新宏精密有限公司”; "
        "行业类别 “Large services (规模以上服务业)” → “Large industrial (规模以上工业)”; 从业人数 “—” → “399”"
    )
    assert "--allow-key-changes" not in out
    run_command(str(FIXTURES / "survey.xlsx"), "--survey", SURVEY)
    assert enterprise_state(ordinary) == ("天津新宏精密有限公司", "北辰区", "industrial", 399)


@pytest.mark.django_db
def test_unchanged_key_enterprises_need_no_tick(coordinator, great_wall):
    """Only a change of the enterprise's record needs the tick; new answers of a key
    enterprise (its survey response) do not."""
    great_wall.name, great_wall.district = "天津新宏精密有限公司", District.objects.get(name="北辰区")
    great_wall.employees = 399
    great_wall.save()
    out, _ = run_command(str(FIXTURES / "survey-utf8.csv"), "--survey", SURVEY)
    assert "enterprises: 11 new, 0 updated, 1 unchanged" in out
    assert "Changes to existing enterprises" not in out


@pytest.mark.django_db
def test_admin_preview_shows_the_key_changes_and_a_confirm_without_the_tick_imports_nothing(
    coordinator_client, great_wall
):
    preview, _ = admin_upload(coordinator_client, FIXTURES / "survey-gb18030.csv", confirm=False)
    body = preview.content.decode()
    table = body[body.index('id="key-changes"') : body.index("</table>", body.index('id="key-changes"'))]
    assert table.count('class="key-change"') == 3
    assert f"<td>{GREAT_WALL}</td><td>企业名称</td><td>{GREAT_WALL}</td><td>天津新宏精密有限公司<" in table
    assert "<td>所在区</td><td>滨海新区</td><td>北辰区</td>" in table
    assert 'name="allow_key_changes"' in body and 'type="checkbox"' in body
    assert '<div class="field-change">所在区: “滨海新区” → “北辰区”</div>' in body
    # Confirmed without the tick: nothing imported, the preview again, the file kept.
    refused = confirm_preview(coordinator_client, preview)
    assert refused.status_code == 200
    body = refused.content.decode()
    assert 'id="key-changes-refused"' in body and "tick the box to make them" in body
    assert 'id="confirm-form"' in body and body.count('class="key-change"') == 3
    assert counts() == (1, 0, 0, 0)
    assert great_wall.name == enterprise_state(great_wall)[0] == GREAT_WALL
    # Ticked: imported, once.
    values = {k: v for k, v in refused.context["confirm_form"].initial.items() if v not in (False, None)}
    done = confirm_post(coordinator_client, {**values, "allow_key_changes": "on"})
    assert done.status_code == 302
    assert enterprise_state(great_wall) == ("天津新宏精密有限公司", "北辰区", "industrial", 399)
    assert counts() == (12, 1, 12, 0)


@pytest.mark.django_db
def test_admin_tick_covers_only_the_changes_the_preview_showed(coordinator_client, great_wall):
    preview, _ = admin_upload(coordinator_client, FIXTURES / "survey-utf8.csv", confirm=False)
    values = {k: v for k, v in preview.context["confirm_form"].initial.items() if v not in (False, None)}
    # Someone renames the enterprise after the preview: the ticked confirm no longer matches.
    Enterprise.objects.filter(pk=great_wall.pk).update(name="长城汽车股份有限公司天津分公司")
    queued = confirm_post(coordinator_client, {**values, "allow_key_changes": "on"})
    assert queued.status_code == 302
    # The background import refused it: the job failed, naming the changes it found.
    job = coordinator_client.get(queued["Location"])
    body = job.content.decode()
    assert 'class="errornote" id="job-status"' in body
    assert "the enterprises were changed after the preview" in body
    assert "“长城汽车股份有限公司天津分公司” is a key enterprise" in body
    assert counts() == (1, 0, 0, 0)
    # Its file was kept: the preview again, with the changes as they are now, and a new tick.
    refused = coordinator_client.post(queued["Location"])
    assert refused.status_code == 200
    assert "the key enterprises were changed after the preview" in refused.content.decode()
    assert "<td>长城汽车股份有限公司天津分公司</td>" in refused.content.decode()
    values = {k: v for k, v in refused.context["confirm_form"].initial.items() if v not in (False, None)}
    assert confirm_post(coordinator_client, {**values, "allow_key_changes": "on"}).status_code == 302
    assert enterprise_state(great_wall)[0] == "天津新宏精密有限公司"
    # The failed job's file went back to a preview: it cannot be checked again twice.
    assert 'id="check-again-form"' not in coordinator_client.get(queued["Location"]).content.decode()


@pytest.mark.django_db
def test_an_enterprise_put_on_the_key_list_after_the_preview_is_not_changed(coordinator_client):
    ordinary = EnterpriseFactory(credit_code=CODE, name=GREAT_WALL, is_key=False)
    preview, _ = admin_upload(coordinator_client, FIXTURES / "survey-utf8.csv", confirm=False)
    body = preview.content.decode()
    assert 'id="key-changes"' not in body and 'type="checkbox"' not in body
    assert f'<div class="field-change">企业名称: “{GREAT_WALL}” → “天津新宏精密有限公司”</div>' in body
    Enterprise.objects.filter(pk=ordinary.pk).update(is_key=True)
    queued = confirm_preview(coordinator_client, preview)
    assert queued.status_code == 302
    assert enterprise_state(ordinary)[0] == GREAT_WALL and counts() == (1, 0, 0, 0)
    assert "is a key enterprise" in coordinator_client.get(queued["Location"]).content.decode()
    refused = coordinator_client.post(queued["Location"])
    assert refused.status_code == 200 and 'id="key-changes"' in refused.content.decode()
    assert "tick the box to make them" in refused.content.decode()


# -- 10. the same answers under another round: needs already open are not raised again ------------


def issue_numbers(text: str) -> list[int]:
    return sorted(int(n) for n in re.findall(r"already open as #(\d+)", text))


@pytest.mark.django_db
def test_the_same_answers_under_another_round_raise_no_issue_twice(coordinator):
    out, _ = run_command(
        str(FIXTURES / "survey-gb18030.csv"), "--survey", "一季度", "--create-issues", "--user", "coordinator"
    )
    assert "issues created: 14" in out
    first = sorted(Issue.objects.values_list("pk", flat=True))
    for name, survey in (("survey-utf8.csv", "一季度（重发）"), ("survey.xlsx", "一季度 XLSX")):
        out, _ = run_command(
            str(FIXTURES / name), "--survey", survey, "--create-issues", "--user", "coordinator"
        )
        assert "responses: 12 new" in out
        assert "issues created: 0" in out
        assert "needs already open as an issue, not raised again: 14" in out
        assert issue_numbers(out) == first
        assert "“用电容量不足，需增容变压器” already open as #" in out
    assert Issue.objects.count() == 14 and SurveyResponse.objects.count() == 36


@pytest.mark.django_db
def test_open_issues_of_any_source_count_closed_ones_do_not(coordinator):
    enterprise = EnterpriseFactory(credit_code=CODE, name="天津新宏精密有限公司", is_key=False)
    enterprise.district = District.objects.get(name="北辰区")
    enterprise.employees = 399
    enterprise.save()
    energy, policy = Category.objects.get(code="energy"), Category.objects.get(name="政策")
    # The first need, written with half-width punctuation and spaces, raised by phone: open.
    open_issue = workflow.raise_issue(
        by=coordinator,
        enterprise=enterprise,
        title="用电容量不足, 需增容变压器 ",
        category=energy,
        source=Source.ENTERPRISE_REQUEST,
    )
    # The second need was settled on the spot: closed, so the survey raises it again.
    workflow.raise_issue(
        by=coordinator,
        enterprise=enterprise,
        title="希望解读新能源汽车产业扶持政策",
        category=policy,
        source=Source.OTHER,
        solved_on_site=True,
        resolution="当场解读",
    )
    out, _ = run_command(
        str(FIXTURES / "survey-utf8.csv"), "--survey", SURVEY, "--create-issues", "--user", "coordinator"
    )
    assert "issues created: 13" in out
    assert "needs already open as an issue, not raised again: 1" in out
    need = "“用电容量不足，需增容变压器”"
    assert f"row 2 · 天津新宏精密有限公司: {need} already open as #{open_issue.pk}" in out
    titles = list(
        Issue.objects.filter(enterprise=enterprise, source=Source.SURVEY).values_list("title", flat=True)
    )
    assert titles == ["希望解读新能源汽车产业扶持政策"]


@pytest.mark.django_db
def test_admin_preview_links_the_open_issue_and_the_confirm_raises_none_again(coordinator_client):
    admin_upload(coordinator_client, FIXTURES / "survey-gb18030.csv", survey="一季度", create_issues=True)
    assert Issue.objects.count() == 14
    preview, _ = admin_upload(
        coordinator_client,
        FIXTURES / "survey.xlsx",
        survey="一季度（重发）",
        create_issues=True,
        confirm=False,
    )
    body = preview.content.decode()
    issue = Issue.objects.get(enterprise__credit_code=CODE, title="用电容量不足，需增容变压器")
    url = reverse("issues:detail", args=[issue.pk])
    assert f'“用电容量不足，需增容变压器” already open as <a href="{url}">#{issue.pk}</a>' in body
    assert body.count('class="already-open"') == 14
    assert re.search(r'id="already-open-count">.*?<td>14</td>', body)
    final = confirm_preview(coordinator_client, preview)
    assert final.status_code == 302
    assert Issue.objects.count() == 14 and SurveyResponse.objects.count() == 24
    job = coordinator_client.get(final["Location"]).content.decode()
    assert "Needs already open as an issue, not raised again: 14." in job
    assert coordinator_client.get(url).status_code == 200


def test_need_key_ignores_width_case_spaces_and_punctuation():
    assert need_key("用电容量不足，需增容变压器") == need_key("用电容量不足, 需增容变压器。")
    assert need_key("ＡＢＣ 融资") == need_key("abc融资")
    assert need_key("希望协调\n仓储用地") == need_key("希望协调仓储用地")
    assert need_key("希望协调仓储用地") != need_key("希望协调厂房用地")
    long_need = "很" * 300
    assert need_key(long_need[:199] + "…") == need_key(long_need[:199])
