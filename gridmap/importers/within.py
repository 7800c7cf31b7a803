"""An import limited to one region: a township's staff bring in only their township's rows.

A row is placed by the region codes it names (a region's own code, any field referring to
a region, a grid's village); a row that names none cannot be placed and is refused, and so
is a row that would change one already stored outside the region (same code, elsewhere).
Every refusal names the row, the field and the code, like any other problem.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from gridmap.errors import _
from gridmap.importers.report import ImportReport, Problem
from gridmap.importers.specs import TableSpec

# Tables whose stored rows have a place: the column holding it, by table.
STORED_PLACE = {"region": "code", "grid": "village_code", "household": "village_code",
                "party_branch": "village_code"}
HINT = _("只能导入本辖区的数据：请删去这些行，辖区外的数据请县级管理员导入")


def check(connection: Connection, spec: TableSpec, source, rows: list[dict], county_code: str,
          region_code: str, report: ImportReport, known: dict) -> None:
    """File a problem for every row of `rows` that is not inside `region_code`."""
    villages = _grid_villages(connection, county_code, known)
    if spec.table == "grid":
        villages.update({row["code"]: row["village_code"] for row in rows})
    stored = _stored_places(connection, spec, county_code, rows)
    for row in rows:
        places = [("code", row["code"])] if spec.table == "region" else []
        for field in spec.fields:
            value = row.get(field.name)
            if field.ref is None or not value:
                continue
            if field.ref.table == "region":
                places.append((field.name, value))
            elif field.ref.table == "grid":
                places.append((field.name, villages.get(value, value)))
        if not places:
            report.add(Problem(source.name, row["_where"], "", _("没有填写所在的村或网格，无法确认在辖区 %(scope)s 内",
                                                                   scope=region_code),
                               _("请填写 village_code 或 grid_code")))
            continue
        for name, place in places:
            if not place.startswith(region_code):
                report.add(Problem(source.name, row["_where"], name,
                                   _("%(code)s 不在您的辖区 %(scope)s 内", code=place, scope=region_code), HINT))
                break
        else:
            key = row.get("code")
            if key in stored and not (stored[key] or "").startswith(region_code):
                report.add(Problem(source.name, row["_where"], "code",
                                   _("%(code)s 已登记在辖区外的 %(place)s", code=key, place=stored[key] or "—"), HINT))
        if report.full:
            return


def _grid_villages(connection: Connection, county_code: str, known: dict) -> dict[str, str]:
    if "within:grids" not in known:
        known["within:grids"] = dict(connection.execute(text(
            "SELECT code, village_code FROM grid WHERE county_code = :c AND valid_to IS NULL"),
            {"c": county_code}).all())
    return known["within:grids"]


def _stored_places(connection: Connection, spec: TableSpec, county_code: str, rows: list[dict]) -> dict:
    column = STORED_PLACE.get(spec.table)
    codes = [row["code"] for row in rows if row.get("code")]
    if column is None or not codes:
        return {}
    current = " AND valid_to IS NULL" if spec.table in ("region", "grid") else ""
    return dict(connection.execute(text(
        f"SELECT code, {column} FROM {spec.table} WHERE county_code = :c AND code = ANY(:codes){current}"),
        {"c": county_code, "codes": codes}).all())
