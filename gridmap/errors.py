"""One error type for the core: a stable machine code, an HTTP status, a message to act on.

    raise BadInput(_("代码 %(code)s 格式不对", code=raw), field="region")

Every refusal the core makes is a `GridmapError`. It carries what each layer needs to say
no in its own form, so no layer guesses: the web renders `status`, `code` and the message
in the reader's language (a page, JSON, later an OGC API exception or an Open311 error
array); the command layer prints the message and maps `field` to its own flag. The core
never names a CLI flag or a URL. (As pygeoapi's errors carry their HTTP status.)

Messages are `Message`s: a zh-CN msgid and its parameters, translated when shown (see
gridmap/translations). Mark them with `_` from this module (`N_` where `_` is taken);
pybabel extracts them like the pages' strings, so the English catalog stays complete. Only
the standard library is used here: gridmap.devdb runs before any package is installed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping


class Message:
    """A user-facing text: a zh-CN msgid with %(name)s parameters, translated when shown."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, **params):
        self.msgid = msgid
        self.params = params

    def translate(self, gettext: Callable[[str], str]) -> str:
        """The text in the language `gettext` translates to, parameters filled in (parameters
        that are Messages, or tuples of them, are translated too)."""
        return _fill(gettext(self.msgid), self.params, gettext)

    def __str__(self) -> str:
        return _fill(self.msgid, self.params)

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, **{self.params!r})"

    def __eq__(self, other) -> bool:
        if isinstance(other, Message):
            return (self.msgid, self.params) == (other.msgid, other.params)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.msgid, tuple(sorted(self.params.items(), key=repr))))


def _fill(text: str, params: Mapping, gettext: Callable[[str], str] = str) -> str:
    if not params:
        return text
    return text % {name: _param(value, gettext) for name, value in params.items()}


def _param(value, gettext: Callable[[str], str]):
    if isinstance(value, Message):
        return value.translate(gettext)
    if isinstance(value, tuple) and all(isinstance(v, Message) for v in value):
        return " / ".join(v.translate(gettext) for v in value)
    return value


def _(msgid: str, **params) -> Message:
    """Mark a user-facing message of the core (pybabel extracts `_`); translated when shown."""
    return Message(msgid, **params)


# Texts the system itself writes into the data (a ledger's note): stored as their Chinese
# msgid, the record as it was made, and shown in the reader's language (`stored_text`).
SYSTEM_TEXTS: dict[str, Message] = {}


def system_text(message: Message) -> str:
    """`message` (a marked text without parameters) as the system stores it, known again when
    shown (gridmap.web.i18n's `|stored` filter)."""
    SYSTEM_TEXTS[message.msgid] = message
    return message.msgid


def stored_text(value: str | None) -> Message | str | None:
    """A stored text as shown: a system's own text as its message, anyone's else as written."""
    return SYSTEM_TEXTS.get(value, value) if isinstance(value, str) else value


# The same mark under the name pybabel also extracts by default, for modules where `_` is
# already Flask-Babel's gettext (the web layer): `from gridmap.errors import N_`. Any other
# alias (`message`, `msg`) hides the string from pybabel, and the English catalog misses it.
N_ = _


class GridmapError(Exception):
    """The base of every refusal: `code` for machines, `status` for HTTP, `message` for people.

    `field` names the input at fault in the core's words (`region`, `password`); each
    front end maps it to its own (a form field, a CLI flag).
    """

    code = "error"
    status = 400

    def __init__(self, message: Message | str, *, field: str | None = None,
                 code: str | None = None, status: int | None = None):
        self.message = message if isinstance(message, Message) else Message(message)
        self.field = field
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        super().__init__(str(self.message))

    def __str__(self) -> str:
        text = str(self.message)
        return f"{self.field}: {text}" if self.field else text


class BadInput(GridmapError):
    """Input that cannot be used as given: a malformed value, a file that breaks a rule."""

    code = "bad_input"
    status = 422


class NotFound(GridmapError):
    """Something named does not exist (or is outside the asker's scope: never say which)."""

    code = "not_found"
    status = 404


class Forbidden(GridmapError):
    """The asker's role or region does not allow this."""

    code = "forbidden"
    status = 403


class Conflict(GridmapError):
    """The request clashes with the current state: a refused transition, a stale version."""

    code = "conflict"
    status = 409


class TooLarge(GridmapError):
    """More than a request may ask for: narrow the scope, page, or split the file."""

    code = "too_large"
    status = 413


class ConfigurationError(GridmapError):
    """The deployment is set up wrongly (environment, settings, assets): for the operator."""

    code = "configuration"
    status = 500
