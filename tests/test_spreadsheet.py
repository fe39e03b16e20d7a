"""Exports cannot inject spreadsheet formulas; numbers stay numbers."""

import csv
import io

from openpyxl import load_workbook

from issues.spreadsheet import csv_response, xlsx_bytes

HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "=1+1"]


def test_csv_cells_that_look_like_formulas_get_a_quote():
    response = csv_response("问题清单.csv", ["标题"], [[v] for v in HOSTILE] + [["-12"], [-3], ["普通文本"]])
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    cells = [row[0] for row in rows[1:]]
    assert cells[: len(HOSTILE)] == ["'" + v for v in HOSTILE]
    assert cells[len(HOSTILE) :] == ["-12", "-3", "普通文本"]
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert "filename*=UTF-8''%E9%97%AE" in response["Content-Disposition"]


def test_xlsx_strings_are_never_formulas():
    data = xlsx_bytes([("清单", ["标题", "数量"], [[v, 3] for v in HOSTILE])])
    sheet = load_workbook(io.BytesIO(data)).active
    for row in sheet.iter_rows(min_row=2):
        assert row[0].data_type == "s"
        assert row[1].data_type == "n" and row[1].value == 3
    # XML stores a lone CR as a line feed; the text is otherwise kept exactly.
    assert [r[0].value for r in sheet.iter_rows(min_row=2)] == [v.replace("\r", "\n") for v in HOSTILE]
