"""Metrics: the 三率 and case figures per unit, township, village or county over a period —
a page table (`metrics`), its CSV/XLSX download and the same as JSON (`metrics_api`).

Thin views over gridmap.metrics, scoped by the reader's scope; downloads go through
gridmap.exports.tabular (gridmap.web.downloads).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from gridmap import metrics
from gridmap.exports.tabular import Column
from gridmap.web.downloads import download
from gridmap.web.errors import answers_with, render_json
from gridmap.web.guard import current_scope, requires
from gridmap.web.openapi import declare, error_response
from gridmap.web.session import db_session

bp = Blueprint("metrics", __name__)
api_bp = answers_with(Blueprint("metrics_api", __name__), render_json)
GROUP_LABELS = {"county": _l("全县"), "township": _l("乡镇"), "village": _l("村（社区）"),
                "unit": _l("承办单位")}
# (key, label, kind): the table's and the download's columns, in order.
COLUMNS = (
    ("reported", _l("上报数"), "count"), ("valid_callbacks", _l("有效回访"), "count"),
    ("response_rate", _l("响应率"), "rate"), ("resolution_rate", _l("解决率"), "rate"),
    ("satisfaction_rate", _l("满意率"), "rate"), ("composite", _l("综合得分"), "rate"),
    ("on_time_triage_rate", _l("按期受理率"), "rate"), ("due_to_close", _l("应结案"), "count"),
    ("closed", _l("已结案"), "count"), ("closing_rate", _l("结案率"), "rate"),
    ("on_time_closing_rate", _l("按期结案率"), "rate"), ("rework_rate", _l("返工率"), "rate"),
    ("overdue", _l("超期未办"), "count"), ("village_share", _l("村级办结占比"), "rate"),
    ("extension_rate", _l("延期率"), "rate"), ("supervisions", _l("督办次数"), "count"),
    ("reminders", _l("催办次数"), "count"),
    ("median_hours_to_acknowledge", _l("签收用时中位数（小时）"), "hours"),
    ("median_hours_in_progress", _l("处置用时中位数（小时）"), "hours"),
)


# OpenAPI 3.0 path items of the JSON route (`metrics_api`); tests/web/test_openapi_paths.py.
OPENAPI_PATHS = {
    "/api/metrics": {"get": {
        "summary": "三率 and case figures per group over a period (issues reported in it)",
        "parameters": [
            {"name": "by", "in": "query", "schema": {"type": "string", "enum": list(metrics.GROUPINGS)}},
            {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
            {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}}],
        "responses": {
            "200": {"description": "one row per group; rates null when nothing to divide by",
                    "content": {"application/json": {"schema": {"type": "object", "properties": {
                        "by": {"type": "string"}, "start": {"type": "string", "nullable": True},
                        "end": {"type": "string", "nullable": True},
                        "rows": {"type": "array", "items": {"type": "object", "properties": {
                            "key": {"type": "string", "nullable": True}, "name": {"type": "string", "nullable": True},
                            **{name: {"type": "integer"} for name in metrics.COUNTS},
                            **{name: {"type": "number", "nullable": True} for name in metrics.RATES}}}}}}}}},
            "422": error_response("a bad parameter, named in `field`")}}},
}
declare(api_bp, OPENAPI_PATHS)


def _figures():
    """(by, period, rows as dicts) of the request's `by`, `from` and `to`."""
    by = request.args.get("by") or "township"
    period = metrics.Period.parse(request.args.get("from"), request.args.get("to"))
    rows = metrics.compute(db_session(), current_scope(), by, period)
    return by, period, [row.as_dict() for row in rows]


def _private(response):
    response = make_response(response)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/metrics", endpoint="table")
@requires("view_metrics")
def table_page():
    """The figures per group as a table, with the period and grouping as a form."""
    by, period, rows = _figures()
    return _private(render_template(
        "metrics/table.html", by=by, period=period, rows=rows, columns=COLUMNS,
        groups=GROUP_LABELS, query=request.args.to_dict()))


@bp.route("/metrics.<any(csv, xlsx):fmt>", endpoint="download")
@requires("export_aggregate")
def download_table(fmt: str):
    """The same table as a CSV or XLSX file (rates as fractions, hours as numbers)."""
    by, period, rows = _figures()
    columns = [Column("key", "代码", "code"), Column("name", "名称", "text")] + [
        Column(key, str(label)) for key, label, _kind in COLUMNS]
    stem = f"{current_user.county_code}_指标_{GROUP_LABELS[by]}_{period.start or ''}_{period.end or ''}"
    return download(fmt, stem, columns, rows)


@api_bp.route("/api/metrics", endpoint="figures")
@requires("view_metrics")
def figures_json():
    """`?by=township|village|unit|county&from=2026-11-01&to=2026-11-30` → the figures per group."""
    by, period, rows = _figures()
    return _private(jsonify(by=by, start=period.start and period.start.isoformat(),
                            end=period.end and period.end.isoformat(), rows=rows))
