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


BATCH = 20_000  # features read from GDAL at a time: a large layer never sits in memory whole
PROBE = 1_000  # features whose coordinates decide whether the layer is lon/lat at all


def ogr_records(source: Source, _content, columns: dict[str, bool], limits: Limits,
                report: ImportReport) -> Iterator[Record]:
    """Features of one layer of a Shapefile, zipped Shapefile, GeoPackage or KML, read in
    batches of `BATCH` (pyogrio's skip_features/max_features), numbered across batches.
    What GDAL cannot read, or coordinates that cannot become lon/lat, are one problem of the
    file wherever they show (opening it, or any batch)."""
    target = _target(source, report)
    if target is None:
        return
    try:
        yield from _features(source, target, columns, limits, report)
    except coordinates.CrsProblem as exc:
        report.add(Problem(source.name, problem=exc.problem, hint=exc.hint))
    except _read_errors() as exc:
        _unreadable(source, exc, report)


def _features(source: Source, target, columns: dict[str, bool], limits: Limits,
              report: ImportReport) -> Iterator[Record]:
    import pyogrio

    opened = _open_layer(source, target, report)
    if opened is None:
        return
    layer, info, raw = opened
    total = info.get("features", -1)
    if total is not None and total > limits.max_rows:
        report.add(Problem(source.name, problem=_("要素数超过上限 %(limit)s", limit=limits.max_rows),
                           hint=_("请拆分文件后分别导入")))
        return
    decode = _guess_encoding(source, _batches(pyogrio, target, layer, raw, read_geometry=False),
                             report) if raw else None
    convert, note = coordinates.converter(source.crs, info.get("crs"))
    if note:
        report.note(source.name, note)
    state = _State(source, columns, limits, report, decode, info.get("driver") in ("KML", "LIBKML"))
    for offset, frame in _batches(pyogrio, target, layer, raw):
        if offset + len(frame) > limits.max_rows:
            report.add(Problem(source.name, problem=_("要素数超过上限 %(limit)s", limit=limits.max_rows),
                               hint=_("请拆分文件后分别导入")))
            return
        shapes = [None if g is None else convert(g) for g in frame.geometry.array]
        if offset == 0:
            coordinates.check_lonlat_file(shapes[:PROBE], coordinates.declared(source.crs, info.get("crs")))
        yield from state.records(frame, shapes, offset)
    state.finish()


def _read_errors() -> tuple[type[BaseException], ...]:
    from pyogrio.errors import DataLayerError, DataSourceError

    return (DataSourceError, DataLayerError, RuntimeError, ValueError, OSError)


def _unreadable(source: Source, exc: BaseException, report: ImportReport) -> None:
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    report.add(Problem(source.name, problem=_("无法读取文件（%(reason)s）", reason=reason), hint=RE_EXPORT))


def _open_layer(source: Source, target, report: ImportReport):
    """(layer, info, attributes need their encoding guessed) or None after filing why not
    (what GDAL cannot read is raised: `ogr_records` files it)."""
    import pyogrio

    layer = _layer(source, pyogrio.list_layers(target), report)
    if layer is None:
        return None
    info = pyogrio.read_info(target, layer=layer)
    return layer, info, _needs_guess(source, info)


def _batches(pyogrio, target, layer, raw: bool, read_geometry: bool = True):
    """(offset, frame) of `BATCH` features at a time, until the layer ends."""
    offset = 0
    while True:
        frame = pyogrio.read_dataframe(target, layer=layer, encoding="latin1" if raw else None,
                                       skip_features=offset, max_features=BATCH, fid_as_index=False,
                                       read_geometry=read_geometry)
        if len(frame):
            yield offset, frame
        if len(frame) < BATCH:
            return
        offset += len(frame)


class _State:
    """What the batches of one layer share: its columns' names, and the notes made at the end."""

    def __init__(self, source, columns, limits, report, decode, kml):
        self.source, self.columns, self.limits, self.report = source, columns, limits, report
        self.decode, self.kml = decode, kml
        self.unknown: set[str] = set()
        self.flattened = 0
        self.layout_noted = False

    def records(self, frame, shapes, offset: int) -> Iterator[Record]:
        names = [str(n) for n in frame.columns.drop("geometry", errors="ignore")]
        if self.decode:
            frame = frame.rename(columns={n: self.decode(n) for n in names})
            names = [self.decode(n) for n in names]
        if self.kml:
            renames = layouts.kml(names)
            frame = frame.drop(columns=[n for n, to in renames.items() if to is None]).rename(
                columns={n: to for n, to in renames.items() if to})
            names = [str(n) for n in frame.columns.drop("geometry", errors="ignore")]
        yield from self._records(frame, names, shapes, offset)

    def _records(self, frame, names, shapes, offset) -> Iterator[Record]:
        source, decode, report = self.source, self.decode, self.report
        for index, (values, shape) in enumerate(zip(frame[names].itertuples(index=False, name=None), shapes,
                                                    strict=True), offset + 1):
            properties = {name: (decode(v) if decode and isinstance(v, str) else v) for name, v in zip(
                names, values, strict=True)}
            datav = layouts.datav(properties)
            if datav is not None:
                properties = datav
                if not self.layout_noted:
                    report.note(source.name, _("按 %(layout)s 格式读取（adcode → code）", layout=layouts.DATAV))
                    self.layout_noted = True
            cells = {}
            for name, value in properties.items():
                field = source.column(str(name), self.columns)
                if field not in self.columns:
                    self.unknown.add(str(name))
                    continue
                cells[field] = layouts.cell_text(value)
            code = cells.get("code") or cells.get("login")
            where = _("要素 #%(index)s (code=%(code)s)", index=index, code=fields.readable(code)) \
                if code else _("要素 #%(index)s", index=index)
            if not cells_fit(source, where, cells, self.limits, report):
                continue
            if shape is not None and (shapely.has_z(shape) or _has_m(shape)):
                shape = shapely.force_2d(shape)
                self.flattened += 1
            yield Record(where, cells, set(), shape)

    def finish(self) -> None:
        """The notes about the whole layer."""
        if self.flattened:
            self.report.note(self.source.name, _("%(count)s 个要素带有高程 Z/测量值 M，已去掉，只保留平面坐标",
                                                 count=self.flattened))
        if self.unknown:
            names = sorted(fields.readable(n) for n in self.unknown)
            self.report.note(self.source.name, _("忽略了未知属性 %(names)s", names=", ".join(names[:20])))


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


def _guess_encoding(source: Source, batches, report: ImportReport):
    """A decoder of the latin-1 texts read: UTF-8 when every text is UTF-8, else GB18030
    (every batch's attributes looked at, geometry left unread)."""
    utf8 = gb18030 = True
    ascii_only = True
    for _offset, frame in batches:
        names = [str(n) for n in frame.columns.drop("geometry", errors="ignore")]
        texts = [*names, *(v for n in names if frame[n].dtype == object for v in frame[n] if isinstance(v, str))]
        for raw in (t.encode("latin1") for t in texts):
            ascii_only = ascii_only and raw.isascii()
            utf8 = utf8 and _decodes(raw, "utf-8")
            gb18030 = gb18030 and _decodes(raw, "gb18030")
    if utf8:
        return lambda t: t.encode("latin1").decode("utf-8")
    if gb18030:
        if not ascii_only:
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
