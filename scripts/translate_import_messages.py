"""Fill the English catalog's entries for the importers' and geo.py's messages.

Run after the two pybabel commands of gridmap/translations/babel.cfg (extract, update):

    .venv/bin/python scripts/translate_import_messages.py

It sets each listed msgid's English text (and clears `fuzzy` on it: every text below was
checked against its msgid) and leaves every other entry as it is. Kept so that a merge of
messages.po can be regenerated rather than resolved by hand.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parents[1] / "gridmap/translations/en/LC_MESSAGES/messages.po"

ENGLISH = {
    # geo.py
    "CGCS2000 (EPSG:4490) 按 WGS84 (EPSG:4326) 处理，两者相差厘米级 / treated as 4326":
        "CGCS2000 (EPSG:4490) treated as WGS84 (EPSG:4326); they differ by centimetres",
    "坐标系 %(crs)s 不支持": "Coordinate reference system %(crs)s is not supported",
    "请转换为经纬度 WGS84 (EPSG:4326) 或 CGCS2000 (EPSG:4490) 后再导入；高德/腾讯 (GCJ-02)、百度 (BD-09) 坐标的转换尚未提供":
        "Convert to lon/lat WGS84 (EPSG:4326) or CGCS2000 (EPSG:4490) first; conversion from "
        "Amap/Tencent (GCJ-02) and Baidu (BD-09) coordinates is not available yet",
    "坐标不是有限数值": "Coordinates are not finite numbers",
    "请检查经度 lon / 纬度 lat 两列": "Check the longitude (lon) and latitude (lat) columns",
    "坐标 (%(lon)s, %(lat)s) 不在中国境内，经纬度可能写反了":
        "Point (%(lon)s, %(lat)s) is outside China; longitude and latitude may be swapped",
    "顺序应为 经度 lon 在前、纬度 lat 在后（如 102.40, 25.53）":
        "Longitude (lon) comes first, then latitude (lat), e.g. 102.40, 25.53",
    "坐标 (%(lon)s, %(lat)s) 不在中国境内": "Point (%(lon)s, %(lat)s) is outside China",
    "坐标应为经纬度 (EPSG:4326)，不是投影坐标（米）；如 102.40, 25.53":
        "Coordinates must be lon/lat (EPSG:4326), not projected metres; e.g. 102.40, 25.53",
    "geometry 不是 GeoJSON 几何对象": "geometry is not a GeoJSON geometry object",
    "应形如 %(example)s": "Expected something like %(example)s",
    "几何无法解析（%(reason)s）": "Geometry cannot be read (%(reason)s)",
    "请检查 coordinates 的嵌套层数和数值": "Check the nesting and the numbers of coordinates",
    "几何类型为 %(found)s，应为 %(allowed)s": "Geometry type is %(found)s; expected %(allowed)s",
    "请导出正确图层（面图层用 Polygon/MultiPolygon，点图层用 Point）":
        "Export the right layer (Polygon/MultiPolygon for area layers, Point for point layers)",
    "几何为空": "Geometry is empty",
    "请删除该要素或补画图形": "Delete the feature or draw its shape",
    "几何无效：%(reason)s": "Invalid geometry: %(reason)s",
    "请在 GIS 软件中修复（如 QGIS「修复几何」或 ST_MakeValid）后重新导入；系统不会自动修改图形":
        "Repair it in GIS software (e.g. QGIS \"Fix geometries\" or ST_MakeValid) and import again; "
        "shapes are never changed automatically",
    # core.py
    "区划": "Region", "单位": "Unit", "干部": "Cadre", "片区": "Area", "支部": "Party branch",
    "住户": "Household", "事项": "Issue", "用户": "User", "区划或网格": "Region or grid",
    "不认识的文件名": "Unrecognised file name",
    "文件名应为表名，如 %(names)s …（%(suffixes)s）":
        "Name the file after its table, e.g. %(names)s … (%(suffixes)s)",
    "与 %(other)s 是同一张表": "Same table as %(other)s",
    "每张表只导入一个文件": "Import one file per table",
    "数据库拒绝写入：%(reason)s": "The database refused the write: %(reason)s",
    "本次导入已全部回滚，未写入任何数据；请按提示修正后重试":
        "The whole import was rolled back and nothing was written; fix the problem and try again",
    "不支持的文件类型 .%(suffix)s": "Unsupported file type .%(suffix)s",
    "请用 %(formats)s": "Use %(formats)s",
    "面图层不能用 %(format)s 导入": "An area layer cannot be imported from %(format)s",
    "点图层不能用 %(format)s 导入": "A point layer cannot be imported from %(format)s",
    "请导出为 %(formats)s": "Export it as %(formats)s",
    "文件没有数据行": "The file has no data rows",
    "表头下面至少要有一行": "Put at least one row under the header",
    "与%(where)s重复（%(key)s）": "Repeats %(where)s (%(key)s)",
    "同一对象只能出现一次：删除或合并重复行": "Each object may appear only once: delete or merge the repeated rows",
    "代码 %(code)s 是数字，不是文本": "Code %(code)s is a number, not text",
    "GeoJSON 里代码要加引号：\"%(code)s\"；否则前导 0 会丢失":
        "Quote codes in GeoJSON: \"%(code)s\"; otherwise leading zeros are lost",
    "必填项为空": "Required value is empty",
    "请填写": "Fill it in",
    "经度和纬度要么都填，要么都空": "Fill in both longitude and latitude, or neither",
    "位置未知时两列都留空": "Leave both columns empty when the location is unknown",
    "缺少图形": "Shape missing",
    "每个网格都要有边界面": "Every grid needs a boundary polygon",
    "%(what)s %(code)s 不存在": "%(what)s %(code)s does not exist",
    "请先导入它（或在同一批文件中提供），或检查代码是否抄错":
        "Import it first (or include it in the same batch), or check the code for typos",
    "%(code)s 不是%(level)s级区划": "%(code)s is not a %(level)s-level region",
    "请填写对应级别的代码": "Enter a code of the right level",
    "新用户需要至少 8 位的密码": "A new user needs a password of at least 8 characters",
    "请填写初始密码（导入后保存为哈希）": "Enter an initial password (it is stored as a hash)",
    # fields.py
    "含有 NUL 字符（第 %(position)s 个字符）": "Contains a NUL character (character %(position)s)",
    "含有无效的 Unicode 代理字符 %(char)s（第 %(position)s 个字符）":
        "Contains an invalid Unicode surrogate %(char)s (character %(position)s)",
    "请删除该字符后重新导出（常见于从其他系统复制来的文本或损坏的转义）":
        "Delete the character and export again (it often comes from text copied from other "
        "systems or from broken escapes)",
    "代码 %(value)s 被存成了数字（科学计数法或小数）":
        "Code %(value)s was saved as a number (scientific notation or decimals)",
    "Excel 会把长代码变成数字：把该列设为「文本」格式、重新填写后另存为 CSV UTF-8":
        "Excel turns long codes into numbers: format the column as Text, re-enter the codes and "
        "save as CSV UTF-8",
    "代码 %(value)s 格式不对": "Code %(value)s is malformed",
    "应形如 %(example)s（按文本保存，保留前导 0）":
        "Expected something like %(example)s (saved as text, leading zeros kept)",
    "%(value)s 不是整数": "%(value)s is not a whole number",
    "请填写整数，如 3": "Enter a whole number, e.g. 3",
    "%(value)s 超出范围": "%(value)s is out of range",
    "整数应在 ±%(limit)s 之内": "Whole numbers must be within ±%(limit)s",
    "%(value)s 不是数字": "%(value)s is not a number",
    "请填写数字，小数点用英文句点，如 102.4051": "Enter a number with a full stop as the decimal point, e.g. 102.4051",
    "%(value)s 不是有限数字": "%(value)s is not a finite number",
    "请填写普通数字": "Enter an ordinary number",
    "%(value)s 不是是/否": "%(value)s is not yes/no",
    "请填写 true/false、1/0 或 是/否": "Enter true/false, 1/0 or 是/否",
    "电话 %(value)s 被存成了数字": "Phone number %(value)s was saved as a number",
    "把该列设为「文本」格式后另存为 CSV UTF-8": "Format the column as Text, then save as CSV UTF-8",
    "电话 %(value)s 格式不对": "Phone number %(value)s is malformed",
    "手机号 11 位（如 13812345678），座机如 0878-8712345":
        "Mobile numbers have 11 digits (e.g. 13812345678); landlines look like 0878-8712345",
    "身份证号 %(value)s 被存成了数字": "ID number %(value)s was saved as a number",
    "Excel 会截断 18 位号码：把该列设为「文本」格式后重新填写":
        "Excel truncates 18-digit numbers: format the column as Text and re-enter them",
    "身份证号 %(value)s 格式不对": "ID number %(value)s is malformed",
    "应为 18 位，最后一位可为 X": "It has 18 characters; the last may be X",
    "身份证号 %(value)s 校验位不对": "ID number %(value)s has a wrong check digit",
    "请核对号码（常见原因：抄错一位）": "Check the number (usually one digit was copied wrongly)",
    "%(value)s 不是 UUID": "%(value)s is not a UUID",
    "应形如 1b4e28ba-2fa1-4d2e-883f-0016d3cca427": "Expected something like 1b4e28ba-2fa1-4d2e-883f-0016d3cca427",
    "应为 JSON 对象": "Must be a JSON object",
    "不是有效的 JSON（%(reason)s）": "Not valid JSON (%(reason)s)",
    "JSON 嵌套层数过深": "JSON nested too deeply",
    "相对时间 %(value)s 太大": "Relative time %(value)s is too large",
    "相对时间应在几十年之内，如 -P3DT2H": "Relative times must be within a few decades, e.g. -P3DT2H",
    "时刻 %(time)s 不存在": "Time of day %(time)s does not exist",
    "时刻应为 00:00–23:59，如 -P12D@09:30": "Times of day run from 00:00 to 23:59, e.g. -P12D@09:30",
    "%(value)s 不在 %(first)s–%(last)s 年之间": "%(value)s is not between the years %(first)s and %(last)s",
    "请检查年份或相对时间（如 -P3DT2H）是否写错": "Check the year or the relative time (e.g. -P3DT2H) for typos",
    "%(value)s 不是时间": "%(value)s is not a time",
    "请用 ISO 8601，如 2026-11-23T09:30:00+08:00，或相对时间如 -P3DT2H":
        "Use ISO 8601, e.g. 2026-11-23T09:30:00+08:00, or a relative time such as -P3DT2H",
    "%(value)s 不是日期": "%(value)s is not a date",
    "请用 2026-12-01 这样的格式，或相对天数如 P30D": "Use the form 2026-12-01, or relative days such as P30D",
    "%(value)s 不是允许的取值": "%(value)s is not an allowed value",
    "可选：%(choices)s": "Allowed: %(choices)s",
    # report.py
    "%(place)s, 字段 %(field)s": "%(place)s, field %(field)s",
    "%(place)s: %(problem)s；%(hint)s": "%(place)s: %(problem)s; %(hint)s",
    "试运行（未写入；加 --commit 写入）": "dry run (nothing written; add --commit to write)",
    "已写入": "written",
    "未写入（出错，全部回滚）": "not written (errors; everything rolled back)",
    "导入 %(county)s: %(outcome)s，用时 %(seconds)s s": "Import %(county)s: %(outcome)s, took %(seconds)s s",
    "%(source)s %(table)s %(rows)s 行  新增 %(inserted)s  更新 %(updated)s  不变 %(unchanged)s":
        "%(source)s %(table)s rows %(rows)s  inserted %(inserted)s  updated %(updated)s  unchanged %(unchanged)s",
    "%(source)s %(table)s %(rows)s 行  将新增 %(inserted)s  将更新 %(updated)s  不变 %(unchanged)s":
        "%(source)s %(table)s rows %(rows)s  would insert %(inserted)s  would update %(updated)s  unchanged %(unchanged)s",
    "注: %(note)s": "Note: %(note)s",
    "问题 %(total)s 个（只列出前 %(shown)s 个）:": "Problems (%(total)s; only the first %(shown)s listed):",
    "问题 %(total)s 个:": "Problems (%(total)s):",
    # sources.py and readers/
    "请另存为 UTF-8：Excel「另存为 → CSV UTF-8（逗号分隔）」，WPS 导出时选择 UTF-8 编码":
        "Save as UTF-8: in Excel \"Save As → CSV UTF-8 (Comma delimited)\"; in WPS choose UTF-8 "
        "encoding when exporting",
    "文件过大（%(size)s MB），上限 %(limit)s MB": "File too large (%(size)s MB); the limit is %(limit)s MB",
    "请按乡镇或村拆分后分别导入": "Split it by township or village and import the parts separately",
    "文件是 UTF-16 编码（Excel「Unicode 文本」）": "The file is UTF-16 encoded (Excel \"Unicode Text\")",
    "文件不是 UTF-8 编码": "The file is not UTF-8 encoded",
    "文件不是 UTF-8 编码，看起来是 GBK/GB18030 编码（Excel 默认的「CSV（逗号分隔）」）":
        "The file is not UTF-8 encoded; it looks like GBK/GB18030 (Excel's default "
        "\"CSV (Comma delimited)\")",
    "文件是空的": "The file is empty",
    "请检查是否导出了正确的文件": "Check that the right file was exported",
    "文件含有 NUL 字符，不是文本文件": "The file contains NUL characters: it is not a text file",
    "请导出为 CSV 或 GeoJSON": "Export it as CSV or GeoJSON",
    "第 %(line)s 行": "line %(line)s",
    "列名重复": "Column name repeated",
    "每列只能出现一次": "Each column may appear only once",
    "未知的列": "Unknown column",
    "可用的列：%(columns)s": "Known columns: %(columns)s",
    "缺少必需的列": "Required column missing",
    "请补上这一列": "Add this column",
    "内容过长（%(length)s 字）": "Too long (%(length)s characters)",
    "每格不超过 %(limit)s 字": "At most %(limit)s characters per cell",
    "没有表头": "No header row",
    "第一行应为列名": "The first row must name the columns",
    "行数超过上限 %(limit)s": "More rows than the limit of %(limit)s",
    "请拆分文件后分别导入": "Split the file and import the parts separately",
    "有 %(found)s 列，表头有 %(header)s 列": "%(found)s columns, but the header has %(header)s",
    "检查单元格里未加引号的逗号或换行": "Look for unquoted commas or line breaks in cells",
    "CSV 格式错误（%(reason)s）": "Malformed CSV (%(reason)s)",
    "检查引号是否成对、单元格是否过长": "Check that quotes are paired and cells are not too long",
    "请用 GIS 软件重新导出 GeoJSON": "Export the GeoJSON again from GIS software",
    "不是 GeoJSON FeatureCollection": "Not a GeoJSON FeatureCollection",
    "顶层应为 %(example)s": "The top level must be %(example)s",
    "要素数 %(count)s 超过上限 %(limit)s": "%(count)s features exceed the limit of %(limit)s",
    "忽略了未知属性 %(names)s 等 %(count)s 个": "Ignored %(count)s unknown properties, among them %(names)s",
    "忽略了未知属性 %(names)s": "Ignored unknown properties %(names)s",
    "JSON 嵌套层数过深，无法读取": "JSON nested too deeply to read",
    "GeoJSON 的坐标最多嵌套 4 层：请用 GIS 软件重新导出":
        "GeoJSON coordinates nest at most 4 levels: export again from GIS software",
    "要素 #%(index)s": "feature #%(index)s",
    "不是 GeoJSON Feature": "Not a GeoJSON Feature",
    "每个要素应有 type、properties、geometry": "Each feature needs type, properties and geometry",
    "要素 #%(index)s (code=%(code)s)": "feature #%(index)s (code=%(code)s)",
    # specs.py
    "532329104 (县 6 位、乡镇 9 位、村 12 位)": "532329104 (county 6 digits, township 9, village 12)",
    "532329104201 (12 位)": "532329104201 (12 digits)",
    "532329104 (9 位)": "532329104 (9 digits)",
    "532329104201001 (村代码 + 序号)": "532329104201001 (village code + number)",
    "C000123 (字母、数字、-、_，至多 32 位)": "C000123 (letters, digits, - and _, at most 32)",
    "532329104 (县、乡镇、村或网格代码)": "532329104 (a county, township, village or grid code)",
    "zhang.san (字母、数字、. _ @ -)": "zhang.san (letters, digits, . _ @ -)",
    "应在 %(low)s–%(high)s 之间": "Must be between %(low)s and %(high)s",
    "应不小于 %(low)s": "Must be at least %(low)s",
    "不超过 %(limit)s 字": "At most %(limit)s characters",
    "%(level)s 级代码应为 %(length)s 位": "A %(level)s code has %(length)s digits",
    "县 6 位、乡镇 9 位、村 12 位": "County 6 digits, township 9, village 12",
    "代码 %(code)s 不属于本县 %(county)s": "Code %(code)s is not in this county %(county)s",
    "请只导入本县的区划": "Import only this county's regions",
    "上级代码应为 %(code)s": "The parent code should be %(code)s",
    "上级是代码去掉最后 3 位": "The parent is the code without its last 3 digits",
    "%(code)s 不在村 %(village)s 内": "%(code)s is not in village %(village)s",
    "%(child)s 应以 %(parent)s 开头": "%(child)s must start with %(parent)s",
    "角色 %(role)s 需要填写": "Role %(role)s needs this",
    "承办人填单位代码，包户干部填干部代码": "Unit handlers need a unit code, cadres a cadre code",
    "需要填写范围代码": "Scope code needed",
    "县、乡镇、村或网格代码": "A county, township, village or grid code",
    "干部和单位须且只能填一个": "Fill in exactly one of cadre and unit",
    "个人填 cadre_code，单位填 unit_code": "cadre_code for a person, unit_code for a unit",
    "%(kind)s 类包保需要填写 %(column)s": "A %(kind)s assignment needs %(column)s",
    "对象按类型填写": "Fill in the target its kind needs",
    "%(kind)s 类包保不应填写 %(column)s": "A %(kind)s assignment must not have %(column)s",
    "只填 %(column)s": "Fill in only %(column)s",
    "第一条事件的 from_status 应为空": "The first event's from_status must be empty",
    "事件从上报开始": "Events start with the report",
}


def main() -> None:
    with PO.open("rb") as po:
        catalog = read_po(po, locale="en")
    filled = 0
    for message in catalog:
        if message.id in ENGLISH:
            message.string = ENGLISH[message.id]
            message.flags.discard("fuzzy")
            filled += 1
    with PO.open("wb") as po:
        write_po(po, catalog, include_previous=False)
    print(f"{filled} of {len(ENGLISH)} English texts set in {PO}")


if __name__ == "__main__":
    main()
