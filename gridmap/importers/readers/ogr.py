"""Shapefile (plain or zipped), GeoPackage and KML, read with pyogrio (GDAL).

Attributes become cells, shapes come back in lon/lat (`importers.coordinates`). A
shapefile without a .cpg is read byte for byte and decoded as UTF-8 when it is, else as
GBK/GB18030 (what land-bureau exports from Chinese ArcGIS/MapGIS hold), with a note.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import shapely

from gridmap.errors import _
from gridmap.importers import coordinates, fields, layouts
from gridmap.importers.report import ImportReport, Limits, Problem
from gridmap.importers.sources import Reader, Record, Source, cells_fit

POLYGONS_POINTS = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                   "GeometryCollection")
RE_EXPORT = _("请用 GIS 软件重新导出（Shapefile 要连同 .shp/.shx/.dbf/.prj 一起打成 zip）")


def ogr_records(source: Source, _content, columns: dict[str, bool], limits: Limits,
                report: ImportReport) -> Iterator[Record]:
    """Features of one layer of a Shapefile, zipped Shapefile, GeoPackage or KML."""
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    target = _target(source, report)
    if target is None:
        return
    try:
        layer = _layer(source, pyogrio.list_layers(target), report)
        if layer is None:
            return
        info = pyogrio.read_info(target, layer=layer)
        raw = _needs_guess(source, info)
        frame = pyogrio.read_dataframe(target, layer=layer, encoding="latin1" if raw else None,
                                       max_features=limits.max_rows + 1, fid_as_index=False)
    except (DataSourceError, DataLayerError, RuntimeError, ValueError, OSError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        report.add(Problem(source.name, problem=_("无法读取文件（%(reason)s）", reason=reason), hint=RE_EXPORT))
        return
    if len(frame) > limits.max_rows:
        report.add(Problem(source.name, problem=_("要素数超过上限 %(limit)s", limit=limits.max_rows),
                           hint=_("请拆分文件后分别导入")))
        return
    names = list(frame.columns.drop("geometry"))
    decode = None
    if raw:
        decode = _guess_encoding(source, names, frame, report)
        frame = frame.rename(columns={n: decode(n) for n in names})
        names = [decode(n) for n in names]
    if info.get("driver") in ("KML", "LIBKML"):
        renames = layouts.kml(names)
        frame = frame.drop(columns=[n for n, to in renames.items() if to is None]).rename(
            columns={n: to for n, to in renames.items() if to})
        names = list(frame.columns.drop("geometry"))
    try:
        convert, note = coordinates.converter(source.crs, info.get("crs"))
        shapes = [None if g is None else convert(g) for g in frame.geometry.array]
        coordinates.check_lonlat_file(shapes, coordinates.declared(source.crs, info.get("crs")))
    except coordinates.CrsProblem as exc:
        report.add(Problem(source.name, problem=exc.problem, hint=exc.hint))
        return
    if note:
        report.note(source.name, note)
    yield from _records(source, frame, names, shapes, decode, columns, limits, report)


def _records(source, frame, names, shapes, decode, columns, limits, report) -> Iterator[Record]:
    unknown: set[str] = set()
    flattened = 0
    layout_noted = False
    for index, (values, shape) in enumerate(zip(frame[names].itertuples(index=False, name=None), shapes,
                                                strict=True), 1):
        properties = {name: (decode(v) if decode and isinstance(v, str) else v) for name, v in zip(
            names, values, strict=True)}
        datav = layouts.datav(properties)
        if datav is not None:
            properties = datav
            if not layout_noted:
                report.note(source.name, _("按 %(layout)s 格式读取（adcode → code）", layout=layouts.DATAV))
                layout_noted = True
        cells = {}
        for name, value in properties.items():
            field = source.column(str(name), columns)
            if field not in columns:
                unknown.add(str(name))
                continue
            cells[field] = layouts.cell_text(value)
        code = cells.get("code") or cells.get("login")
        where = _("要素 #%(index)s (code=%(code)s)", index=index, code=fields.readable(code)) \
            if code else _("要素 #%(index)s", index=index)
        if not cells_fit(source, where, cells, limits, report):
            continue
        if shape is not None and (shapely.has_z(shape) or _has_m(shape)):
            shape = shapely.force_2d(shape)
            flattened += 1
        yield Record(where, cells, set(), shape)
    if flattened:
        report.note(source.name, _("%(count)s 个要素带有高程 Z/测量值 M，已去掉，只保留平面坐标", count=flattened))
    if unknown:
        names = sorted(fields.readable(n) for n in unknown)
        report.note(source.name, _("忽略了未知属性 %(names)s", names=", ".join(names[:20])))


def _has_m(shape) -> bool:
    has_m = getattr(shapely, "has_m", None)  # shapely ≥ 2.1
    return bool(has_m(shape)) if has_m is not None else False


def _target(source: Source, report: ImportReport):
    """What pyogrio opens: the path (a .shp finds its .dbf/.prj/.cpg beside it) or the bytes."""
    if source.suffix == "zip":
        try:
            with zipfile.ZipFile(source.path or io.BytesIO(source.read())) as archive:
                bad = archive.testzip()
                members = archive.namelist()
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            report.add(Problem(source.name, problem=_("压缩包已损坏或不完整（%(reason)s）", reason=str(exc)[:100]),
                               hint=_("请重新打包上传")))
            return None
        if bad is not None:
            report.add(Problem(source.name, problem=_("压缩包中的 %(member)s 已损坏", member=fields.readable(bad)),
                               hint=_("请重新打包上传")))
            return None
        if not any(m.lower().endswith((".shp", ".gpkg", ".kml", ".geojson")) for m in members):
            report.add(Problem(source.name, problem=_("压缩包里没有 .shp 文件"), hint=RE_EXPORT))
            return None
    if source.suffix == "shp" and source.path is None:
        report.add(Problem(source.name, problem=_("单独的 .shp 缺少 .dbf/.shx/.prj"),
                           hint=_("请把同名的 .shp/.shx/.dbf/.prj/.cpg 打成一个 zip 上传")))
        return None
    return str(source.path) if source.path is not None else source.read()


def _layer(source: Source, layers, report: ImportReport) -> str | None:
    names = [str(row[0]) for row in layers]
    if source.layer:
        if source.layer in names:
            return source.layer
        report.add(Problem(source.name, problem=_("没有图层 %(layer)s", layer=fields.readable(source.layer)),
                           hint=_("可用的图层：%(layers)s", layers=", ".join(names[:20]))))
        return None
    if len(names) == 1:
        return names[0]
    if not names:
        report.add(Problem(source.name, problem=_("文件里没有图层"), hint=RE_EXPORT))
        return None
    report.add(Problem(source.name, problem=_("文件有 %(count)s 个图层", count=len(names)),
                       hint=_("请用 --layer 选择一个：%(layers)s", layers=", ".join(names[:20]))))
    return None


def _needs_guess(source: Source, info: dict) -> bool:
    """A shapefile with no .cpg: its attribute bytes' encoding is ours to find."""
    if info.get("driver") != "ESRI Shapefile":
        return False
    if source.suffix == "zip":
        with zipfile.ZipFile(source.path or io.BytesIO(source.read())) as archive:
            return not any(m.lower().endswith(".cpg") for m in archive.namelist())
    return not (source.path is not None and any(
        source.path.with_suffix(suffix).exists() for suffix in (".cpg", ".CPG")))


def _guess_encoding(source: Source, names, frame, report: ImportReport):
    """A decoder of the latin-1 texts read: UTF-8 when every text is UTF-8, else GB18030."""
    texts = [*names, *(v for n in names if frame[n].dtype == object for v in frame[n] if isinstance(v, str))]
    raw = [t.encode("latin1") for t in texts]
    if all(_decodes(b, "utf-8") for b in raw):
        return lambda t: t.encode("latin1").decode("utf-8")
    if all(_decodes(b, "gb18030") for b in raw):
        if any(not b.isascii() for b in raw):
            report.note(source.name, _("Shapefile 没有 .cpg，属性按 GBK/GB18030 编码读取"))
        return lambda t: t.encode("latin1").decode("gb18030")
    report.note(source.name, _("Shapefile 没有 .cpg，属性编码无法判断，按 Latin-1 读取；"
                               "中文乱码时请加上 .cpg 文件（内容如 GBK 或 UTF-8）"))
    return str


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


SHAPEFILE = Reader("Shapefile", ("shp", "zip"), ogr_records, geometry=POLYGONS_POINTS, text="file")
GEOPACKAGE = Reader("GeoPackage", ("gpkg",), ogr_records, geometry=POLYGONS_POINTS, text="file")
KML = Reader("KML", ("kml",), ogr_records, geometry=POLYGONS_POINTS, text="file")
