"""Properties of the pure pieces that see outside text: masking, the tabular writer, the lifecycle.

Examples are capped (and the Hypothesis database is off) so `make test` stays fast and the
repository stays clean.
"""

import csv
import io
from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from gridmap import privacy
from gridmap.exports.tabular import FORMULA_PREFIXES, Column, neutralise, to_csv, to_xlsx
from gridmap.importers import fields
from gridmap.importers.specs import SPECS
from gridmap.lifecycle import ACTIONS, TransitionError, apply
from gridmap.models import HANDLING_LEVELS, ISSUE_STATUSES

FAST = settings(max_examples=100, deadline=None, database=None)
# Text as it reaches us from forms, files and JSON: any code point, lone surrogates included.
ANY_TEXT = st.text(st.characters(codec=None), max_size=40)
HOSTILE = st.sampled_from(["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=x", "\r=x", "\n=x",
                           "\x00=x", "\x01-x", "=HYPERLINK(\"http://x\")", "０１", "010101"])
CELL_TEXT = st.one_of(HOSTILE, ANY_TEXT, st.from_regex(r"[=+\-@\t\r\n]?[0-9]{1,20}", fullmatch=True))


# --- privacy -------------------------------------------------------------------------------

def revealed(masked: str) -> int:
    return sum(1 for c in masked if c != "*")


@FAST
@given(ANY_TEXT)
def test_masked_phone_reveals_at_most_seven_characters(phone):
    masked = privacy.mask_phone(phone)
    assert isinstance(masked, str) and revealed(masked) <= 7
    digits = "".join(phone.split())
    if len(digits) < 8:
        assert revealed(masked) == 0
    assert privacy.mask_phone(masked) == masked


@FAST
@given(ANY_TEXT)
def test_masked_id_number_reveals_at_most_ten_characters(id_number):
    masked = privacy.mask_id_number(id_number)
    assert isinstance(masked, str) and revealed(masked) <= 10
    if len(id_number.strip()) < 11:
        assert revealed(masked) == 0
    assert privacy.mask_id_number(masked) == masked


@FAST
@given(st.one_of(ANY_TEXT, st.sampled_from(["欧阳娜娜", "买买提·艾力", "张三", "欧阳", " 王 "])))
def test_masked_name_reveals_only_the_surname(name):
    masked = privacy.mask_name(name)
    assert isinstance(masked, str)
    letters = [c for c in masked if c != "*" and c not in privacy.NAME_SEPARATORS]
    # The surname (one character, two for a 复姓) and separators; nothing else.
    assert len(letters) <= (2 if name.strip()[:2] in privacy.COMPOUND_SURNAMES else 1)
    # A name with any letter shows at least one of them masked (王 → *, 王· → *·).
    assert "*" in masked or set(masked) <= set(privacy.NAME_SEPARATORS)


@FAST
@given(st.sampled_from(sorted(privacy.MASKS)), st.one_of(st.none(), ANY_TEXT),
       st.sampled_from(["grid_worker", "leader", "admin", "inspector"]))
def test_reveal_without_unmask_is_the_mask(kind, value, role):
    assert privacy.reveal(kind, value, role) == privacy.MASKS[kind](value)


# --- the tabular writer --------------------------------------------------------------------

ROWS = st.lists(st.tuples(CELL_TEXT, CELL_TEXT, st.one_of(st.none(), st.integers(-10**6, 10**6))),
                max_size=8)
COLUMNS = [Column("code", "代码", "code"), Column("name", "=名称"), Column("size", "人数")]


def _safe(text: str) -> bool:
    return not text.startswith(FORMULA_PREFIXES)


def _printable(text: str) -> str:
    """What survives any writer: XML-legal code points (no lone surrogates)."""
    return "".join(c for c in text if not ("\ud800" <= c <= "\udfff"))


@FAST
@given(ROWS)
def test_no_csv_text_cell_starts_like_a_formula(rows):
    rows = [(_printable(code), _printable(name), size) for code, name, size in rows]
    body = to_csv(COLUMNS, rows).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(body, newline="")))
    assert len(table) == len(rows) + 1
    for written, (code, name, size) in zip(table[1:], rows, strict=True):
        assert _safe(written[0]) and _safe(written[1])
        assert written[:2] == [neutralise(_xml_legal(code)), neutralise(_xml_legal(name))]
        assert written[2] == ("" if size is None else str(size))  # numbers stay numbers


@settings(max_examples=30, deadline=None, database=None)
@given(st.from_regex(r"0[0-9]{0,17}", fullmatch=True))
def test_codes_keep_leading_zeros(code):
    csv_row = list(csv.reader(io.StringIO(to_csv(COLUMNS, [(code, "x", 1)]).decode("utf-8-sig"))))[1]
    sheet = load_workbook(io.BytesIO(to_xlsx(COLUMNS, [(code, "x", 1)]))).active
    assert csv_row[0] == code and sheet["A2"].value == code


@settings(max_examples=40, deadline=None, database=None)
@given(ROWS)
def test_xlsx_round_trips_text_and_never_holds_a_formula(rows):
    rows = [(_printable(code), _printable(name), size) for code, name, size in rows]
    sheet = load_workbook(io.BytesIO(to_xlsx(COLUMNS, rows))).active
    read = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(read) == len(rows)
    for cells in sheet.iter_rows():
        for cell in cells:
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                assert _safe(cell.value)
    for (code, name, size), (code_out, name_out, size_out) in zip(rows, read, strict=True):
        for given_text, out in ((code, code_out), (name, name_out)):
            assert _xml_newlines(out or "") == _xml_newlines(neutralise(_xml_legal(given_text)))
        assert size_out == size


def _xml_newlines(text: str) -> str:
    """XML parsers read every line end (\\r\\n, \\r) as \\n: compare text that way."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _xml_legal(text: str) -> str:
    """Control characters XML cannot hold are dropped by the writer; everything else stays."""
    return "".join(c for c in text if c >= " " or c in "\t\n\r")


# --- the issue lifecycle -------------------------------------------------------------------

STEPS = st.lists(st.tuples(st.one_of(st.sampled_from(sorted(ACTIONS)), ANY_TEXT),
                           st.one_of(st.none(), st.just("因为"), ANY_TEXT)), max_size=25)


@FAST
@given(st.sampled_from(ISSUE_STATUSES), st.sampled_from(HANDLING_LEVELS), STEPS)
def test_any_sequence_of_actions_stays_in_the_state_machine(status, level, steps):
    for action, note in steps:
        try:
            new_status, new_level = apply(status, level, action, note)
        except TransitionError:
            continue
        assert new_status in ISSUE_STATUSES and new_level in HANDLING_LEVELS
        moved = HANDLING_LEVELS.index(new_level) - HANDLING_LEVELS.index(level)
        assert moved == ACTIONS[action].level_move or (moved < 0 and ACTIONS[action].level_move < 0)
        assert new_status == (ACTIONS[action].target or status)
        status, level = new_status, new_level


@FAST
@given(st.one_of(st.sampled_from(ISSUE_STATUSES), ANY_TEXT), st.one_of(st.sampled_from(HANDLING_LEVELS), ANY_TEXT),
       st.sampled_from(sorted(ACTIONS)), st.one_of(st.none(), st.just("因为"), ANY_TEXT))
def test_unknown_status_or_level_is_a_transition_error(status, level, action, note):
    try:
        new_status, new_level = apply(status, level, action, note)
    except TransitionError:
        return
    assert status in ISSUE_STATUSES and level in HANDLING_LEVELS
    assert new_status in ISSUE_STATUSES and new_level in HANDLING_LEVELS


# --- the import's cell parsers -------------------------------------------------------------

CELLS = st.one_of(ANY_TEXT, st.from_regex(r"[+-]?P([0-9]{1,25}[WD])?(T[0-9]{1,25}[HMS])?", fullmatch=True),
                  st.from_regex(r"[0-9٣１]{1,30}([.eE][0-9]{1,4})?", fullmatch=True),
                  st.sampled_from(["9999-12-31T23:59:59-23:59", "0001-01-01", "2026-11-01 08:00", "1e400",
                                   "NaN", "-inf", "1_000", "[" * 1200 + "]" * 1200, '{"a": ' + "[" * 900 + "]" * 900 + "}",
                                   '{"a": ' + "7" * 4400 + "}", '{"a": "\\u0000"}',
                                   '{"a": "\\ud800"}', "13٨١٢٣٤٥٦٧٨", "٥٣٢٣٢٩١٩٨٠٠١٠١٠٠١٨"]))
PARSERS = {"int": fields.parse_int, "float": fields.parse_float, "bool": fields.parse_bool,
           "phone": fields.parse_phone, "id_number": fields.parse_id_number, "uuid": fields.parse_uuid,
           "json": fields.parse_json_object, "time": fields.time_parser(datetime(2026, 11, 23, tzinfo=UTC)),
           "date": fields.date_parser(datetime(2026, 11, 23, tzinfo=UTC)),
           **{f"{spec.table}.{field.name}": field.parse for spec in SPECS for field in spec.fields
              if callable(field.parse)}}


@settings(max_examples=100, deadline=None, database=None)
@given(st.sampled_from(sorted(PARSERS)), CELLS)
def test_every_cell_parser_returns_a_value_or_says_what_to_fix(name, raw):
    try:
        value = PARSERS[name](raw)
    except fields.CellProblem as exc:
        problem, hint = str(exc.problem), str(exc.hint)
        assert problem and hint and len(problem) < 200
        return
    if isinstance(value, str):  # what is stored as text can be stored
        fields.check_storable(value)
        if name in ("phone", "id_number") or name.endswith((".phone", "_phone", ".id_number")):
            assert value.isascii()
    if isinstance(value, int) and not isinstance(value, bool):
        assert abs(value) <= fields.INT_MAX
    if isinstance(value, datetime | date):
        assert fields.YEARS[0] <= value.year <= fields.YEARS[1]
