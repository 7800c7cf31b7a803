"""Imported 回访 of a registered household's report are callback visits too, as online."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from gridmap.demo.load import load_demo
from gridmap.importers.core import import_files
from gridmap.importers.sources import Source

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(engine):
    with engine.connect() as connection:
        transaction = connection.begin()
        report = load_demo(connection, now=NOW)
        assert report.committed, report.to_text()
        yield connection
        transaction.rollback()


def rows(connection, sql, **params):
    return connection.execute(text(sql), params).all()


def test_every_demo_callback_of_a_household_is_linked_to_its_callback_visit(demo):
    linked = rows(demo, """
        SELECT c.reached, v.id IS NOT NULL, v.kind, v.issue_id = c.issue_id,
               v.household_id = i.household_id, v.satisfaction IS NOT DISTINCT FROM c.satisfaction
        FROM callback c JOIN issue i ON i.id = c.issue_id
        LEFT JOIN visit v ON v.id = c.visit_id
        WHERE i.household_id IS NOT NULL""")
    assert len(linked) > 200 and any(not r[0] for r in linked)  # unreached attempts too
    assert all(r[1:] == (True, "callback", True, True, True) for r in linked), linked[:5]
    assert rows(demo, "SELECT count(*) FROM callback c JOIN issue i ON i.id = c.issue_id"
                      " WHERE i.household_id IS NULL AND c.visit_id IS NOT NULL") == [(0,)]
    assert rows(demo, "SELECT count(*) FROM (SELECT visit_id FROM callback WHERE visit_id IS NOT"
                      " NULL GROUP BY visit_id HAVING count(*) > 1) twice") == [(0,)]


ISSUE = ("code,title,category,village_code,household_code,real_name,status,level,"
         "responsible_unit_code,reported_at,satisfaction\n"
         "IMP0001,房屋漏雨,{category},{village},{household},false,closed,village,{village}V,"
         "-P10D,satisfied\n")
EVENTS = ("issue_code,seq,action,from_status,to_status,at,level,unit_code,note\n"
          "IMP0001,1,report,,reported,-P10D,village,,\n"
          "IMP0001,2,triage,reported,triaged,-P9D,village,{village}V,\n"
          "IMP0001,3,acknowledge,triaged,in_progress,-P8D,village,{village}V,\n"
          "IMP0001,4,handle,in_progress,handled,-P6D,village,{village}V,已修好\n"
          "IMP0001,5,feed_back,handled,feedback,-P4D,village,{village}V,\n"
          "IMP0001,6,close,feedback,closed,-P3D,village,{village}V,\n")
CALLBACKS = ("issue_code,seq,channel,reached,contacted_in_time,solved,satisfaction,"
             "unreached_reason,at\n"
             "IMP0001,1,phone,false,,,,电话无人接听,-P5D\n"
             "IMP0001,2,visit,true,true,true,satisfied,,-P4D\n")


def test_an_imported_callback_without_a_visit_gets_one_and_a_re_import_adds_none(demo):
    household, village = rows(demo, "SELECT id, village_code FROM household"
                                    " WHERE village_code IS NOT NULL ORDER BY id LIMIT 1")[0]
    household_code = rows(demo, "SELECT code FROM household WHERE id = :h", h=household)[0][0]
    category = rows(demo, "SELECT code FROM issue_category ORDER BY code LIMIT 1")[0][0]
    values = {"village": village, "household": household_code, "category": category}
    sources = [Source("issues.csv", ISSUE.format(**values).encode()),
               Source("issue_events.csv", EVENTS.format(**values).encode()),
               Source("callbacks.csv", CALLBACKS.encode())]
    before = rows(demo, "SELECT count(*) FROM visit")[0][0]
    report = import_files(demo, sources, "532329", commit=True, now=NOW)
    assert report.committed, report.to_text()
    visits = rows(demo, """
        SELECT c.reached, v.kind, v.household_id, v.satisfaction, v.notes, v.visited_at = c.at
        FROM callback c JOIN visit v ON v.id = c.visit_id
        JOIN issue i ON i.id = c.issue_id WHERE i.code = 'IMP0001' ORDER BY c.at""")
    assert visits == [(False, "callback", household, None, "电话无人接听", True),
                      (True, "callback", household, "satisfied", None, True)]
    assert rows(demo, "SELECT count(*) FROM visit")[0][0] == before + 2
    again = import_files(demo, sources, "532329", commit=True, now=NOW)
    assert again.committed, again.to_text()
    assert rows(demo, "SELECT count(*) FROM visit")[0][0] == before + 2
