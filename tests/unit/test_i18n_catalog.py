"""The English catalog covers every string of the UI, and holds nothing else.

Strings are extracted from gridmap/ the way gridmap/translations/babel.cfg says, so a new
`_()` without an English translation fails here rather than showing Chinese in the English UI.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from gridmap.web.i18n import DEFAULT_LOCALE, LOCALES

PACKAGE = Path(__file__).resolve().parents[2] / "gridmap"
TRANSLATIONS = PACKAGE / "translations"
# The same keywords as the `pybabel extract` command in babel.cfg (flask_babel's lazy forms).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2),
            "lazy_pgettext": ((1, "c"), 2)}
# Counter words (量词) on their own: the phrase around them is what needs translating.
COUNTER_WORDS = set("个户人件次名条张项处位座间天所")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdifr]|\{\w*\}")


def _key(msgid, context) -> tuple:
    return (msgid[0] if isinstance(msgid, tuple) else msgid, context)


@pytest.fixture(scope="module")
def source_messages() -> dict[tuple, list[str]]:
    """(msgid, context) → where it is used, for every translatable string under gridmap/."""
    with (TRANSLATIONS / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[tuple, list[str]] = {}
    for filename, lineno, msgid, _comments, context in extract_from_dir(
            PACKAGE, method_map, options_map, keywords=KEYWORDS):
        found.setdefault(_key(msgid, context), []).append(f"gridmap/{filename}:{lineno}")
    return found


@pytest.fixture(scope="module", params=[lc for lc in LOCALES if lc != DEFAULT_LOCALE])
def catalog(request):
    """Each translated locale's catalog (English today); Chinese is the message ids."""
    with (TRANSLATIONS / request.param / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=request.param)


def test_every_string_of_the_source_is_in_the_catalog(source_messages, catalog):
    in_catalog = {_key(m.id, m.context) for m in catalog if m.id}
    missing = [f"{msgid!r} ({', '.join(where)})"
               for (msgid, _context), where in source_messages.items()
               if (msgid, _context) not in in_catalog]
    assert not missing, ("not in the catalog; run the pybabel commands in "
                         "gridmap/translations/babel.cfg and translate:\n" + "\n".join(missing))


def test_every_entry_is_translated_and_checked(catalog):
    unfinished = [f"{m.id!r}{' (fuzzy)' if m.fuzzy else ''}" for m in catalog
                  if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple)
                                                  else (m.string,)))]
    assert not unfinished, f"untranslated or fuzzy in {catalog.locale}:\n" + "\n".join(unfinished)


def test_translations_keep_every_placeholder(catalog):
    # Stricter than Babel's own check, which lets a translation drop a placeholder: a
    # dropped %(n)s is a number missing from the page (static/map.js fills it in too).
    problems = [f"{m.id!r}: {'; '.join(map(str, errors))}" for m, errors in catalog.check()]
    for m in catalog:
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set(PLACEHOLDER.findall(ids[0]))
        problems += [f"{m.id!r} → {text!r}" for text in strings
                     if m.id and text and set(PLACEHOLDER.findall(text)) != wanted]
    assert not problems, "placeholders differ:\n" + "\n".join(problems)


def test_the_catalog_holds_no_obsolete_entries(source_messages, catalog):
    left_over = [repr(m.id) for m in catalog if m.id and _key(m.id, m.context) not in source_messages]
    left_over += [f"{m.id!r} (#~)" for m in catalog.obsolete.values()]
    assert not left_over, ("no longer in the source; update with --ignore-obsolete "
                           "(see babel.cfg):\n" + "\n".join(left_over))


def test_no_message_is_a_bare_counter_word(source_messages):
    bare = [f"{msgid!r} ({', '.join(where)})" for (msgid, _context), where in source_messages.items()
            if msgid.strip() in COUNTER_WORDS]
    assert not bare, "translate the whole phrase, e.g. _('%(n)s 户', n=count):\n" + "\n".join(bare)


def test_no_translation_holds_template_syntax(catalog):
    """Translations reach Folium's layer switch, which branca re-renders as Jinja."""
    from gridmap.maps.county import TemplateTextError, template_inert

    bad = []
    for message in catalog:
        for text in ([message.string] if isinstance(message.string, str) else message.string):
            try:
                template_inert(text or "")
            except TemplateTextError:
                bad.append(message.id)
    assert not bad, bad


def test_core_messages_are_marked_by_a_name_pybabel_extracts():
    """`from gridmap.errors import _ as message` hides every `message(...)` from pybabel (its
    strings never reach the catalog): the web layer imports the mark as `N_`."""
    alias = re.compile(r"^\s*from gridmap\.errors import .*\b_ as (\w+)", re.MULTILINE)
    hidden = [f"{path.relative_to(PACKAGE.parent)}: {name}" for path in PACKAGE.rglob("*.py")
              for name in alias.findall(path.read_text(encoding="utf-8")) if name not in KEYWORDS]
    assert not hidden, "import gridmap.errors.N_ instead:\n" + "\n".join(hidden)


def _formats(text: str) -> bool:
    """Whether `text` survives `text % variables` with its own named placeholders."""
    try:
        text % {name: 1 for name in re.findall(r"%\((\w+)\)", text)}
    except (TypeError, ValueError, KeyError):
        return False
    return True


def test_template_strings_survive_jinja_formatting_them(source_messages, catalog):
    # Jinja's gettext formats every string of a template with %, variables or not, so a bare
    # "%" ("used 80% of its time") raised on the English page: "%%" or words, never a lone %.
    in_templates = {key for key, where in source_messages.items()
                    if any(".html:" in place for place in where)}
    broken = [f"{m.id!r} → {m.string!r}" for m in catalog
              if m.id and _key(m.id, m.context) in in_templates
              and not all(_formats(text) for text in (
                  *(m.id if isinstance(m.id, tuple) else (m.id,)),
                  *(m.string if isinstance(m.string, tuple) else (m.string,))) if text)]
    assert not broken, "a lone % in a template's string:\n" + "\n".join(broken)
