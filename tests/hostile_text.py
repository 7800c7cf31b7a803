"""Hostile strings every feature's tests reuse: template syntax, markup, bidi, length.

Text stored by users (names from imported files, notes typed on a tablet) is data, never
code: not a template (branca re-renders Folium output as Jinja), not HTML, not SQL.
Extend the list when a new way to smuggle code is found; every test using it gains it.
"""

from __future__ import annotations

import re

EVALUATES_TO = "1337"  # what `{{ 7*191 }}` becomes if a template engine runs it
HOSTILE_STRINGS = (
    "{{ 7*191 }}",                        # Jinja expression: must show literally
    "{% if true %}x{% endif %}",          # Jinja block
    "第1网格{#备注",                       # an unclosed Jinja comment: a 500 if compiled
    "{{ lipsum.__globals__ }}",           # the road to os.popen
    "</script><script>alert(1)</script>",  # leaving an inline script
    "<img src=x onerror=alert(1)>",        # markup with a handler
    "\u202e右到左\u200f",                  # right-to-left override and mark
    "'; DROP TABLE grid; --",             # SQL, for the sake of completeness
    "名" * 2000,                           # a 2,000-character name
)


def hostile_text(max_length: int | None = None) -> str:
    """All hostile strings in one text (the most telling first), cut to `max_length`."""
    text = " | ".join(HOSTILE_STRINGS)
    return text if max_length is None else text[:max_length]


def evaluated(body: str) -> bool:
    """Did a template engine evaluate our text? Looks for 1337 outside decimal numbers."""
    for literal in HOSTILE_STRINGS:
        body = body.replace(literal, "")
    body = re.sub(r"\d+\.\d+", "", body)  # coordinates such as 25.61337
    return EVALUATES_TO in body
