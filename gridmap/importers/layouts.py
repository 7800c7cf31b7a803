"""Common public layouts read without a field mapping, and the cell text of typed values.

Aliyun DataV (`geo.datav.aliyun.com` boundaries): numeric `adcode`, `name`, `level`,
`parent: {"adcode": …}`. The code becomes text; the level follows from the code's length
(DataV's own levels, province/city/district, are not ours).
"""

from __future__ import annotations

import math

LEVEL_BY_LENGTH = {6: "county", 9: "township", 12: "village"}
# Common names of columns in region tables (NBS and county registers), read without a mapping.
COMMON_COLUMNS = {
    "全称": "full_name", "规范名称": "full_name", "标准名称": "full_name", "official_name": "full_name",
    "fullname": "full_name", "城乡分类代码": "urban_rural_code", "城乡分类": "urban_rural_code",
    "urban_rural_class": "urban_rural_code", "ur_code": "urban_rural_code",
}
DATAV = "Aliyun DataV"


def cell_text(value) -> str:
    """A typed value (a number from a .dbf, a GeoPackage, a spreadsheet) as the text of a cell.

    Whole numbers lose their `.0`, so a code stored as a number reads as the code."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def datav(properties: dict) -> dict | None:
    """A DataV feature's properties in this project's layout, or None when it is not one."""
    adcode = properties.get("adcode")
    if "code" in properties or not isinstance(adcode, int | str) or isinstance(adcode, bool):
        return None
    code = cell_text(adcode).strip()
    out = {"code": code, "name": properties.get("name")}
    level = LEVEL_BY_LENGTH.get(len(code))
    if level:
        out["level"] = level
    parent = properties.get("parent")
    if level and level != "county" and isinstance(parent, dict) and parent.get("adcode") is not None:
        out["parent_code"] = cell_text(parent["adcode"])
    elif level and level != "county":
        out["parent_code"] = code[: len(code) - 3]
    return out


# What GDAL's KML drivers give every placemark; `Name` is the placemark's own name.
KML_STANDARD = {"id", "description", "Description", "timestamp", "begin", "end", "altitudeMode",
                "tessellate", "extrude", "visibility", "drawOrder", "icon", "snippet"}


def kml(names: list[str]) -> dict[str, str | None]:
    """Renames of a KML layer's columns: `Name` → `name`; the standard ones dropped (None)."""
    renames: dict[str, str | None] = dict.fromkeys((n for n in names if n in KML_STANDARD), None)
    if "Name" in names and "name" not in names:
        renames["Name"] = "name"
    return renames
