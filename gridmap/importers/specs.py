"""One spec per table: its file names, columns, types, rules and natural key.

A spec knows nothing of SQL; `writers.py` writes what the specs have parsed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gridmap import codes, models
from gridmap.errors import BadInput, Message, _
from gridmap.importers import fields as f
from gridmap.importers.fields import Ref
from gridmap.users import normalise_login

REGION_CODE = f.code_parser(models.REGION_CODE.strip("^$"), _("532329104 (县 6 位、乡镇 9 位、村 12 位)"))
VILLAGE_CODE = f.code_parser(models.VILLAGE_CODE.strip("^$"), _("532329104201 (12 位)"))
TOWNSHIP_CODE = f.code_parser(r"[0-9]{9}", _("532329104 (9 位)"))
GRID_CODE = f.code_parser(models.GRID_CODE.strip("^$"), _("532329104201001 (村代码 + 序号)"))
LOCAL_CODE = f.code_parser(r"[0-9A-Za-z_-]{1,32}", _("C000123 (字母、数字、-、_，至多 32 位)"))
SCOPE_CODE = f.code_parser(r"[0-9A-Za-z]{6,24}", _("532329104 (县、乡镇、村或网格代码)"))
_LOGIN_FORMAT = f.code_parser(r"[A-Za-z0-9_.@-]{2,64}", _("zhang.san (字母、数字、. _ @ -)"))


def LOGIN(raw: str) -> str:  # noqa: N802  (a parser, named like the other field parsers)
    """Logins are case-insensitive and stored in lower case, as gridmap.users does."""
    return normalise_login(_LOGIN_FORMAT(raw))
BOOL_FLAGS = ("minimum_living", "extreme_poverty", "lifted_from_poverty", "relapse_monitoring",
              "left_behind_children", "left_behind_women", "left_behind_elderly", "elderly_alone")


def bounded_int(low: int, high: int | None = None):
    """A parser of whole numbers from `low` to `high`."""
    top = f.INT_MAX if high is None else high

    @f.columnwise(lambda cells, default: f.whole_column(cells, low, top) if default is None else None)
    def parse(raw: str) -> int:
        value = f.parse_int(raw)
        if value < low or (high is not None and value > high):
            raise f.CellProblem(_("%(value)s 超出范围", value=value),
                                _("应在 %(low)s–%(high)s 之间", low=low, high=high if high is not None else "∞"))
        return value
    return parse


def bounded_float(low: float):
    """A parser of numbers not below `low`."""
    def column(cells: list[str], default) -> list | None:
        values = f.decimal_column(cells)
        numbers = [value for value in values or () if value is not None]
        if values is None or default is not None or (numbers and min(numbers) < low):
            return None
        return values

    @f.columnwise(column)
    def parse(raw: str) -> float:
        value = f.parse_float(raw)
        if value < low:
            raise f.CellProblem(_("%(value)s 超出范围", value=f"{value:g}"), _("应不小于 %(low)s", low=f"{low:g}"))
        return value
    return parse


def bounded_text(limit: int):
    """A parser of text of at most `limit` characters."""
    def column(cells: list[str], default) -> list | None:
        if max(map(len, cells), default=0) > limit or not f.plain(cells) or not f.storable("".join(cells)):
            return None
        return [cell or default for cell in cells]

    @f.columnwise(column)
    def parse(raw: str) -> str:
        value = raw.strip()
        f.check_storable(value)  # the readers check every cell too; a parser stands on its own
        if len(value) > limit:
            raise f.CellProblem(_("内容过长（%(length)s 字）", length=len(value)), _("不超过 %(limit)s 字", limit=limit))
        return value
    return parse


@dataclass(frozen=True)
class Field:
    """One column: how to parse it, whether it is required, what it refers to, where it goes.

    `parse` is a function of the raw text, or "time"/"date" (offsets need the load's now).
    `column` is the database column ("" = not stored as is); a `ref` with to_id stores the id.
    """

    name: str
    parse: Callable[[str], object] | str = bounded_text(500)
    required: bool = False
    ref: Ref | None = None
    column: str | None = None
    code: bool = False  # a code: must be text in GeoJSON too (numbers lose leading zeros)
    default: object = None  # the value of an empty cell


@dataclass(frozen=True)
class TableSpec:
    """One importable table: its file names, fields, key, geometry and extra checks."""
    table: str
    stems: tuple[str, ...]
    fields: tuple[Field, ...]
    key: tuple[str, ...]  # natural key within the file
    geometry: tuple[str, ...] = ()  # allowed geometry types; Points may come as lon/lat columns
    geometry_required: bool = False
    check: Callable[[dict, str], list[tuple[str, Message, Message]]] | None = None  # (field, problem, hint)
    # Other field sets the database holds unique, so they must not repeat within one file
    # (rows where they are all empty are not compared).
    unique: tuple[tuple[str, ...], ...] = ()
    # The rows make grid codes (`code` in `village_code`): checked by the county's scheme (gridmap.codes).
    grid_codes: bool = False

    def field(self, name: str) -> Field:
        """The field called `name`."""
        return next(x for x in self.fields if x.name == name)

    @property
    def point_columns(self) -> bool:
        """Points may come as lon/lat columns (CSV)."""
        return self.geometry == ("Point",)


def code(name: str, parse=LOCAL_CODE, required: bool = False, ref: Ref | None = None,
         column: str | None = None) -> Field:
    """A code field: text in every format (GeoJSON numbers would lose leading zeros)."""
    return Field(name, parse, required, ref, column, code=True)


def _check_region(row: dict, county: str) -> list:
    problems = []
    length = {"county": 6, "township": 9, "village": 12}[row["level"]]
    if len(row["code"]) != length:
        problems.append(("code", _("%(level)s 级代码应为 %(length)s 位", level=row["level"], length=length),
                         _("县 6 位、乡镇 9 位、村 12 位")))
    if not row["code"].startswith(county):
        problems.append(("code", _("代码 %(code)s 不属于本县 %(county)s", code=row["code"], county=county),
                         _("请只导入本县的区划")))
    if row.get("urban_rural_code") and row["level"] != "village":
        problems.append(("urban_rural_code", _("城乡分类代码只用于村（社区）"), _("乡镇和县的这一列留空")))
    parent = row.get("parent_code")
    if row["level"] != "county" and parent != row["code"][: length - 3]:
        problems.append(("parent_code", _("上级代码应为 %(code)s", code=row["code"][: length - 3]),
                         _("上级是代码去掉最后 3 位")))
    return problems


def parse_urban_rural(raw: str) -> str:
    """An NBS 城乡分类代码 (111 … 220), text."""
    value = raw.strip()
    try:
        codes.check_urban_rural(value)
    except BadInput as refused:
        raise f.CellProblem(refused.message, _("按国家统计局《统计用区划代码和城乡划分代码》填写 3 位代码")) from None
    return value


def _in_village(child: str, parent: str):
    """The grid code in `child` is one of the village in `parent` (both schemes embed it)."""
    def check(row: dict, county: str) -> list:
        if row.get(child) and row.get(parent) and codes.village_in_grid_code(row[child]) != row[parent]:
            return [(child, _("%(code)s 不在村 %(village)s 内", code=row[child], village=row[parent]),
                     _("%(child)s 应含所在村代码 %(parent)s（村代码 + 序号，或 CJ/T 349 的第 7–18 位）",
                       child=child, parent=parent))]
        return []
    return check


def _check_user(row: dict, county: str) -> list:
    needs = {"unit_handler": "unit_code", "cadre": "cadre_code"}
    problems = []
    if row["role"] in needs and not row.get(needs[row["role"]]):
        problems.append((needs[row["role"]], _("角色 %(role)s 需要填写", role=row["role"]),
                         _("承办人填单位代码，包户干部填干部代码")))
    if row["role"] not in ("cadre",) and not row.get("scope_code"):
        problems.append(("scope_code", _("需要填写范围代码"), _("县、乡镇、村或网格代码")))
    return problems


TARGET_BY_KIND = {"village": "region_code", "first_secretary": "region_code", "work_team": "region_code",
                  "area": "area_code", "group": "grid_code", "branch": "branch_code",
                  "household": "household_code"}


# Who holds each kind (县处级领导包村，机关企事业单位包片，股所级单位包组，组工干部包支部、干部职工包户;
# 驻村第一书记 is a person, 工作队 a unit): a unit cannot 包户, a cadre cannot 包片.
ASSIGNEE_BY_KIND = {"village": "cadre_code", "area": "unit_code", "group": "unit_code", "branch": "cadre_code",
                    "household": "cadre_code", "first_secretary": "cadre_code", "work_team": "unit_code"}


def _check_assignment(row: dict, county: str) -> list:
    problems = []
    if bool(row.get("cadre_code")) == bool(row.get("unit_code")):
        problems.append(("cadre_code", _("干部和单位须且只能填一个"), _("个人填 cadre_code，单位填 unit_code")))
    elif not row.get(ASSIGNEE_BY_KIND[row["kind"]]):
        wrong = "unit_code" if ASSIGNEE_BY_KIND[row["kind"]] == "cadre_code" else "cadre_code"
        problems.append((wrong, _("%(kind)s 类包保应由%(who)s承担，不能填 %(column)s", kind=row["kind"],
                                  who=_("干部个人") if wrong == "unit_code" else _("单位"), column=wrong),
                         _("包村、包支部、包户、第一书记填 cadre_code；包片、包组、工作队填 unit_code")))
    target = TARGET_BY_KIND[row["kind"]]
    if not row.get(target):
        problems.append((target, _("%(kind)s 类包保需要填写 %(column)s", kind=row["kind"], column=target),
                         _("对象按类型填写")))
    for other in set(TARGET_BY_KIND.values()) - {target}:
        if row.get(other):
            problems.append((other, _("%(kind)s 类包保不应填写 %(column)s", kind=row["kind"], column=other),
                             _("只填 %(column)s", column=target)))
    return problems


def _check_issue_event(row: dict, county: str) -> list:
    if row["seq"] == 1 and row.get("from_status"):
        return [("from_status", _("第一条事件的 from_status 应为空"), _("事件从上报开始"))]
    return []


def _check_callback(row: dict, county: str) -> list:
    if row["reached"]:
        return [(name, _("联系上的回访需要填写 %(column)s", column=name), _("是否及时联系、是否解决、满意度都要填"))
                for name in ("contacted_in_time", "solved", "satisfaction") if row.get(name) is None]
    problems = [(name, _("未联系上的回访不应填写 %(column)s", column=name), _("未联系上时只填原因"))
                for name in ("satisfaction",) if row.get(name) is not None]
    if not row.get("unreached_reason"):
        problems.append(("unreached_reason", _("未联系上的回访需要填写原因"), _("如匿名、空号、多次未接")))
    return problems


TARGET_PLACE = {"party_branch": "party_branch_code", "region": "region_code", "grid": "grid_code"}


def _check_target(row: dict, county: str) -> list:
    """The kind names its place (a branch, a region or a grid, and only that); the status
    agrees with the close-out times and who asked."""
    problems = []
    place = TARGET_PLACE[row["kind"]]
    if not row.get(place):
        problems.append((place, _("%(kind)s 类挂牌对象需要填写 %(column)s", kind=row["kind"], column=place),
                         _("党支部填 party_branch_code，村（社区）或乡镇填 region_code，网格填 grid_code")))
    for other in set(TARGET_PLACE.values()) - {place}:
        if row.get(other):
            problems.append((other, _("%(kind)s 类挂牌对象不应填写 %(column)s", kind=row["kind"], column=other),
                             _("只填 %(column)s", column=place)))
    if (row["status"] == "closed") != (row.get("closed_at") is not None):
        problems.append(("closed_at", _("已销号（closed）的对象须填写销号时间，其他状态不应填写"),
                         _("status 为 closed 时填 closed_at")))
    if row["status"] == "listed" and (row.get("close_requested_at") or row.get("close_requested_by_login")):
        problems.append(("close_requested_at", _("挂牌整改中（listed）的对象不应填写销号申请"),
                         _("status 为 close_requested 或 closed 时才填")))
    return problems


def _check_deed(row: dict, county: str) -> list:
    if not row.get("region_code") and not row.get("household_code"):
        return [("region_code", _("需要填写 region_code 或 household_code"), _("为哪个村（社区）或哪一户办的实事"))]
    return []


def parse_money(raw: str) -> str:
    """Yuan with at most two decimals, not negative: `1200`, `35.5`."""
    value = f.parse_float(raw)
    if value < 0 or value > 1e12:
        raise f.CellProblem(_("%(value)s 超出范围", value=raw.strip()), _("应为不小于 0 的金额（元）"))
    return f"{value:.2f}"


STATUS = f.choice_parser(models.ISSUE_STATUSES)
LEVEL = f.choice_parser(models.HANDLING_LEVELS, {"村": "village", "乡镇": "township", "县": "county"})
SATISFACTION = f.choice_parser(models.SATISFACTION, {"满意": "satisfied", "基本满意": "basically_satisfied",
                                                     "不满意": "unsatisfied"})

SPECS = (
    # Recorded region code changes (撤乡设镇, mergers): before the regions, which they remap
    # (gridmap.recode; checked against the database in core.check_references).
    TableSpec("region_code_change", ("region_code_changes", "region_code_change"), (
        code("old_code", REGION_CODE, required=True), code("new_code", REGION_CODE, required=True),
        Field("changed_on", "date", True), Field("reason", bounded_text(500)),
    ), key=("old_code",)),
    TableSpec("region", ("regions", "region"), (
        code("code", REGION_CODE, required=True), Field("name", bounded_text(100), True),
        Field("level", f.choice_parser(models.REGION_LEVELS, {"县": "county", "乡镇": "township", "村": "village"}), True),
        code("parent_code", REGION_CODE, ref=Ref("region", to_id=False)),
        Field("full_name", bounded_text(200)), code("urban_rural_code", parse_urban_rural),
    ), key=("code",), geometry=("Polygon", "MultiPolygon"), check=_check_region),
    TableSpec("grid", ("grids", "grid"), (
        code("code", GRID_CODE, required=True),
        code("village_code", VILLAGE_CODE, True, Ref("region", "village", to_id=False)),
        Field("name", bounded_text(100), True),
        Field("kind", f.choice_parser(models.GRID_KINDS, {"基础网格": "basic", "专属网格": "dedicated"}),
              default="basic"),
        Field("household_target", bounded_int(0)),
    ), key=("code",), geometry=("Polygon", "MultiPolygon"), geometry_required=True, grid_codes=True),
    TableSpec("unit", ("units", "unit"), (
        code("code", required=True), Field("name", bounded_text(100), True),
        Field("kind", f.choice_parser(("agency", "enterprise", "section", "township", "village"),
                                      {"机关": "agency", "企业": "enterprise", "股所": "section",
                                       "乡镇": "township", "村": "village"}), True),
        code("region_code", REGION_CODE, ref=Ref("region", to_id=False)),
    ), key=("code",)),
    TableSpec("cadre", ("cadres", "cadre"), (
        code("code", required=True), Field("name", bounded_text(50), True),
        Field("phone", f.parse_phone), Field("title", bounded_text(100)),
        code("unit_code", ref=Ref("unit"), column="unit_id"),
    ), key=("code",)),
    TableSpec("area", ("areas", "area"), (
        code("code", required=True), Field("name", bounded_text(100), True),
        code("township_code", TOWNSHIP_CODE, True, Ref("region", "township", to_id=False)),
    ), key=("code",)),
    TableSpec("area_grid", ("area_grids", "area_grid"), (
        code("area_code", required=True, ref=Ref("area"), column="area_id"),
        code("grid_code", GRID_CODE, True, Ref("grid", to_id=False)),
    ), key=("area_code", "grid_code")),
    TableSpec("party_branch", ("party_branches", "party_branch"), (
        code("code", required=True), Field("name", bounded_text(100), True),
        code("village_code", VILLAGE_CODE, True, Ref("region", "village", to_id=False)),
        Field("weak", f.parse_bool, default=False),
    ), key=("code",)),
    TableSpec("household", ("households", "household"), (
        code("code", required=True), code("grid_code", GRID_CODE, ref=Ref("grid", to_id=False)),
        code("village_code", VILLAGE_CODE, ref=Ref("region", "village", to_id=False)),
        Field("address", bounded_text(200)), Field("head_name", bounded_text(50), True),
        Field("phone", f.parse_phone), Field("id_number", f.parse_id_number),
        Field("size", bounded_int(1, 99)),
        Field("residence_type", f.choice_parser(models.RESIDENCE_TYPES, {
            "户籍": "registered", "常住": "resident", "流动": "migrant"}), default="registered"),
        *(Field(flag, f.parse_bool, default=False) for flag in BOOL_FLAGS),
        Field("disability_category", bounded_text(16)), Field("disability_grade", bounded_int(1, 4)),
    ), key=("code",), geometry=("Point",), check=_in_village("grid_code", "village_code")),
    TableSpec("app_user", ("users", "app_user"), (
        code("login", LOGIN, required=True), Field("password", bounded_text(200), column=""),
        Field("role", f.choice_parser(models.ROLES), True),
        code("scope_code", SCOPE_CODE, ref=Ref("scope", to_id=False)),
        code("unit_code", ref=Ref("unit"), column="unit_id"),
        code("cadre_code", ref=Ref("cadre"), column="cadre_id"),
        Field("display_name", bounded_text(100)),
    ), key=("login",), check=_check_user),
    TableSpec("assignment", ("assignments", "assignment"), (
        Field("kind", f.choice_parser(models.ASSIGNMENT_KINDS), True),
        code("cadre_code", ref=Ref("cadre"), column="cadre_id"),
        code("unit_code", ref=Ref("unit"), column="unit_id"),
        code("region_code", VILLAGE_CODE, ref=Ref("region", "village", to_id=False)),
        code("area_code", ref=Ref("area"), column="area_id"),
        code("grid_code", GRID_CODE, ref=Ref("grid", to_id=False)),
        code("branch_code", ref=Ref("party_branch"), column="party_branch_id"),
        code("household_code", ref=Ref("household"), column="household_id"),
        Field("valid_from", "time"), Field("valid_to", "time"),
    ), key=("kind", "cadre_code", "unit_code", "region_code", "area_code", "grid_code",
            "branch_code", "household_code"), check=_check_assignment),
    TableSpec("issue", ("issues", "issue"), (
        code("code", required=True), Field("title", bounded_text(200), True),
        Field("description", bounded_text(2000)), Field("category", bounded_text(32), True),
        Field("urgency", f.choice_parser(models.URGENCIES, {"紧急": "urgent", "一般": "normal"}),
              default="normal"),
        Field("source", bounded_text(16), default="grid_worker"),
        code("grid_code", GRID_CODE, ref=Ref("grid", to_id=False)),
        code("village_code", VILLAGE_CODE, ref=Ref("region", "village", to_id=False)),
        code("household_code", ref=Ref("household"), column="household_id"),
        Field("reporter_name", bounded_text(50)), Field("reporter_phone", f.parse_phone),
        Field("real_name", f.parse_bool, default=False), Field("status", STATUS, default="reported"),
        Field("level", LEVEL, default="village"),
        code("responsible_unit_code", ref=Ref("unit"), column="responsible_unit_id"),
        Field("reported_at", "time", True), Field("triage_due", "time"), Field("handling_due", "time"),
        Field("feedback_due", "time"), Field("review_on", "date"), Field("status_changed_at", "time"),
        Field("closed_at", "time"), Field("satisfaction", SATISFACTION),
        Field("no_callback_reason", bounded_text(500)), Field("client_uuid", f.parse_uuid),
    ), key=("code",), geometry=("Point",), check=_in_village("grid_code", "village_code"),
        unique=(("client_uuid",),)),
    TableSpec("issue_event", ("issue_events", "issue_event"), (
        code("issue_code", required=True, ref=Ref("issue"), column="issue_id"),
        Field("seq", bounded_int(1), True, column=""),
        Field("from_status", STATUS), Field("to_status", STATUS, True),
        Field("at", "time", True), code("actor_login", LOGIN, ref=Ref("app_user"), column="actor_id"),
        Field("level", LEVEL), Field("note", bounded_text(2000)),
        Field("action", f.choice_parser(models.EVENT_ACTIONS)),
        code("actor_cadre_code", ref=Ref("cadre"), column="actor_cadre_id"),
        code("unit_code", ref=Ref("unit"), column="unit_id"), Field("due_at", "time"),
    ), key=("issue_code", "seq"), check=_check_issue_event),
    TableSpec("visit", ("visits", "visit"), (
        Field("client_uuid", f.parse_uuid),
        code("household_code", required=True, ref=Ref("household"), column="household_id"),
        code("cadre_code", ref=Ref("cadre"), column="cadre_id"),
        Field("kind", f.choice_parser(models.VISIT_KINDS, {"走访": "visit", "回访": "callback"}),
              default="visit"),
        Field("visited_at", "time", True), Field("accuracy_m", bounded_float(0)),
        Field("checklist", f.parse_json_object, default={}), Field("notes", bounded_text(2000)),
        Field("satisfaction", SATISFACTION),
        code("issue_code", ref=Ref("issue"), column="issue_id"),
    ), key=("client_uuid",), geometry=("Point",),
        # A visit without a client_uuid is known by who, whom, what and when (writers.py derives its uuid).
        unique=(("client_uuid", "household_code", "cadre_code", "kind", "visited_at"),)),
    # 回访 (a ledger like the events): added only with the issue they belong to.
    TableSpec("callback", ("callbacks", "callback"), (
        code("issue_code", required=True, ref=Ref("issue"), column="issue_id"),
        Field("seq", bounded_int(1), True, column=""),
        Field("channel", f.choice_parser(models.CALLBACK_CHANNELS, {
            "电话": "phone", "上门": "visit", "短信": "sms", "当面": "in_person", "网上": "online"}), True),
        Field("reached", f.parse_bool, True), Field("contacted_in_time", f.parse_bool),
        Field("solved", f.parse_bool), Field("satisfaction", SATISFACTION),
        Field("unreached_reason", bounded_text(500)), Field("note", bounded_text(2000)),
        Field("at", "time", True), code("by_login", LOGIN, ref=Ref("app_user"), column="by_user_id"),
        code("by_cadre_code", ref=Ref("cadre"), column="by_cadre_id"),
    ), key=("issue_code", "seq"), check=_check_callback),
    # Issue categories and their dispatch rules (gridmap.categories).
    TableSpec("issue_category", ("issue_categories", "issue_category"), (
        code("code", required=True), Field("name", bounded_text(50), True),
        Field("appeal_type", f.choice_parser(models.APPEAL_TYPES, {
            "咨询": "inquiry", "求助": "help", "投诉": "complaint", "举报": "tip_off",
            "建议": "suggestion"}), True),
        *(Field(limit, bounded_int(1, 9999), True) for limit in (
            "triage_hours", "urgent_triage_hours", "handling_days", "feedback_days")),
    ), key=("code",)),
    TableSpec("issue_ownership", ("issue_ownership",), (
        code("category_code", required=True, ref=Ref("issue_category", to_id=False)),
        code("region_code", REGION_CODE, True, Ref("region", to_id=False)),
        code("unit_code", required=True, ref=Ref("unit"), column="unit_id"),
    ), key=("category_code", "region_code")),
    # 挂牌 targets: a new one brings its history (tag, and 申请/批准销号 when so) into target_event;
    # a known one keeps its state, which the app moves on from there (gridmap.targets).
    TableSpec("target", ("targets", "target"), (
        code("code", required=True),
        Field("kind", f.choice_parser(models.TARGET_KINDS, {
            "党支部": "party_branch", "村": "region", "社区": "region", "乡镇": "region", "网格": "grid"}), True),
        code("party_branch_code", ref=Ref("party_branch"), column="party_branch_id"),
        code("region_code", REGION_CODE, ref=Ref("region", to_id=False)),
        code("grid_code", GRID_CODE, ref=Ref("grid", to_id=False)),
        Field("reason", bounded_text(500), True), Field("plan", bounded_text(4000)),
        code("liaison_cadre_code", ref=Ref("cadre"), column="liaison_cadre_id"),
        code("helping_unit_code", ref=Ref("unit"), column="helping_unit_id"),
        Field("due_on", "date", True),
        Field("status", f.choice_parser(models.TARGET_STATUSES, {
            "挂牌整改中": "listed", "申请销号": "close_requested", "已销号": "closed"}), default="listed"),
        Field("tagged_at", "time", True), Field("closed_at", "time"),
        Field("close_requested_at", "time", column=""),
        code("close_requested_by_login", LOGIN, ref=Ref("app_user"), column="close_requested_by"),
        Field("evidence", bounded_text(2000), column=""),
    ), key=("code",), check=_check_target),
    TableSpec("meeting", ("meetings", "meeting"), (
        code("code", required=True),
        Field("kind", f.choice_parser(models.MEETING_KINDS, {
            "民情恳谈会": "consultation", "院坝会": "courtyard", "议事会": "council", "其他": "other"}),
            default="consultation"),
        code("region_code", REGION_CODE, True, Ref("region", to_id=False)),
        Field("held_at", "time", True), Field("place", bounded_text(200)),
        code("organiser_cadre_code", ref=Ref("cadre"), column="organiser_cadre_id"),
        Field("attendance", bounded_int(0, 100000), True), Field("topics", bounded_text(2000), True),
    ), key=("code",), geometry=("Point",)),
    TableSpec("deed", ("deeds", "deed"), (
        code("code", required=True), Field("title", bounded_text(200), True),
        Field("detail", bounded_text(2000)),
        code("region_code", REGION_CODE, ref=Ref("region", to_id=False)),
        code("household_code", ref=Ref("household"), column="household_id"),
        code("cadre_code", ref=Ref("cadre"), column="cadre_id"),
        code("unit_code", ref=Ref("unit"), column="unit_id"),
        Field("cost_yuan", parse_money), Field("done_on", "date", True),
        code("issue_code", ref=Ref("issue"), column="issue_id"),
    ), key=("code",), check=_check_deed),
)
SPEC_BY_TABLE = {s.table: s for s in SPECS}
SPEC_BY_STEM = {stem: s for s in SPECS for stem in s.stems}
ORDER = [s.table for s in SPECS]  # dependency order
