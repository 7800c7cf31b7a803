"""Flask-Babel wiring: zh_CN by default, English available.

The locale is the signed-in user's `app_user.locale`, else the `lang` cookie set by
the language switch, else zh_CN. The browser's Accept-Language is deliberately not
used: counties want Chinese unless someone asks otherwise.

Message ids are the Chinese texts; gridmap/translations/en holds the English catalog.
Only .po files are committed: each is compiled to .mo when the app is made, if the .mo
is missing or older (see translations/babel.cfg for extracting new strings).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import has_request_context, request
from flask_babel import Babel, get_locale
from markupsafe import Markup

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LOCALE_COOKIE = "lang"
LOCALE_COOKIE_AGE = 365 * 24 * 3600
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def select_locale() -> str:
    """The request's locale: the account's, else the `lang` cookie, else zh_CN."""
    if not has_request_context():
        return DEFAULT_LOCALE
    from flask_login import current_user

    user_locale = getattr(current_user, "locale", None) if current_user else None
    if user_locale in LOCALES:
        return user_locale
    cookie = request.cookies.get(LOCALE_COOKIE)
    return cookie if cookie in LOCALES else DEFAULT_LOCALE


def _compile(po: Path, mo: Path) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f, locale=po.parent.parent.name)
    mo.parent.mkdir(parents=True, exist_ok=True)
    partial = mo.with_name(f"{mo.name}.{os.getpid()}.tmp")
    with partial.open("wb") as f:
        write_mo(f, catalog)
    os.replace(partial, mo)  # atomic: two workers compiling at once both end well


def compile_catalogs(source: Path = TRANSLATIONS) -> Path:
    """Compile stale catalogs; returns the directory holding the .mo files.

    Next to the .po files when writable, else in a per-user temporary directory.
    """
    targets = (source, Path(tempfile.gettempdir()) / f"gridmap-translations-{os.getuid()}")
    for target in targets:
        try:
            for po in source.glob("*/LC_MESSAGES/*.po"):
                mo = target / po.relative_to(source).with_suffix(".mo")
                if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
                    _compile(po, mo)
            return target
        except OSError:
            continue
    return source


def init_app(app) -> None:
    """Flask-Babel with catalogs compiled when stale."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compile_catalogs())
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(get_locale=get_locale, LOCALES=LOCALES)
    # `{{ label|say }}`: a core message (gridmap.errors.Message) in the reader's language.
    from gridmap.errors import stored_text
    from gridmap.web.errors import text_of
    app.jinja_env.filters["say"] = text_of
    app.jinja_env.globals["colon"] = colon
    app.jinja_env.globals["comma"] = comma
    app.jinja_env.globals["semicolon"] = semicolon
    app.jinja_env.filters["aside"] = aside
    # `{{ note|stored }}`: a stored text, the system's own notes in the reader's language.
    app.jinja_env.filters["stored"] = lambda value: text_of(stored_text(value))


def _chinese() -> bool:
    return str(get_locale() or DEFAULT_LOCALE).startswith("zh")


def colon() -> str:
    """`{{ colon() }}` between a label and its value: full-width in Chinese, ": " in English."""
    return "：" if _chinese() else ": "


def comma() -> str:
    """Between the items of a list: 、 in Chinese, ", " in English."""
    return "、" if _chinese() else ", "


def semicolon() -> str:
    """Between clauses: ； in Chinese, "; " in English."""
    return "；" if _chinese() else "; "


def aside(value) -> Markup:
    """`{{ x|aside }}`: `x` in brackets after what it qualifies — （x） in Chinese, " (x)" in
    English (the value escaped)."""
    return Markup("（{}）" if _chinese() else " ({})").format(value)


def gettext_for(locale: str):
    """The gettext of `locale` outside any request (a background import's report)."""
    from babel.support import Translations

    if locale == DEFAULT_LOCALE or locale not in LOCALES:
        return None  # the message ids are the Chinese texts
    return Translations.load(str(compile_catalogs()), [locale]).gettext
