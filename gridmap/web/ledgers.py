"""Follow-through ledgers: 挂牌 targets and their close-out, meetings, deeds done, the 民情日记,
结对帮扶, and the county dashboard / bulletin (通报) — pages (`ledgers`) and JSON
(`ledgers_api`, with the 挂牌 map layer).

Thin views over gridmap.targets, gridmap.ledgers and gridmap.dashboard: every change is one
core call and a commit; what a page shows is scoped by the reader (policy.Scope).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from gridmap import campaigns, categories, dashboard, ledgers, targets
from gridmap.errors import N_, BadInput
from gridmap.exports.tabular import Column
from gridmap.models import Cadre, PartyBranch, Region, Unit
from gridmap.web.downloads import download
from gridmap.web.errors import answers_with, render_json, text_of
from gridmap.web.forms import attempt, attempt_or_flash, refusal
from gridmap.web.forms import status as form_status
from gridmap.web.guard import can, current_scope, requires
from gridmap.web.maps import for_display, geojson_response
from gridmap.web.openapi import ROW_ID, declare, json_request
from gridmap.web.session import db_session

bp = Blueprint("ledgers", __name__)
api_bp = answers_with(Blueprint("ledgers_api", __name__), render_json)

TARGET_FIELDS = ("kind", "party_branch", "region", "grid", "reason", "plan", "liaison",
                 "helping_unit", "due_on", "milestones")
MEETING_FIELDS = ("kind", "region", "held_at", "place", "lon", "lat", "organiser", "attendance",
                  "topics")
DEED_FIELDS = ("title", "detail", "region", "household_id", "cadre", "unit", "cost_yuan",
               "done_on", "issue_id", "visit_id")
ISSUE_FIELDS = ("title", "category", "description", "urgency", "village_code", "grid_code",
                "real_name", "reporter_name", "reporter_phone")
CAMPAIGN_FIELDS = ("name", "region", "rule", "starts_on", "due_on")
TARGET_ACTIONS = ("note", "milestone", "request_close", "approve_close", "refuse_close", "review",
                  "reopen")

_ERROR = {"description": "refused", "content": {"application/json": {"schema": {
    "type": "object", "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                   "field": {"type": "string"}}}}}}
_FIELD_TYPES = {"attendance": "integer", "lon": "number", "lat": "number", "cost_yuan": "number",
                "household_id": "integer", "issue_id": "integer", "visit_id": "integer"}
_TARGET_ID = {"name": "target_id", "in": "path", "required": True, "schema": ROW_ID}
_PERIOD = [{"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
           {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}}]


def _ok(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_TARGET = {"type": "object", "required": ["id", "status", "version"], "properties": {
    "id": {"type": "integer"}, "status": {"type": "string"}, "version": {"type": "integer"},
    "due_on": {"type": "string", "format": "date"}}}
OPENAPI_PATHS = {
    "/api/targets": {
        "get": {"summary": "挂牌 targets of the user's region, overdue first",
                "responses": {"200": _ok("the targets", {"type": "object", "properties": {
                    "targets": {"type": "array", "items": {"type": "object"}}}})}},
        "post": {"summary": "Tag a target (挂牌)",
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["kind", "reason", "due_on"],
                     "properties": {name: {"type": "string"} for name in TARGET_FIELDS}}}}},
                 "responses": {"201": _ok("the new target", {"type": "object", "properties": {
                     "target": _TARGET}}), "404": _ERROR, "409": _ERROR, "422": _ERROR}}},
    "/api/targets/{target_id}/actions": {
        "post": {"summary": "A step of a target: note, milestone, request/approve/refuse 销号, "
                            "review (回头看), reopen", "parameters": [_TARGET_ID],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["action", "version"], "properties": {
                         "action": {"type": "string", "enum": list(TARGET_ACTIONS)},
                         "version": {"type": "integer"}, "note": {"type": "string"},
                         "evidence": {"type": "string"}, "milestone": {"type": "integer"},
                         "due_on": {"type": "string", "format": "date"}}}}}},
                 "responses": {"200": _ok("the target after it", {"type": "object", "properties": {
                     "target": _TARGET}}), "403": _ERROR, "404": _ERROR, "409": _ERROR,
                     "422": _ERROR}}},
    "/map/targets.geojson": {
        "get": {"summary": "The 挂牌 map layer: targets by state, overdue flagged",
                "responses": {"200": {"description": "a GeoJSON FeatureCollection",
                                      "content": {"application/geo+json": {"schema": {
                                          "type": "object"}}}},
                              "304": {"description": "the client's copy (If-None-Match) is"
                                                     " current"}}}},
    "/api/meetings": {
        "post": {"summary": "Record a meeting held (民情恳谈会 …)",
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["attendance", "topics"],
                     "properties": {name: {"type": _FIELD_TYPES.get(name, "string")}
                                    for name in MEETING_FIELDS}}}}},
                 "responses": {"201": _ok("the meeting's id", {"type": "object", "properties": {
                     "id": {"type": "integer"}}}), "404": _ERROR, "422": _ERROR}}},
    "/api/deeds": {
        "post": {"summary": "Record a deed done for residents (办实事)",
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["title"],
                     "properties": {name: {"type": _FIELD_TYPES.get(name, "string")}
                                    for name in DEED_FIELDS}}}}},
                 "responses": {"201": _ok("the deed's id", {"type": "object", "properties": {
                     "id": {"type": "integer"}}}), "404": _ERROR, "422": _ERROR}}},
    "/api/dashboard": {
        "get": {"summary": "The dashboard's figures for the user's region and a period, with the "
                           "previous period and the ranking", "parameters": _PERIOD,
                "responses": {"200": _ok("figures", {"type": "object", "properties": {
                    "start": {"type": "string"}, "end": {"type": "string"},
                    "figures": {"type": "array", "items": {"type": "object", "properties": {
                        "key": {"type": "string"}, "value": {"type": "number", "nullable": True},
                        "previous": {"type": "number", "nullable": True}}}},
                    "ranking": {"type": "array", "items": {"type": "object"}}}}),
                    "422": _ERROR}}},
}
declare(api_bp, OPENAPI_PATHS)


def _private(response, status: int = 200):
    response = make_response(response, status)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _form(names) -> dict:
    return {name: request.form.get(name) for name in names}


def _body(path: str) -> dict:
    """The request's JSON object, its fields of the types OPENAPI_PATHS declares."""
    return json_request(OPENAPI_PATHS, path)


def _choices(session) -> dict:
    """What the forms offer: the scope's villages/townships, branches, cadres and units."""
    scope = current_scope()
    regions = session.execute(select(Region.code, Region.name, Region.level).where(
        scope.regions(), Region.level != "county", Region.current(),
        scope.in_region(Region.code)).order_by(Region.code).limit(500)).all()
    branches = session.execute(select(PartyBranch.code, PartyBranch.name, PartyBranch.weak).where(
        PartyBranch.county_code == scope.county_code,
        scope.in_region(PartyBranch.village_code)).order_by(
        PartyBranch.weak.desc(), PartyBranch.code).limit(500)).all()
    cadres = session.execute(select(Cadre.code, Cadre.name, Cadre.title).where(
        Cadre.county_code == scope.county_code).order_by(Cadre.code).limit(1000)).all()
    units = session.execute(select(Unit.code, Unit.name).where(
        Unit.county_code == scope.county_code).order_by(Unit.code).limit(500)).all()
    return {"regions": regions, "branches": branches, "cadres": cadres, "units": units}


# --- 挂牌销号 ---------------------------------------------------------------------------------


@bp.route("/targets", methods=["GET", "POST"], endpoint="targets")
@requires("view_ledgers")
def targets_page():
    """The 挂牌 list (overdue first) and, for those who may, the form to tag a new target."""
    session, error = db_session(), None
    if request.method == "POST":
        target, error = attempt(session, lambda: targets.tag(session, current_user,
                                                             _form(TARGET_FIELDS)))
        if not error:
            flash(_("已挂牌，编号 %(id)s", id=target.id), "info")
            return redirect(url_for("ledgers.target", target_id=target.id))
    status = request.args.get("status") or None
    rows = targets.listing(session, current_scope(), status=status,
                           overdue_only=request.args.get("overdue") == "1")
    return _private(render_template(
        "ledgers/targets.html", rows=rows, labels=targets.STATUS_LABELS,
        kinds=targets.KIND_LABELS, status=status, form=request.form, **refusal(error),
        counts=targets.counts(session, current_scope()),
        **(_choices(session) if can("manage_targets") else {})), form_status(error))


@bp.route("/targets/<int:target_id>", endpoint="target")
@requires("view_ledgers")
def target_page(target_id: int):
    """One target: plan, steps, liaison, deadline, its whole history and the steps allowed."""
    session = db_session()
    target = targets.get(session, current_user, target_id)
    asker = target.close_requested_by
    return _private(render_template(
        "ledgers/target.html", **targets.describe(session, target), labels=targets.STATUS_LABELS,
        actions=targets.ACTION_LABELS, kinds=targets.KIND_LABELS,
        may_decide=(target.status == "close_requested" and can("manage_targets")
                    and asker is not None and asker != current_user.id)))


def _target_action(target_id: int, data) -> object:
    """The target after one action of `data` (uncommitted: the page and the API commit)."""
    session = db_session()
    action, version = data.get("action"), data.get("version")
    targets.get(session, current_user, target_id)  # out of scope: not found, whatever was asked
    if action == "note":
        target = targets.note(session, current_user, target_id, expected_version=version,
                              text=data.get("note"))
    elif action == "milestone":
        target = targets.complete_milestone(session, current_user, target_id, data.get("milestone"),
                                            expected_version=version, done_on=data.get("done_on"))
    elif action == "request_close":
        target = targets.request_close(session, current_user, target_id, expected_version=version,
                                       evidence=data.get("evidence"), note=data.get("note"))
    elif action in ("approve_close", "refuse_close"):
        target = targets.decide_close(session, current_user, target_id, expected_version=version,
                                      approve=action == "approve_close", note=data.get("note"))
    elif action in ("review", "reopen"):
        target = targets.review(session, current_user, target_id, expected_version=version,
                                holds=action == "review", note=data.get("note"),
                                due_on=data.get("due_on"))
    else:
        raise BadInput(N_("action 应是 %(choices)s 之一", choices=", ".join(TARGET_ACTIONS)),
                       field="action")
    return target


@bp.route("/targets/<int:target_id>/actions", methods=["POST"], endpoint="target_act")
@requires("work_on_target")
def target_act_page(target_id: int):
    """A button or form of the target page; refusals come back as a message on the page."""
    _target, done = attempt_or_flash(db_session(), lambda: _target_action(target_id, request.form),
                                     raises=lambda refused: refused.status == 404)
    if done:
        flash(_("已记录：%(action)s", action=text_of(targets.ACTION_LABELS.get(
            request.form.get("action"), request.form.get("action") or ""))), "info")
    return redirect(url_for("ledgers.target", target_id=target_id))


# --- meetings, deeds, diary, pairing -------------------------------------------------------


def _period():
    return dashboard.period_of(request.args.get("from"), request.args.get("to")) \
        if (request.args.get("from") or request.args.get("to")) else None


@bp.route("/meetings", methods=["GET", "POST"], endpoint="meetings")
@requires("keep_ledgers")
def meetings_page():
    """Meetings held (newest first) and the form to record one."""
    session, error = db_session(), None
    if request.method == "POST":
        meeting, error = attempt(session, lambda: ledgers.record_meeting(
            session, current_user, _form(MEETING_FIELDS)))
        if not error:
            flash(_("已登记会议"), "info")
            return redirect(url_for("ledgers.meeting", meeting_id=meeting.id))
    period = _period()
    rows = ledgers.meetings(session, current_user, start=period and period.start,
                            end=period and period.end)
    return _private(render_template(
        "ledgers/meetings.html", rows=rows, kinds=ledgers.MEETING_KIND_LABELS, form=request.form,
        **refusal(error), regions=_choices(session)["regions"]), form_status(error))


@bp.route("/meetings/<int:meeting_id>", methods=["GET", "POST"], endpoint="meeting")
@requires("keep_ledgers")
def meeting_page(meeting_id: int):
    """One meeting, the issues raised at it, and the form to add one (into the lifecycle)."""
    session, error = db_session(), None
    meeting = ledgers.get_meeting(session, current_user, meeting_id)
    if request.method == "POST":
        issue, error = attempt(session, lambda: ledgers.raise_issue(
            session, current_user, meeting_id, _form(ISSUE_FIELDS)))
        if not error:
            flash(_("已登记事项 %(code)s", code=issue.code), "info")
            return redirect(url_for("ledgers.meeting", meeting_id=meeting_id))
        meeting = ledgers.get_meeting(session, current_user, meeting_id)
    region = session.execute(select(Region.name).where(
        Region.code == meeting.region_code, Region.current())).scalar()
    organiser = meeting.organiser_cadre_id and session.get(Cadre, meeting.organiser_cadre_id)
    return _private(render_template(
        "ledgers/meeting.html", meeting=meeting, region=region,
        organiser=organiser.name if organiser else None, kinds=ledgers.MEETING_KIND_LABELS,
        issues=ledgers.meeting_issues(session, current_user, meeting),
        categories=categories.all_of(session, current_user.county_code), form=request.form,
        **refusal(error)), form_status(error))


@bp.route("/deeds", methods=["GET", "POST"], endpoint="deeds")
@requires("keep_ledgers")
def deeds_page():
    """Deeds done for residents (办实事), newest first, and the form to record one."""
    session, error = db_session(), None
    if request.method == "POST":
        _deed, error = attempt(session, lambda: ledgers.record_deed(session, current_user,
                                                                _form(DEED_FIELDS)))
        if not error:
            flash(_("已登记办实事"), "info")
            return redirect(url_for("ledgers.deeds"))
    period = _period()
    rows = ledgers.deeds(session, current_user, start=period and period.start,
                         end=period and period.end)
    return _private(render_template(
        "ledgers/deeds.html", rows=rows, form=request.form or request.args, **refusal(error),
        regions=_choices(session)["regions"]), form_status(error))


@bp.route("/diary", methods=["GET", "POST"], endpoint="diary")
@requires("keep_ledgers")
def diary_page():
    """The 民情日记: visit notes and free entries, searchable; the form to write an entry."""
    session, error = db_session(), None
    if request.method == "POST":
        _entry, error = attempt(session, lambda: ledgers.write_entry(session, current_user,
                                                                 _form(("body", "region"))))
        if not error:
            flash(_("已记入民情日记"), "info")
            return redirect(url_for("ledgers.diary"))
    q = request.args.get("q") or None
    lines = ledgers.diary(session, current_user, q=q, mine=request.args.get("mine") == "1")
    return _private(render_template(
        "ledgers/diary.html", lines=lines, q=q or "", mine=request.args.get("mine") == "1",
        form=request.form, **refusal(error)), form_status(error))


@bp.route("/pairings", endpoint="pairings")
@requires("view_ledgers")
def pairings_page():
    """结对帮扶: paired households and the help they got (visits, deeds) in the period."""
    period = dashboard.period_of(request.args.get("from"), request.args.get("to"))
    rows = ledgers.pairings(db_session(), current_user, start=period.start, end=period.end)
    return _private(render_template("ledgers/pairings.html", rows=rows, period=period))


# --- dashboard -----------------------------------------------------------------------------


def _dashboard_data():
    session, scope = db_session(), current_scope()
    period = dashboard.period_of(request.args.get("from"), request.args.get("to"))
    return period, dashboard.figures(session, scope, period), dashboard.ranking(session, scope, period)


@bp.route("/dashboard", endpoint="dashboard")
@requires("view_dashboard")
def dashboard_page():
    """The figures of the period with the change since the last one, and the ranking."""
    period, figures, ranking = _dashboard_data()
    region = db_session().execute(select(Region.name).where(
        Region.code == current_scope().region_code, Region.current())).scalar()
    return _private(render_template(
        "ledgers/dashboard.html", period=period, previous=dashboard.previous(period),
        year_on_year=dashboard.year_on_year(period),
        figures=figures, labels=dashboard.FIGURES, listable=dashboard.ROWS, ranking=ranking,
        region=region, query=request.args.to_dict(), printing=request.args.get("print") == "1"))


@bp.route("/dashboard.<any(csv, xlsx):fmt>", endpoint="dashboard_download")
@requires("export_aggregate")
def dashboard_download(fmt: str):
    """The figures as a spreadsheet (one row per figure: this period, the previous, change)."""
    period, figures, _ranking = _dashboard_data()
    rows = [{"figure": text_of(dashboard.FIGURES[f.key][0]), "value": f.value,
             "previous": f.previous, "change": f.change} for f in figures]
    columns = [Column("figure", "指标", "text"),
               Column("value", f"{period.start}—{period.end}"), Column("previous", "上期"),
               Column("change", "变化")]
    return download(fmt, f"{current_user.county_code}_通报_{period.start}_{period.end}", columns, rows)


PAGE_ROWS, DOWNLOAD_ROWS = 1000, 200_000  # a page stays light; the download carries the rest
ROW_COLUMNS = {
    "households_visited": [("code", _l("户编码")), ("village", _l("村（社区）")), ("grid_code", _l("网格")),
                           ("last_visit", _l("最近走访"))],
    "paired_households": [("code", _l("户编码")), ("village", _l("村（社区）")), ("grid_code", _l("网格")),
                          ("last_visit", _l("最近走访"))],
    "grids": [("code", _l("网格编码")), ("name", _l("网格")), ("village", _l("村（社区）"))],
    "meetings": [("id", _l("编号")), ("held_at", _l("时间")), ("region", _l("地点")), ("attendance", _l("参会人数")),
                 ("topics", _l("议题"))],
    "deeds": [("id", _l("编号")), ("done_on", _l("日期")), ("title", _l("实事")), ("region", _l("村（社区）")),
              ("cost_yuan", _l("投入（元）"))],
}


@bp.route("/dashboard/rows/<any({}):figure>".format(", ".join(dashboard.ROWS)), endpoint="rows")
@requires("view_dashboard")
def rows_page(figure: str):
    """The rows behind one figure (households by code only); `?format=csv|xlsx` downloads."""
    period = dashboard.period_of(request.args.get("from"), request.args.get("to"))
    fmt = request.args.get("format")
    downloading = fmt in ("csv", "xlsx") and can("export_detail")
    limit = DOWNLOAD_ROWS if downloading else PAGE_ROWS
    rows = dashboard.rows(db_session(), current_scope(), figure, period, limit=limit + 1)
    cut, rows = len(rows) > limit, rows[:limit]
    if downloading:
        columns = [Column(key, str(label), "text") for key, label in ROW_COLUMNS[figure]]
        return download(fmt, f"{current_user.county_code}_{figure}_{period.start}_{period.end}",
                        columns, rows)
    return _private(render_template(
        "ledgers/rows.html", figure=figure, label=dashboard.FIGURES[figure][0], rows=rows,
        columns=ROW_COLUMNS[figure], period=period, query=request.args.to_dict(), cut=cut,
        limit=limit))


# --- JSON ----------------------------------------------------------------------------------


def _target_json(target) -> dict:
    return {"id": target.id, "status": target.status, "version": target.version,
            "due_on": target.due_on.isoformat()}


@api_bp.route("/api/targets", methods=["GET"], endpoint="targets")
@requires("view_ledgers")
def targets_json():
    """The 挂牌 list as JSON."""
    rows = targets.listing(db_session(), current_scope())
    return _private(jsonify(targets=[{**row.__dict__, "due_on": row.due_on.isoformat()}
                                     for row in rows]))


@api_bp.route("/api/targets", methods=["POST"], endpoint="tag")
@requires("manage_targets")
def tag_json():
    """Tag a target: 201 with it."""
    session = db_session()
    target = targets.tag(session, current_user, _body("/api/targets"))
    session.commit()
    return jsonify(target=_target_json(target)), 201


@api_bp.route("/api/targets/<int:target_id>/actions", methods=["POST"], endpoint="target_act")
@requires("work_on_target")
def target_act_json(target_id: int):
    """`{"action": "request_close", "version": 3, "evidence": "…"}` → the target after it."""
    target = _target_action(target_id, _body("/api/targets/{target_id}/actions"))
    db_session().commit()
    return jsonify(target=_target_json(target))


@api_bp.route("/map/targets.geojson", endpoint="layer")
@requires("view_ledgers")
def targets_layer():
    """The 挂牌 layer: each target's place, with its state and whether it is overdue; answered
    as the map's other layers are (validator, gzip, map.js's compact encoding, the basemap's
    datum)."""
    return geojson_response(for_display(targets.layer_json(db_session(), current_scope())))


@api_bp.route("/api/meetings", methods=["POST"], endpoint="meetings")
@requires("record_ledger")
def meeting_json():
    """Record a meeting: 201 with its id."""
    session = db_session()
    meeting = ledgers.record_meeting(session, current_user, _body("/api/meetings"))
    session.commit()
    return jsonify(id=meeting.id), 201


@api_bp.route("/api/deeds", methods=["POST"], endpoint="deeds")
@requires("record_ledger")
def deed_json():
    """Record a deed done: 201 with its id."""
    session = db_session()
    deed = ledgers.record_deed(session, current_user, _body("/api/deeds"))
    session.commit()
    return jsonify(id=deed.id), 201


@api_bp.route("/api/dashboard", endpoint="dashboard")
@requires("view_dashboard")
def dashboard_json():
    """The dashboard's figures, the previous period's and the ranking."""
    period, figures, ranking = _dashboard_data()
    return _private(jsonify(
        start=period.start.isoformat(), end=period.end.isoformat(),
        figures=[{"key": f.key, "value": f.value, "previous": f.previous} for f in figures],
        ranking=ranking))


# --- visit campaigns and checks ------------------------------------------------------------


@bp.route("/campaigns", methods=["GET", "POST"], endpoint="campaigns")
@requires("view_ledgers")
def campaigns_page():
    """Visit campaigns of the region with their progress, and the form to set one up."""
    session, error = db_session(), None
    if request.method == "POST":
        created, error = attempt(session, lambda: campaigns.create(session, current_user,
                                                                   _form(CAMPAIGN_FIELDS)))
        if not error:
            campaign, covered = created
            flash(_("已发起走访活动，共 %(n)s 户", n=covered), "info")
            return redirect(url_for("ledgers.campaign", campaign_id=campaign.id))
    return _private(render_template(
        "ledgers/campaigns.html", rows=campaigns.listing(session, current_user),
        rules=campaigns.RULES, form=request.form, **refusal(error),
        regions=_choices(session)["regions"] if can("run_campaigns") else []), form_status(error))


@bp.route("/campaigns/<int:campaign_id>", endpoint="campaign")
@requires("view_ledgers")
def campaign_page(campaign_id: int):
    """One campaign's progress by grid or by paired cadre, least done first."""
    session = db_session()
    campaign = campaigns.get(session, current_user, campaign_id)
    by = "cadre" if request.args.get("by") == "cadre" else "grid"
    rows = campaigns.progress(session, current_user, campaign, by)
    return _private(render_template(
        "ledgers/campaign.html", campaign=campaign, rows=rows, by=by, rules=campaigns.RULES,
        households=sum(r.households for r in rows), visited=sum(r.visited for r in rows)))


@bp.route("/checks", methods=["GET", "POST"], endpoint="checks")
@requires("check_visits")
def checks_page():
    """抽查: draw logged visits at random; record for each whether it really happened."""
    session = db_session()
    if request.method == "POST":
        if request.form.get("check"):
            _check, done = attempt_or_flash(session, lambda: campaigns.record_check(
                session, current_user, request.form.get("check"), _form(("method", "result", "note"))))
            if done:
                flash(_("已记录核查结果"), "info")
        else:
            drawn, done = attempt_or_flash(session, lambda: campaigns.draw(
                session, current_user, _form(("n", "from", "to"))))
            if done:
                flash(_("已抽取 %(n)s 条走访记录", n=drawn), "info")
        return redirect(url_for("ledgers.checks"))
    return _private(render_template(
        "ledgers/checks.html", pending=campaigns.checks(session, current_user),
        done=campaigns.checks(session, current_user, pending=False),
        methods=campaigns.METHOD_LABELS, results=campaigns.RESULT_LABELS))
