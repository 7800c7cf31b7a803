"""How the web layer says no: one handler per kind of error, rendered in the blueprint's form.

A core refusal is a `gridmap.errors.GridmapError` (status, code, message); Werkzeug's HTTP
errors (404, 405, 413 …) are turned into the same three things. Each blueprint says once
how it answers (`error_renderer`: a page by default; JSON for the layer endpoints; later
an OGC API exception or an Open311 error array), so nothing here looks at the URL.

Also the door check every request passes: text with NUL characters is refused here, once,
instead of failing deep in the database driver with a 500.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask_babel import gettext
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, SecurityError

from gridmap.errors import GridmapError, Message, _

ACCEPTS_FILES = "gridmap_accepts_files"
# SQLSTATE of a statement PostgreSQL stopped (statement_timeout, or a cancel).
QUERY_CANCELED = "57014"
# (status, code, message text, field) -> response
Renderer = Callable[[int, str, str, "str | None"], object]


def render_page(status: int, code: str, message: str, field: str | None = None):
    """The error page: the message, and a way back home."""
    return render_template("errors/error.html", message=message), status


def render_json(status: int, code: str, message: str, field: str | None = None):
    """`{"error": code, "message": …, "field": …}` with the status."""
    body = {"error": code, "message": message}
    if field:
        body["field"] = field
    return jsonify(body), status


def accepts_files(view):
    """Mark a view that takes file uploads; every other view refuses file parts (400)."""
    setattr(view, ACCEPTS_FILES, True)
    return view


def answers_with(blueprint: Blueprint, renderer: Renderer) -> Blueprint:
    """Declare how `blueprint` renders errors (pages are the default)."""
    blueprint.error_renderer = renderer
    return blueprint


def _renderer() -> Renderer:
    blueprint = current_app.blueprints.get(request.blueprint or "")
    return getattr(blueprint, "error_renderer", render_page)


def renders_json() -> bool:
    """Whether this request's blueprint answers in JSON (so a refusal is not a page)."""
    return _renderer() is not render_page


def text_of(message: Message | str) -> str:
    """A core message in the reader's language."""
    return message.translate(gettext) if isinstance(message, Message) else message


def answer(status: int, code: str, message: Message | str, field: str | None = None):
    """The response refusing this request, in the form its blueprint declared."""
    return _renderer()(status, code, text_of(message), field)


def _http_messages() -> dict[int, tuple[str, Message]]:
    return {
        400: ("bad_request", _("请求内容无法识别，请返回、刷新页面后重试。")),
        404: ("not_found", _("没有这个页面。请从首页重新进入。")),
        405: ("method_not_allowed", _("不能这样访问此地址。请从首页重新进入。")),
        413: ("too_large", _("提交的内容太大（上限 %(limit)s）。请缩小文件或分批上传后重试。",
                             limit=_limit())),
        500: ("server_error", _("系统出错了，已记录。请稍后重试；如一直出现，请联系本县管理员。")),
    }


def _limit() -> str:
    """The request size limit as people read it (`32 MB`)."""
    from gridmap.importers.uploads import megabytes

    limit = request.max_content_length if request else None
    return megabytes(limit) if limit else "—"


def _has_nul(values) -> str | None:
    for key, value in values.items(multi=True):
        if "\x00" in key or "\x00" in value:
            return key.replace("\x00", "")
    return None


def _unstorable(text: str) -> bool:
    # NUL, or a lone surrogate (valid JSON "\\ud800", not UTF-8): PostgreSQL stores neither
    return "\x00" in text or any("\ud800" <= c <= "\udfff" for c in text)


def _json_unstorable(value, name: str = "body") -> str | None:
    """The first field of a JSON body holding text the database cannot store, if any."""
    if isinstance(value, str):
        return name if _unstorable(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            if _unstorable(key_text):
                return name
            found = _json_unstorable(item, key_text if name == "body" else name)
            if found:
                return found
    if isinstance(value, list):
        for item in value:
            found = _json_unstorable(item, name)
            if found:
                return found
    return None


def init_app(app: Flask) -> None:
    """The NUL check at the door and the error handlers."""
    @app.before_request
    def _refuse_nul_characters():
        field = _has_nul(request.args) or (_has_nul(request.form) if request.form else None)
        if field is None and request.is_json:
            field = _json_unstorable(request.get_json(silent=True))
            if field is not None:
                return answer(400, "bad_request", _(
                    "字段 %(field)s 含有无法保存的字符（空字符或不成对的代理字符），请删除后重新输入。",
                    field=field), field)
        if field is not None:
            return answer(400, "bad_request", _(
                "字段 %(field)s 含有不可见的空字符（NUL），请删除后重新输入。", field=field), field)
        return None

    @app.before_request
    def _refuse_unexpected_files():
        # A file part named like a form field would reach the form as a file object.
        view = app.view_functions.get(request.endpoint or "")
        if request.files and not getattr(view, ACCEPTS_FILES, False):
            return answer(400, "bad_request", _("此处不接受上传文件。请返回、刷新页面后重试。"))
        return None

    @app.errorhandler(SecurityError)
    def _untrusted_host(error: SecurityError):
        # Raised before routing (untrusted Host): no page can be built, so plain text.
        return Response("400 Bad Request: this host name is not served here\n", 400,
                        mimetype="text/plain")

    @app.errorhandler(GridmapError)
    def _refused(error: GridmapError):
        if error.status >= 500:  # a deployment or programming error: log it, say little
            app.logger.error("%s on %s %s: %s", type(error).__name__, request.method,
                             request.path, error)
            code, message = _http_messages()[500]
            return answer(500, code, message)
        response = make_response(answer(error.status, error.code, error.message, error.field))
        retry_after = getattr(error, "retry_after", None)
        if retry_after:  # a throttle's refusal says when to come back (RFC 9110 §10.2.3)
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        code, message = _http_messages().get(
            status, (error.name.lower().replace(" ", "_"), error.description or ""))
        return answer(status, code, message)

    @app.errorhandler(OperationalError)
    def _database_stopped(error: OperationalError):
        if getattr(error.orig, "pgcode", None) != QUERY_CANCELED:
            return _unexpected(error)
        # The statement timeout (gridmap.db) stopped this request's query: a fault to look
        # into, and for the user a clear "narrow it down", not "something went wrong".
        app.logger.error("statement timeout on %s %s: %s", request.method, request.path,
                         str(error.orig).strip().splitlines()[0])
        return answer(503, "query_timeout", _(
            "这次查询超过 %(seconds)s 秒仍未完成，已停止（可能有大批导入正在写入）。请稍后重试，"
            "或缩小范围（选一个乡镇或村、缩短时间段）；如一直出现，请联系本县管理员。",
            seconds=app.config["GRIDMAP_STATEMENT_TIMEOUT"]))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        code, message = _http_messages()[500]
        return answer(500, code, message)
