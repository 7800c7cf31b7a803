"""Writes the importer test fixtures (small, made here, free to redistribute).

    .venv/bin/python tests/data/importers/make.py

One WGS84 source (a village of two grids, near 102.4°E 25.5°N) is written as:
GCJ-02 GeoJSON (as traced on a Gaode basemap), a zipped shapefile in EPSG:4524 with GBK
attribute names and no .cpg (as a land bureau sends), a GeoPackage with two layers, a KML;
households as a GBK CSV and as an XLSX with a merged title row, blank rows and codes
Excel turned into numbers (village and grid codes, phones: up to 15 digits survive).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
from openpyxl import Workbook
from shapely.geometry import box, mapping

from gridmap import geo

HERE = Path(__file__).resolve().parent
VILLAGE = "532329104201"
GRIDS = [  # (code, name, shape): two grids tiling the west half of the village
    (f"{VILLAGE}001", "插甸村第1网格", box(102.30, 25.40, 102.35, 25.50)),
    (f"{VILLAGE}002", "插甸村第2网格", box(102.35, 25.40, 102.40, 25.50)),
]
HOUSEHOLDS = [("53232910420100001", "李国华", "13812345678", 102.32, 25.45),
              ("53232910420100002", "张秀英", "13912345678", 102.37, 25.45)]


def grids_wgs84() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": [g[0] for g in GRIDS], "village_code": [VILLAGE] * 2,
                             "name": [g[1] for g in GRIDS]},
                            geometry=[g[2].segmentize(0.01) for g in GRIDS], crs="EPSG:4326")


def write_gcj02() -> None:
    features = [{"type": "Feature", "properties": {"code": code, "village_code": VILLAGE, "name": name},
                 "geometry": mapping(geo.shift_geometry(shape.segmentize(0.01), "gcj02"))}
                for code, name, shape in GRIDS]
    (HERE / "grids_gcj02.geojson").write_text(json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False), encoding="utf-8")


def write_gbk_shapefile() -> None:
    frame = grids_wgs84().rename(columns={"code": "网格代码", "village_code": "村代码", "name": "网格名称"})
    frame = frame.to_crs("EPSG:4524")
    folder = HERE / "_shp"
    folder.mkdir(exist_ok=True)
    frame.to_file(folder / "grids.shp", encoding="GBK", engine="pyogrio")
    with zipfile.ZipFile(HERE / "grids_gbk_4524.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for part in sorted(folder.iterdir()):
            if part.suffix.lower() != ".cpg":  # the encoding is ours to detect
                archive.write(part, part.name)
            part.unlink()
    folder.rmdir()


def write_gpkg_and_kml() -> None:
    frame = grids_wgs84()
    gpkg = HERE / "grids.gpkg"
    gpkg.unlink(missing_ok=True)
    frame.to_file(gpkg, layer="grids", engine="pyogrio")
    frame.iloc[:1].to_file(gpkg, layer="other", engine="pyogrio")
    kml = HERE / "grids.kml"
    kml.unlink(missing_ok=True)
    frame.to_file(kml, driver="KML", engine="pyogrio")


def write_households() -> None:
    header = "code,village_code,grid_code,head_name,phone,lon,lat\n"
    body = "".join(f"{c},{VILLAGE},{VILLAGE}00{i},{n},{p},{lon},{lat}\n"
                   for i, (c, n, p, lon, lat) in enumerate(HOUSEHOLDS, 1))
    (HERE / "households_gbk.csv").write_bytes((header + body).encode("gb18030"))
    book = Workbook()
    sheet = book.active
    sheet.title = "住户"
    sheet.append(["插甸村住户登记表"])
    sheet.merge_cells("A1:G1")
    sheet.append(["code", "village_code", "grid_code", "head_name", "phone", "lon", "lat"])
    for i, (code, name, phone, lon, lat) in enumerate(HOUSEHOLDS, 1):
        sheet.append([code, int(VILLAGE), int(f"{VILLAGE}00{i}"), name, int(phone), lon, lat])
        sheet.append([])
    book.save(HERE / "households.xlsx")


def main() -> None:
    write_gcj02()
    write_gbk_shapefile()
    write_gpkg_and_kml()
    write_households()


if __name__ == "__main__":
    main()
