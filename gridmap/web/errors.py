"""How the web layer says no: one page (or JSON under /api/) with a message a person can act on.

Also the door check every request passes: text with NUL characters is refused here, once,
instead of failing deep in the database driver with a 500.
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException


def refusal(status: int, error: str, message: str):
    """The response refusing this request: JSON for /api/, the error page otherwise."""
    if request.path.startswith("/api/"):
        return jsonify(error=error, message=message), status
    return render_template("error.html", message=message), status


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: ("bad_request", _("请求内容无法识别，请返回、刷新页面后重试。")),
        404: ("not_found", _("没有这个页面。请从首页重新进入。")),
        405: ("method_not_allowed", _("不能这样访问此地址。请从首页重新进入。")),
        413: ("too_large", _("提交的内容太大。请缩小文件或分批上传后重试。")),
        500: ("server_error", _("系统出错了，已记录。请稍后重试；如一直出现，请联系本县管理员。")),
    }


def _has_nul(values) -> str | None:
    for key, value in values.items(multi=True):
        if "\x00" in key or "\x00" in value:
            return key.replace("\x00", "")
    return None


def init_app(app: Flask) -> None:
    @app.before_request
    def _refuse_nul_characters():
        field = _has_nul(request.args) or (_has_nul(request.form) if request.form else None)
        if field is not None:
            return refusal(400, "bad_request", _(
                "字段 %(field)s 含有不可见的空字符（NUL），请删除后重新输入。", field=field))
        return None

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        name, message = _messages().get(status, (error.name.lower().replace(" ", "_"),
                                                 error.description or ""))
        return refusal(status, name, message)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        name, message = _messages()[500]
        return refusal(500, name, message)
