"""A household batch is made ready for COPY on the import's own thread (`Writer.ready`), while
the batch before is written: without the connection, and giving the same text the generic
path (a dict a row, then COPY's text) gives."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from gridmap import datakey
from gridmap.importers.core import parse_batches
from gridmap.importers.report import ImportReport, Limits
from gridmap.importers.sources import Source
from gridmap.importers.specs import SPEC_BY_TABLE
from gridmap.importers.writers import AS_STORED, COLUMNWISE, Writer, as_columns, copy_text

CSV = """code,village_code,address,head_name,phone,id_number,size,minimum_living,disability_grade,lon,lat
53232910100100001,532329101001,狮山镇东岳社区南街140号,李伟国,15940527240,532329199004045894,3,是,,102.399046,25.447663
53232910100100002,532329101001,"南街 \\ 141 号","王\t芳",,,1,,2,,
"""


def test_tables_made_ready_without_the_connection_store_no_looked_up_id():
    for table in COLUMNWISE:
        assert not [f.name for f in SPEC_BY_TABLE[table].fields if f.ref is not None and f.ref.to_id]


def test_a_ready_batch_is_the_generic_copy_text_with_id_numbers_sealed(monkeypatch):
    monkeypatch.setenv(datakey.KEY_ENV, base64.b64encode(bytes(range(64))).decode())
    spec = SPEC_BY_TABLE["household"]
    report = ImportReport("532329", False)
    source = Source("households.csv", data=CSV.encode())
    [rows] = list(parse_batches(source, spec, "532329", datetime(2026, 12, 1, tzinfo=UTC), Limits(), report))
    assert report.ok, report.to_text()
    writer = Writer(None, "532329")  # no connection: `ready` must not need one

    ready = writer.ready(spec, rows)

    generic = writer.db_rows(spec, rows)
    for db in generic:
        for column, stored in AS_STORED["household"].items():
            db[column] = stored()(db[column])
    expected = as_columns(generic)
    assert list(ready.values) == list(expected.values)
    assert ready.text == copy_text(expected, list(expected.values)).encode()  # as COPY sends it
    sealed = ready.values["id_number"]
    assert sealed[0].startswith("v1:") and datakey.decrypt_id_number(sealed[0]) == "532329199004045894"
    assert sealed[1] is None
    assert b"\\\\" in ready.text and b"\\t" in ready.text  # the backslash and the tab escaped
