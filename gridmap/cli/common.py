"""What every command shares: the database, one transaction per command, messages.

`transaction()` opens the session commands work in: the Flask app's when there is one (so
tests can bind it to a rolled-back connection), else one on `Config.database_url_from_env()`.
A `GridmapError` raised inside becomes a `click.ClickException` naming the command's own
flag for the core's `field` (`region` → `--region`), printed in the CLI's language
(`GRIDMAP_LOCALE`, zh_CN by default; `en` for English).
"""

from __future__ import annotations

import contextlib
import os
import sys

import click

from gridmap.errors import GridmapError, Message

CLI_LOCALE = "GRIDMAP_LOCALE"


def gettext():
    """The CLI language's gettext, or None for Chinese (the msgids themselves)."""
    locale = os.environ.get(CLI_LOCALE, "zh_CN")
    if locale.startswith("zh"):
        return None
    from babel.support import Translations

    from gridmap.web.i18n import compile_catalogs

    return Translations.load(str(compile_catalogs()), [locale]).gettext


def translate(message: Message | str) -> str:
    """A core message in the CLI's language."""
    if not isinstance(message, Message):
        return message
    catalog = gettext()
    return str(message) if catalog is None else message.translate(catalog)


def refused(error: GridmapError, flags: dict[str, str] | None = None) -> click.ClickException:
    """The click error saying what the core refused, under the command's name for the field."""
    text = translate(error.message)
    if error.field:
        text = f"{(flags or {}).get(error.field, error.field)}: {text}"
    return click.ClickException(text)


def database_url() -> str:
    """The database URL in use (the one way: gridmap.config.Config)."""
    from gridmap.config import Config

    try:
        return Config.database_url_from_env()
    except GridmapError as exc:
        raise refused(exc) from exc


@contextlib.contextmanager
def transaction(flags: dict[str, str] | None = None):
    """A session in one transaction: committed when the block ends, rolled back on error.

    Core refusals become CLI errors naming the command's flags.
    """
    from flask import current_app, has_app_context

    if has_app_context():
        make_session = current_app.extensions["gridmap.sessionmaker"]
        engine = None
    else:
        from gridmap.db import make_engine, make_sessionmaker

        engine = make_engine(database_url())
        make_session = make_sessionmaker(engine)
    try:
        with make_session() as session, session.begin():
            yield session
    except GridmapError as exc:
        raise refused(exc, flags) from exc
    finally:
        if engine is not None:
            engine.dispose()


def operator() -> str:
    """Who runs this command, as the audit log names them: `cli:` and the system user."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a container, say)
        return f"cli:uid{os.getuid()}"


def password_from_stdin(password_stdin: bool) -> str:
    """The first line of stdin, when --password-stdin was given (never an argument)."""
    if not password_stdin:
        raise click.UsageError("give --password-stdin and pipe the password in, "
                               "e.g. `printf '%s\\n' \"$PW\" | gridmap users create ...`")
    return sys.stdin.readline().rstrip("\r\n")
