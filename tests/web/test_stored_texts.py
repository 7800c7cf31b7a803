"""Texts the system writes into the ledgers (an escalation's note, an imported target's
evidence) are kept as made, in Chinese, and shown in the reader's language; anything a
person wrote is shown as written, escaped."""

from __future__ import annotations

import pytest
from flask import render_template_string

from gridmap.importers.writers import IMPORTED_EVIDENCE
from gridmap.issues import ESCALATE_NOTE

SHOWN = "{{ note|stored }}"


@pytest.mark.parametrize(("lang", "stored", "shown"), [
    ("zh_CN", ESCALATE_NOTE, "逾期未办，系统自动上交"),
    ("en", ESCALATE_NOTE, "Overdue: passed up a level by the system"),
    ("en", IMPORTED_EVIDENCE, "As recorded in the imported ledger"),
    ("en", "已电话联系，下周处理", "已电话联系，下周处理"),  # a person's note: as written
    ("en", "<b>{{ 7*7 }}</b>", "&lt;b&gt;{{ 7*7 }}&lt;/b&gt;"),  # data, never markup or a template
])
def test_a_stored_note_is_shown_in_the_readers_language_when_the_system_wrote_it(app, lang, stored, shown):
    with app.test_request_context("/", headers={"Cookie": f"lang={lang}"}):
        assert render_template_string(SHOWN, note=stored) == shown
