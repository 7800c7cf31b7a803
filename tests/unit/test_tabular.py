"""The one CSV/XLSX writer: formulas neutralised, codes kept as text, safe file names."""

import csv
import io
from datetime import UTC, datetime

import pytest
from flask import Flask
from openpyxl import load_workbook

from gridmap.exports import tabular
from gridmap.exports.tabular import Column
from gridmap.web.downloads import tabular_response

HOSTILE = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1", "=HYPERLINK(\"http://x\")"]
COLUMNS = [Column("code", "网格编码", "code"), Column("name", "名称"), Column("households", "户数")]


def rows():
    return [
        {"code": "010101001001001", "name": "一网格", "households": 312},
        *({"code": "532329104201002", "name": cell, "households": 0} for cell in HOSTILE),
    ]


def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "Excel on Chinese Windows needs the UTF-8 BOM"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def read_xlsx(body: bytes):
    return load_workbook(io.BytesIO(body)).active


def test_csv_has_zh_headers_and_keeps_codes_as_written():
    table = read_csv(tabular.to_csv(COLUMNS, rows()))
    assert table[0] == ["网格编码", "名称", "户数"]
    assert table[1] == ["010101001001001", "一网格", "312"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_hostile_cells_are_neutralised(fmt):
    body = tabular.render(fmt, COLUMNS, rows())
    if fmt == "csv":
        names = [row[1] for row in read_csv(body)[2:]]
    else:
        sheet = read_xlsx(body)
        cells = [row[1] for row in sheet.iter_rows(min_row=3)]
        assert all(cell.data_type == "s" for cell in cells)
        # XML reads a stored CR back as LF; the quote in front is what matters.
        names = [cell.value.replace("\n", "\r") for cell in cells]
    assert names == ["'" + cell for cell in HOSTILE]


def test_hostile_header_is_neutralised_too():
    table = read_csv(tabular.to_csv([Column("x", "=cmd|' /C calc'!A0")], [{"x": "ok"}]))
    assert table[0] == ["'=cmd|' /C calc'!A0"]


def test_codes_with_leading_zeros_survive_an_xlsx_round_trip():
    sheet = read_xlsx(tabular.to_xlsx(COLUMNS, rows()))
    code = sheet["A2"]
    assert code.value == "010101001001001"
    assert code.data_type == "s"
    assert code.number_format == "@"
    assert sheet["C2"].value == 312  # counts stay numbers, so leaders can sum them


def test_an_integer_code_is_still_written_as_text():
    sheet = read_xlsx(tabular.to_xlsx([Column("code", "编码", "code")], [{"code": 532329}]))
    assert sheet["A2"].value == "532329"


def test_rows_may_be_sequences_and_values_may_be_none_bool_or_aware_times():
    at = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
    columns = [("a", "甲"), ("b", "乙"), ("c", "丙")]
    body = tabular.to_xlsx(columns, [(None, True, at)])
    sheet = read_xlsx(body)
    assert [c.value for c in sheet[2]] == [None, "是", datetime(2026, 11, 23, 9, 30)]
    assert read_csv(tabular.to_csv(columns, [(None, False, at)]))[1] == ["", "否", "2026-11-23 09:30:00"]


def test_control_characters_xlsx_cannot_hold_are_dropped():
    sheet = read_xlsx(tabular.to_xlsx([("a", "甲")], [{"a": "bad\x00\x07text"}]))
    assert sheet["A2"].value == "badtext"


def test_unknown_format_and_column_kind_are_refused():
    with pytest.raises(tabular.ExportError, match="unknown export format 'pdf'"):
        tabular.render("pdf", COLUMNS, [])
    with pytest.raises(tabular.ExportError, match="kind must be one of"):
        Column("a", "甲", "number")


@pytest.mark.parametrize(("stem", "expected"), [
    ("武定县_网格", "武定县_网格.csv"),
    ("../../etc/passwd", "etc_passwd.csv"),
    ('a"b\r\nc', "a_b_c.csv"),
    ("", "export.csv"),
])
def test_safe_filename(stem, expected):
    assert tabular.safe_filename(stem, "csv") == expected


def test_download_response_names_chinese_files_per_rfc_5987():
    app = Flask(__name__)
    with app.test_request_context():
        response = tabular_response("xlsx", "武定县 网格台账", COLUMNS, rows())
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="export.xlsx"; ')
    assert "filename*=UTF-8''%E6%AD%A6%E5%AE%9A%E5%8E%BF%20%E7%BD%91%E6%A0%BC%E5%8F%B0%E8%B4%A6.xlsx" in disposition
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert read_xlsx(response.get_data())["A2"].value == "010101001001001"


def test_ascii_names_keep_their_ascii_fallback():
    assert tabular.content_disposition("grids.csv").startswith('attachment; filename="grids.csv"')
